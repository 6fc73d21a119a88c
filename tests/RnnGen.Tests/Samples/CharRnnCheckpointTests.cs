using CharRnn;

namespace RnnGen.Tests.Samples;

/// <summary>
/// CharRnn's checkpoint path: what a run may replace, the lock that keeps two runs apart, the earlier checkpoint kept
/// beside it, damaged metadata, and the messages about them.
/// </summary>
public sealed class CharRnnCheckpointTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "charrnn-checkpoint-" + Guid.NewGuid().ToString("N"));

    public CharRnnCheckpointTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // `--corpus victim.txt --checkpoint victim.txt` overwrote the training text with a checkpoint
    [Fact]
    public void ACheckpointPathThatIsTheCorpus_IsRefused()
    {
        string text = Path.Combine(_folder, "victim.txt");
        File.WriteAllText(text, "some text");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.CheckReplaceable(text, text));
        Assert.Contains("is the --corpus file", e.Message);
        Assert.Equal("some text", File.ReadAllText(text));
    }

    // any other file that is not a CharRnn checkpoint is not replaced either; a checkpoint of the sample and a new path are fine
    [Fact]
    public void AnExistingFileThatIsNotACheckpoint_IsRefused_ACheckpointIsNot()
    {
        string text = Path.Combine(_folder, "notes.txt");
        File.WriteAllText(text, "my notes");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.CheckReplaceable(text, corpusPath: null));
        Assert.Contains($"--checkpoint {text} exists and is not a CharRnn checkpoint", e.Message);
        Assert.Contains("Give another --checkpoint path", e.Message);

        string checkpoint = Path.Combine(_folder, "m.safetensors");
        Save(checkpoint, Info(checkpoint));
        Checkpoint.CheckReplaceable(checkpoint, corpusPath: text);
        Checkpoint.CheckReplaceable(Path.Combine(_folder, "new.safetensors"), corpusPath: text);
    }

    // two runs on the same checkpoint both reported success, and one silently replaced the other's result
    [Fact]
    public void ASecondRunOnTheSameCheckpoint_IsRefusedWhileTheFirstHoldsTheLock()
    {
        string checkpoint = Path.Combine(_folder, "m.safetensors");
        using (Checkpoint.Lock(checkpoint))
        {
            var e = Assert.Throws<CheckpointException>(() => Checkpoint.Lock(checkpoint));
            Assert.Contains($"--checkpoint {checkpoint} is in use", e.Message);
            Assert.Contains(checkpoint + ".lock", e.Message);
        }
        Assert.False(File.Exists(checkpoint + ".lock"));      // released and removed with the run
        using (Checkpoint.Lock(checkpoint)) { }               // and free again
    }

    // a .previous that cannot be replaced (here a folder: refused with UnauthorizedAccessException, even for root) threw
    // away the whole run; now it is a note, and the save goes on
    [Fact]
    public void AnEarlierCheckpointThatCannotBeKept_GivesANote_NotAnError()
    {
        string checkpoint = Path.Combine(_folder, "m.safetensors");
        File.WriteAllText(checkpoint, "earlier");
        Directory.CreateDirectory(checkpoint + ".previous");
        string? note = Checkpoint.KeepEarlier(checkpoint);
        Assert.NotNull(note);
        Assert.StartsWith($"note: the earlier checkpoint could not be kept as {checkpoint}.previous", note);

        Directory.Delete(checkpoint + ".previous");
        Assert.Null(Checkpoint.KeepEarlier(checkpoint));
        Assert.Equal("earlier", File.ReadAllText(checkpoint + ".previous"));
    }

    public static TheoryData<string, string> DamagedMetadata => new()
    {
        { "learning-rate", "charrnn.learning-rate is 'NaN'" },
        { "epochs -5", "charrnn.epochs is '-5'" },
        { "epochs max", "charrnn.epochs is '2147483647'" },
        { "model", "charrnn.model is 'huge'" },
    };

    // a NaN learning rate was accepted (and failed later with a stack trace); an epoch of -5 printed "epoch -4"
    [Theory]
    [MemberData(nameof(DamagedMetadata))]
    public void DamagedMetadata_IsRefusedSayingWhatIsDamaged(string damage, string message)
    {
        string checkpoint = Path.Combine(_folder, "m.safetensors");
        CheckpointInfo info = Info(checkpoint);
        info = damage switch
        {
            "learning-rate" => info with { LearningRate = double.NaN },
            "epochs -5" => info with { Epochs = -5 },
            "epochs max" => info with { Epochs = int.MaxValue },
            _ => info with { ModelName = "huge" },
        };
        Save(checkpoint, info);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.ReadInfo(checkpoint));
        Assert.StartsWith($"The CharRnn metadata of {checkpoint} is damaged (", e.Message);
        Assert.Contains(message, e.Message);
    }

    // `generate --checkpoint FOLDER` said "There is no checkpoint …"
    [Fact]
    public void ACheckpointPathThatIsAFolder_IsCalledAFolder()
    {
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.ReadInfo(_folder));
        Assert.Contains($"{_folder} is a folder, not a checkpoint", e.Message);
    }

    // `generate --model large` without a checkpoint suggested the command that trains the small model
    [Fact]
    public void AMissingCheckpoint_SuggestsTrainingTheModelAskedFor()
    {
        string missing = Path.Combine(_folder, "none.safetensors");
        Assert.Contains("Train first (dotnet run -c Release --project samples/CharRnn -- --model large)",
            Assert.Throws<CheckpointException>(() => Checkpoint.ReadInfo(missing, "large")).Message);
        Assert.Contains("Train first (dotnet run -c Release --project samples/CharRnn), or name one with --checkpoint FILE.",
            Assert.Throws<CheckpointException>(() => Checkpoint.ReadInfo(missing)).Message);
        Assert.Contains("Train first (dotnet run -c Release --project samples/CharRnn), or",
            Assert.Throws<CheckpointException>(() => Checkpoint.ReadInfo(missing, "small")).Message);
    }

    // `generate --model medium --checkpoint <a small model>` used the small model silently; it is refused, as --resume does
    [Fact]
    public void AModelOtherThanTheCheckpoints_IsRefused()
    {
        CheckpointInfo info = Info(Path.Combine(_folder, "m.safetensors"));
        var e = Assert.Throws<UsageException>(() => Checkpoint.CheckModel("medium", info, "generate from"));
        Assert.Contains("--model medium, but", e.Message);
        Assert.Contains("holds a small model; leave --model out to generate from it.", e.Message);
        Checkpoint.CheckModel("small", info, "generate from");
        Checkpoint.CheckModel(null, info, "generate from");
    }

    private static CheckpointInfo Info(string path) =>
        new(path, "small", Vocabulary.Build("abc\n"), Epochs: 3, Steps: 30, LearningRate: 2e-3, TrainingSeconds: 1, ValidationLoss: 1.5,
            ValidationFingerprint: null);

    private static void Save(string path, CheckpointInfo info)
    {
        var model = new SmallModel();
        Checkpoint.Save(model, new RmsProp<float>(SmallModel.ParameterCount, learningRate: 2e-3, alpha: 0.95), info with { Path = path });
    }
}
