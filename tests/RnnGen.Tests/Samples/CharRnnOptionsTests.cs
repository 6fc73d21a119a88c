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
}
