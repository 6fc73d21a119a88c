using CharRnn;

namespace RnnGen.Tests.Samples;

/// <summary>CharRnn's command line, checkpoint folder check and sampling limits: what its README and --help promise.</summary>
public class CharRnnOptionsTests
{
    // --epochs alone runs the epochs asked for, however long they take; with --minutes, whichever comes first
    [Fact]
    public void Epochs_WithoutMinutes_LiftsTheDefaultTimeBudget()
    {
        var (_, alone) = CommandLine.Parse(["--epochs", "50"]);
        Assert.Equal(TrainSettings.NoTimeLimit, ((TrainSettings)alone!).Minutes);
        var (_, both) = CommandLine.Parse(["--epochs", "50", "--minutes", "3"]);
        Assert.Equal(3, ((TrainSettings)both!).Minutes);
        var (_, neither) = CommandLine.Parse([]);
        Assert.Equal(TrainSettings.DefaultMinutes, ((TrainSettings)neither!).Minutes);
    }

    // ids past the vocabulary are left out of sampling (top-k = the vocabulary's size, or less if asked)
    [Fact]
    public void Sampling_KeepsToTheVocabularysIds()
    {
        Vocabulary small = Vocabulary.Build("abcabcabd\n");
        Assert.Equal(small.Count, small.SampledIds(0));
        Assert.Equal(2, small.SampledIds(2));
        Assert.Equal(small.Count, small.SampledIds(100));
        Vocabulary full = Vocabulary.Build(string.Concat(Enumerable.Range(0x21, 200).Select(c => (char)c)));
        Assert.Equal(Vocabulary.Capacity, full.Count);
        Assert.Equal(0, full.SampledIds(0));
    }

    // a checkpoint folder that cannot be written to is refused before any training (not at the first save): /proc on Linux,
    // which even root cannot create files in
    [Fact]
    public void ACheckpointInAFolderThatCannotBeWritten_IsRefusedAtOnce()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test uses /proc, a folder no one can write to, which Linux has");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.CheckWritable("/proc/charrnn-test.safetensors"));
        Assert.Contains("its folder /proc is not writable", e.Message);
    }

    // a writable one is accepted, and the check leaves nothing behind
    [Fact]
    public void ACheckpointInAWritableFolder_IsAcceptedAndTheCheckLeavesNothing()
    {
        string folder = Path.Combine(Path.GetTempPath(), "charrnn-writable-" + Guid.NewGuid().ToString("N"));
        try
        {
            Checkpoint.CheckWritable(Path.Combine(folder, "sub", "m.safetensors"));
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(folder, "sub")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // `-h` gave "Unknown command '-h'"; it is help, as --help and `help` are, also after a command
    [Theory]
    [InlineData("-h")]
    [InlineData("--help")]
    [InlineData("help")]
    [InlineData("generate", "-h")]
    public void DashH_IsHelp(params string[] args) => Assert.Equal("help", CommandLine.Parse(args).Command);

    // the help line read as if --sample-length 0 turned the samples off, but 0 is refused: the help and the refusal say how
    [Fact]
    public void SampleLengthZero_IsRefusedSayingHowToTurnSamplesOff()
    {
        Assert.Contains("(--sample-every 0: none)", CommandLine.Usage);
        var e = Assert.Throws<UsageException>(() => CommandLine.Parse(["--sample-length", "0"]));
        Assert.Contains("--sample-every 0 turns the samples off", e.Message);
    }

    // the closing hints printed `--checkpoint ck/ünï côde.safetensors`, which a shell splits in two
    [Theory]
    [InlineData("checkpoints/charrnn-small.safetensors", "checkpoints/charrnn-small.safetensors")]
    [InlineData("ck/ünï côde.safetensors", "'ck/ünï côde.safetensors'")]
    [InlineData("it's.safetensors", @"'it'\''s.safetensors'")]
    [InlineData("a$b;c.safetensors", "'a$b;c.safetensors'")]
    [InlineData("", "''")]
    public void PathsInPrintedCommands_AreQuotedForTheShell(string path, string quoted) => Assert.Equal(quoted, CommandLine.Quote(path));

    // errors about the prime name --prime, and its \r\n is read as \n, as the corpus's is
    [Fact]
    public void ThePrime_IsReadAsTheCorpusIs_AndItsErrorsNameThePrimeOption()
    {
        Vocabulary vocabulary = Vocabulary.Build("ab\nba\n");
        var (text, tokens, replaced) = GenerateCommand.Prime(vocabulary, "a\r\nb");
        Assert.Equal("a\nb", text);
        Assert.Equal(3, tokens.Length);
        Assert.Equal(0, replaced);

        var e = Assert.Throws<UsageException>(() => GenerateCommand.Prime(vocabulary, "aX😀"));
        Assert.StartsWith("--prime has 2 character(s) that are not in the model's vocabulary: 'X' '😀'", e.Message);
        Assert.Contains("--prime is empty", Assert.Throws<UsageException>(() => GenerateCommand.Prime(vocabulary, "")).Message);
    }
}
