namespace RnnGen.Tests.Training;

/// <summary>A character-level language model trained as a user would write it (the example of the trainer's documentation).</summary>
public class UsageExampleTests
{
    private const string Vocabulary = "abcdefghijklmnopqrstuvwxyz .,;'\n";

    [Fact]
    public void CharacterModel_TrainsOnAStream_SavesTheBestCheckpoint_AndLearns()
    {
        string text = string.Concat(Enumerable.Repeat("the cat sat on the mat; the dog sat on the log.\n", 40));
        var checkpoints = new List<byte[]>();

        // ---- the example ----
        int[] corpus = text.Select(c => Vocabulary.IndexOf(c)).ToArray();
        int split = corpus.Length * 9 / 10;
        var training = SequenceDataset<float>.FromTokenStream(corpus.AsMemory(0, split), streams: 8);
        var validation = SequenceDataset<float>.FromTokenStream(corpus.AsMemory(split), streams: 1);
        var model = new TinyCharModel();
        model.InitializeParameters(seed: 1);
        var trainer = SequenceTrainer.Create(model, new RmsProp<float>(TinyCharModel.ParameterCount, learningRate: 0.01),
            new TrainerOptions { Epochs = 8, BatchSize = 8, WindowLength = 25, ClipGradientValue = 5, Patience = 3, RestoreBestParameters = true });
        trainer.BestModelFound += e =>
        {
            using var file = new MemoryStream();              // a user writes SafeTensors.Save(model, "best.safetensors")
            SafeTensors.Save(model, file);
            checkpoints.Add(file.ToArray());
        };
        var progress = new SyncProgress<TrainingProgress>(p => _ = $"\r{p.Fraction:P0} loss {p.Loss:F3} {p.TokensPerSecond:N0} tok/s ETA {p.Remaining:mm\\:ss}");
        TrainingResult result = trainer.Train(training, validation, progress);
        // ---- end of the example ----

        var best = result.Epochs[result.BestEpoch - 1].Validation!.Value;
        Assert.True(best.BitsPerToken < 1.0, $"{best.BitsPerToken} bits per character");   // uniform over 32 symbols: 5 bits
        Assert.Equal(result.Epochs.Count(e => e.IsBest), checkpoints.Count);
        var restored = SafeTensors.Load<TinyCharModel, float>(new MemoryStream(checkpoints[^1]));
        Assert.Equal(model.Parameters.ToArray(), restored.Parameters.ToArray());  // the model ends with the best parameters
    }
}
