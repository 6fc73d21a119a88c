using System.Globalization;
using RnnGen.Tests.Training;
using static RnnGen.Tests.IO.IoTestUtil;

namespace RnnGen.Tests.IO;

/// <summary>
/// Training checkpoints: a run saved, loaded into new objects (as a new process would) and continued gives the bits of
/// one uninterrupted run, for optimizers with one, two and no state buffers; a file that does not fit is refused with
/// nothing changed.
/// </summary>
public class TrainingCheckpointTests
{
    private static readonly SequenceDataset<float> Data = TaskData.Echo<float>(29, 13, vocabulary: 6, delay: 2, seed: 4);

    private static TrainerOptions Options(int epochs, int seed = 7) => new() { Epochs = epochs, BatchSize = 6, WindowLength = 4, WorkerCount = 2, Seed = seed };

    public static TheoryData<string> Optimizers() =>
        ["rmsprop", "rmsprop centered with momentum", "adam", "adam amsgrad", "adamw", "adagrad", "sgd", "sgd with momentum"];

    private static Optimizer<float> Optimizer(string name) => name switch
    {
        "rmsprop" => new RmsProp<float>(SmallRnn.ParameterCount, learningRate: 0.01, alpha: 0.95),
        "rmsprop centered with momentum" => new RmsProp<float>(SmallRnn.ParameterCount, learningRate: 0.01, alpha: 0.95, centered: true, momentum: 0.5),
        "adam" => new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01),
        "adam amsgrad" => new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01, amsgrad: true),
        "adamw" => new AdamW<float>(SmallRnn.ParameterCount, learningRate: 0.01),
        "adagrad" => new Adagrad<float>(SmallRnn.ParameterCount, learningRate: 0.05, initialAccumulatorValue: 0.1),
        "sgd" => new Sgd<float>(SmallRnn.ParameterCount, learningRate: 0.1),
        _ => new Sgd<float>(SmallRnn.ParameterCount, learningRate: 0.1, momentum: 0.9),
    };

    private static SmallRnn NewModel()
    {
        var model = new SmallRnn();
        model.InitializeParameters(11);
        return model;
    }

    // the learning rate is set by hand between the two parts (a decay the checkpoint must carry), and the new trainer
    // starts from another seed (the checkpoint's shuffle state must replace it)
    [Theory, MemberData(nameof(Optimizers))]
    public void ARunSavedAndLoadedIntoNewObjects_ContinuesWithTheBitsOfOneRun(string optimizer)
    {
        using var folder = new TempFolder();
        string path = folder.File("run.safetensors");

        var straight = NewModel();
        var straightOptimizer = Optimizer(optimizer);
        var straightTrainer = SequenceTrainer.Create(straight, straightOptimizer, Options(2));
        straightTrainer.Train(Data);
        straightOptimizer.LearningRate *= 0.5;
        straightTrainer.Train(Data);

        var first = NewModel();
        var firstOptimizer = Optimizer(optimizer);
        var firstTrainer = SequenceTrainer.Create(first, firstOptimizer, Options(2));
        firstTrainer.Train(Data);
        firstOptimizer.LearningRate *= 0.5;
        TrainingCheckpoint.Save(firstTrainer, path, new Dictionary<string, string> { ["app.epoch"] = "2" });

        var resumed = new SmallRnn(); // zeros: everything comes from the file
        var resumedOptimizer = Optimizer(optimizer);
        var resumedTrainer = SequenceTrainer.Create(resumed, resumedOptimizer, Options(2, seed: 99));
        var metadata = TrainingCheckpoint.Load(resumedTrainer, path);
        Assert.Equal("2", metadata["app.epoch"]);
        Assert.Equal(firstOptimizer.StepCount, resumedOptimizer.StepCount);
        Assert.Equal(firstOptimizer.LearningRate, resumedOptimizer.LearningRate);
        Assert.Equal(firstTrainer.ShuffleState, resumedTrainer.ShuffleState);
        Assert.Equal(Bits(first.Parameters), Bits(resumed.Parameters));
        Assert.Equal(Bits(firstOptimizer.State), Bits(resumedOptimizer.State));
        resumedTrainer.Train(Data);

        Assert.Equal(Bits(straight.Parameters), Bits(resumed.Parameters));
        Assert.Equal(Bits(straightOptimizer.State), Bits(resumedOptimizer.State));
        Assert.Equal(straightOptimizer.StepCount, resumedOptimizer.StepCount);
    }

    // The stream overloads write the bytes the file overloads write (flushed, the stream left open), and a checkpoint read
    // back from a stream, even one that goes on after it or cannot seek, resumes the run with the bits of one run.
    [Fact]
    public void ACheckpointThroughAStream_IsTheFilesBytes_AndResumesTheRun()
    {
        using var folder = new TempFolder();
        string path = folder.File("run.safetensors");
        var straight = NewModel();
        var straightOptimizer = Optimizer("adam");
        var straightTrainer = SequenceTrainer.Create(straight, straightOptimizer, Options(2));
        straightTrainer.Train(Data);
        straightTrainer.Train(Data);

        var first = NewModel();
        var firstTrainer = SequenceTrainer.Create(first, Optimizer("adam"), Options(2));
        firstTrainer.Train(Data);
        var metadata = new Dictionary<string, string> { ["app.epoch"] = "2" };
        TrainingCheckpoint.Save(firstTrainer, path, metadata);
        var inner = new MemoryStream();
        using (var buffered = new BufferedStream(inner, bufferSize: 1 << 20))
        {
            TrainingCheckpoint.Save(firstTrainer, buffered, metadata);
            Assert.Equal(File.ReadAllBytes(path), inner.ToArray()); // flushed, and the same bytes as the file
        }

        // read from a stream that cannot seek and holds more after the checkpoint
        byte[] bytes = [.. File.ReadAllBytes(path), 1, 2, 3];
        var resumed = new SmallRnn();
        var resumedOptimizer = Optimizer("adam");
        var resumedTrainer = SequenceTrainer.Create(resumed, resumedOptimizer, Options(2, seed: 99));
        Assert.Equal("2", TrainingCheckpoint.Load(resumedTrainer, new ForwardOnlyStream(bytes))["app.epoch"]);
        resumedTrainer.Train(Data);
        Assert.Equal(Bits(straight.Parameters), Bits(resumed.Parameters));
        Assert.Equal(Bits(straightOptimizer.State), Bits(resumedOptimizer.State));

        // a hand-written loop's overloads
        var model = NewModel();
        var optimizer = Optimizer("rmsprop");
        optimizer.StepCount = 5;
        var stream = new MemoryStream();
        TrainingCheckpoint.Save(model, optimizer, stream);
        stream.Position = 0;
        var loaded = new SmallRnn();
        var loadedOptimizer = Optimizer("rmsprop");
        TrainingCheckpoint.Load(loaded, loadedOptimizer, stream);
        Assert.Equal(Bits(model.Parameters), Bits(loaded.Parameters));
        Assert.Equal(5, loadedOptimizer.StepCount);
    }

    // a stream the call cannot use is the caller's argument; a damaged one is refused with the model and optimizer unchanged
    [Fact]
    public void StreamOverloads_RefuseUnusableStreams_AndDamagedData_ChangingNothing()
    {
        var model = NewModel();
        var optimizer = Optimizer("adam");
        var trainer = SequenceTrainer.Create(model, optimizer, Options(1));
        Assert.Equal("stream", Assert.Throws<ArgumentException>(() => TrainingCheckpoint.Save(trainer, new MemoryStream(new byte[8], writable: false))).ParamName);
        Assert.Equal("stream", Assert.Throws<ArgumentException>(() => TrainingCheckpoint.Save(model, optimizer, new MemoryStream(new byte[8], writable: false))).ParamName);
        Assert.Throws<ArgumentNullException>(() => TrainingCheckpoint.Load(trainer, (Stream)null!));

        var saved = new MemoryStream();
        TrainingCheckpoint.Save(trainer, saved);
        byte[] truncated = saved.ToArray()[..^4];
        byte[] before = Bits(model.Parameters);
        long steps = optimizer.StepCount;
        var e = Assert.Throws<ModelFileException>(() => TrainingCheckpoint.Load(trainer, new MemoryStream(truncated)));
        Assert.StartsWith("safetensors stream: ", e.Message);
        Assert.Equal(before, Bits(model.Parameters));
        Assert.Equal(steps, optimizer.StepCount);
    }

    // a checkpoint taken in the trainer's event, between epochs, is as good as one taken between calls
    [Fact]
    public void ACheckpointSavedFromAnEpochEvent_ResumesTheRun()
    {
        using var folder = new TempFolder();
        string path = folder.File("epoch.safetensors");
        var straight = NewModel();
        SequenceTrainer.Create(straight, Optimizer("adam"), Options(3)).Train(Data);

        var first = NewModel();
        var trainer = SequenceTrainer.Create(first, Optimizer("adam"), Options(3));
        trainer.EpochCompleted += e =>
        {
            if (e.Epoch == 1) TrainingCheckpoint.Save(trainer, path);
            // a load while the trainer runs is refused, and changes nothing; so is a save from another thread, which could
            // read the parameters in the middle of an update
            Assert.Throws<InvalidOperationException>(() => TrainingCheckpoint.Load(trainer, path));
            Exception? fromAnotherThread = null;
            var thread = new Thread(() =>
            {
                try { TrainingCheckpoint.Save(trainer, path + ".other"); }
                catch (Exception ex) { fromAnotherThread = ex; }
            });
            thread.Start();
            thread.Join();
            Assert.IsType<InvalidOperationException>(fromAnotherThread);
        };
        trainer.Train(Data);

        var resumed = new SmallRnn();
        var resumedTrainer = SequenceTrainer.Create(resumed, Optimizer("adam"), Options(2));
        TrainingCheckpoint.Load(resumedTrainer, path);
        resumedTrainer.Train(Data);
        Assert.Equal(Bits(straight.Parameters), Bits(resumed.Parameters));
    }

    // Early stopping resumes too: the file holds the best monitored loss and the epochs since it, so the resumed run raises
    // BestModelFound on the epochs the uninterrupted one did and stops where it stopped (a resumed trainer called its first
    // epoch the best whatever its loss, and a BestModelFound handler overwrote the best file with a worse model).
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(0)] // 0: in the epoch where the uninterrupted run stops (the resumed run trains none)
    public void EarlyStopping_ResumesFromTheCheckpoint(int savedAfter)
    {
        using var folder = new TempFolder();
        string path = folder.File("run.safetensors");
        var validation = TaskData.Echo<float>(9, 13, vocabulary: 6, delay: 2, seed: 5);
        // a large constant step: the validation loss goes up and down, so that improvements, misses and the stop all occur
        TrainerOptions Stopping(int epochs) => new() { Epochs = epochs, BatchSize = 6, WindowLength = 4, WorkerCount = 2, Seed = 7, Patience = 3 };
        Optimizer<float> Fast() => new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.08);

        var straight = NewModel();
        var straightTrainer = SequenceTrainer.Create(straight, Fast(), Stopping(15));
        var bestStraight = new List<int>();
        straightTrainer.BestModelFound += e => bestStraight.Add(e.Epoch);
        TrainingResult all = straightTrainer.Train(Data, validation);
        string losses = string.Join(" ", all.Epochs.Select(e => $"{e.MonitoredLoss:F4}{(e.IsBest ? "*" : "")}"));
        Assert.True(all.StoppedEarly, losses);                          // the case is meant to reach the stop
        Assert.True(all.Epochs.Count > savedAfter + 1, losses);
        Assert.Contains(all.Epochs.Skip(1), e => !e.IsBest);            // and a miss before it
        if (savedAfter == 0) savedAfter = all.Epochs.Count;

        var first = NewModel();
        var firstTrainer = SequenceTrainer.Create(first, Fast(), Stopping(savedAfter));
        var best = new List<int>();
        firstTrainer.BestModelFound += e => best.Add(e.Epoch);
        firstTrainer.EpochCompleted += e => { if (e.Epoch == savedAfter) TrainingCheckpoint.Save(firstTrainer, path); };
        firstTrainer.Train(Data, validation);

        var resumed = new SmallRnn();
        var resumedTrainer = SequenceTrainer.Create(resumed, Fast(), Stopping(15 - savedAfter));
        resumedTrainer.BestModelFound += e => best.Add(savedAfter + e.Epoch);
        TrainingCheckpoint.Load(resumedTrainer, path);
        TrainingResult rest = resumedTrainer.Train(Data, validation);

        Assert.Equal(bestStraight, best);
        Assert.Equal(all.StoppedEarly, rest.StoppedEarly);
        Assert.Equal(savedAfter == all.Epochs.Count ? 0 : all.Epochs.Count - savedAfter, rest.Epochs.Count);
        Assert.Equal(all.Epochs.Count, savedAfter + rest.Epochs.Count);
        Assert.Equal(all.BestLoss, rest.BestLoss);
        Assert.Equal(Bits(straight.Parameters), Bits(resumed.Parameters));
    }

    // A checkpoint saved from a progress report, halfway through an epoch, could not resume it: refused, nothing written.
    [Fact]
    public void ASaveFromAProgressReport_IsRefused()
    {
        using var folder = new TempFolder();
        string path = folder.File("halfway.safetensors");
        var trainer = SequenceTrainer.Create(NewModel(), Optimizer("adam"), Options(1));
        Exception? refused = null;
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            if (p.Window == 2 && refused is null)
                refused = Record.Exception(() => TrainingCheckpoint.Save(trainer, path));
        });
        trainer.Train(Data, progress: progress);
        Assert.IsType<InvalidOperationException>(refused);
        Assert.Contains("from EpochCompleted or BestModelFound, or after Train returns", refused!.Message);
        Assert.False(File.Exists(path));
    }

    private sealed class SynchronousProgress<TValue>(Action<TValue> report) : IProgress<TValue>
    {
        public void Report(TValue value) => report(value);
    }

    // a save from outside the trainer's events holds it idle until the file is written: a Train started meanwhile is
    // refused instead of changing the parameters halfway through the save (here the save is held inside, reading metadata)
    [Fact]
    public void ASaveHoldsTheTrainerIdle_ATrainStartedMeanwhileIsRefused()
    {
        using var folder = new TempFolder();
        string path = folder.File("held.safetensors");
        var model = NewModel();
        var trainer = SequenceTrainer.Create(model, Optimizer("adam"), Options(1));
        using var reading = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var metadata = new HeldMetadata(reading, release);
        Exception? saveFailure = null;
        var save = new Thread(() =>
        {
            try { TrainingCheckpoint.Save(trainer, path, metadata); }
            catch (Exception e) { saveFailure = e; }
        });
        save.Start();
        Assert.True(reading.Wait(TimeSpan.FromSeconds(30)));
        float[] before = model.Parameters.ToArray();
        var refused = Assert.Throws<InvalidOperationException>(() => trainer.Train(Data));
        Assert.Contains("already running", refused.Message);
        Assert.Equal(before, model.Parameters.ToArray());
        release.Set();
        Assert.True(save.Join(TimeSpan.FromSeconds(30)));
        Assert.Null(saveFailure);
        trainer.Train(Data); // idle again once saved
        Assert.Equal("held", TrainingCheckpoint.Load(SequenceTrainer.Create(new SmallRnn(), Optimizer("adam"), Options(1)), path)["app.note"]);
    }

    // metadata whose reading blocks until released (after signalling that the save has reached it)
    private sealed class HeldMetadata(ManualResetEventSlim reading, ManualResetEventSlim release) : IReadOnlyDictionary<string, string>
    {
        private readonly Dictionary<string, string> _values = new() { ["app.note"] = "held" };
        private bool _held;

        private Dictionary<string, string> Values()
        {
            if (!_held)
            {
                _held = true;
                reading.Set();
                release.Wait(TimeSpan.FromSeconds(30));
            }
            return _values;
        }

        public string this[string key] => Values()[key];
        public IEnumerable<string> Keys => Values().Keys;
        IEnumerable<string> IReadOnlyDictionary<string, string>.Values => Values().Values;
        public int Count => Values().Count;
        public bool ContainsKey(string key) => Values().ContainsKey(key);
        public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out string value) => Values().TryGetValue(key, out value);
        public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => Values().GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    [Fact]
    public void AHandWrittenLoop_SavesAndLoadsTheModelAndTheOptimizer_InDoublePrecision()
    {
        using var folder = new TempFolder();
        string path = folder.File("loop.safetensors");
        var model = new IoRnnTanhD2x5Head();
        model.InitializeParameters(3);
        var optimizer = new Adam<double>(IoRnnTanhD2x5Head.ParameterCount, learningRate: 0.02, amsgrad: true);
        for (int i = 0; i < optimizer.State.Length; i++) optimizer.State[i] = i * 1e-3 + 1.0 / 3;
        optimizer.StepCount = 17;
        TrainingCheckpoint.Save(model, optimizer, path);

        var loaded = new IoRnnTanhD2x5Head();
        var loadedOptimizer = new Adam<double>(IoRnnTanhD2x5Head.ParameterCount, amsgrad: true);
        var metadata = TrainingCheckpoint.Load(loaded, loadedOptimizer, path);
        Assert.Equal("5", metadata[SafeTensorsMetadataKeys.Hidden]);
        Assert.Equal(Bits(model.Parameters), Bits(loaded.Parameters));
        Assert.Equal(Bits(optimizer.State), Bits(loadedOptimizer.State));
        Assert.Equal(17, loadedOptimizer.StepCount);
        Assert.Equal(0.02, loadedOptimizer.LearningRate);

        // the packed copies were refreshed: the loaded model computes what the saved one does
        var x = new double[IoRnnTanhD2x5Head.InputSize];
        x.AsSpan().Fill(0.5);
        double[] a = new double[IoRnnTanhD2x5Head.OutputWidth], b = new double[a.Length];
        var sa = new IoRnnTanhD2x5Head.State();
        var sb = new IoRnnTanhD2x5Head.State();
        model.Step(x, ref sa, a);
        loaded.Step(x, ref sb, b);
        Assert.Equal(a, b);

        // the header says what the file is: the model's tensors, then the optimizer's state, [3, parameters] for AMSGrad
        var header = SafeTensors.ReadHeader(path);
        Assert.Equal([.. IoRnnTanhD2x5Head.Layout.Select(t => t.Name), TrainingCheckpoint.OptimizerStateTensor], header.Tensors.Select(t => t.Name));
        Assert.Equal([3L, IoRnnTanhD2x5Head.ParameterCount], header.Find(TrainingCheckpoint.OptimizerStateTensor)!.Shape);
        Assert.Equal("RnnGen.Adam", header.Metadata[SafeTensorsMetadataKeys.CheckpointOptimizer]);
        Assert.False(header.Metadata.ContainsKey(SafeTensorsMetadataKeys.CheckpointShuffle)); // no trainer, no shuffle
    }

    [Fact]
    public void ACheckpointIsAModelFile_WhenItsExtraTensorIsSkipped_AndSaysSoOtherwise()
    {
        using var folder = new TempFolder();
        string path = folder.File("run.safetensors");
        var model = NewModel();
        TrainingCheckpoint.Save(model, Optimizer("rmsprop"), path);

        var plain = new SmallRnn();
        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(plain, path));
        Assert.Contains("training checkpoint", e.Message);
        Assert.Contains("TrainingCheckpoint.Load", e.Message);
        Assert.False(plain.Parameters.ContainsAnyExcept(0f));
        SafeTensors.Load(plain, path, new SafeTensorsLoadOptions { IgnoreExtraTensors = true });
        Assert.Equal(Bits(model.Parameters), Bits(plain.Parameters));
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { "a model file", "not a training checkpoint" },
        { "another optimizer", "saved with the optimizer RnnGen.RmsProp" },
        { "other state buffers", "0 buffers per parameter" },
        { "another model", "saved from a model with" },
        { "truncated", "truncated" },
        { "damaged step count", "rnngen.checkpoint.steps" },
        { "step count at its maximum", "rnngen.checkpoint.steps" }, // the next step's count would overflow
        { "damaged shuffle state", "rnngen.checkpoint.shuffle" },
        { "damaged best loss", "rnngen.checkpoint.best-loss" },
    };

    [Theory, MemberData(nameof(Refusals))]
    public void AFileThatDoesNotFit_IsRefused_WithNothingChanged(string file, string message)
    {
        using var folder = new TempFolder();
        string path = folder.File("bad.safetensors");
        var source = NewModel();
        var sourceOptimizer = Optimizer("rmsprop");
        sourceOptimizer.State.Fill(0.25f);
        sourceOptimizer.StepCount = file == "step count at its maximum" ? long.MaxValue - 1 : 5; // (the setter refuses long.MaxValue: written below)
        var sourceTrainer = SequenceTrainer.Create(source, sourceOptimizer, Options(1));
        switch (file)
        {
            case "a model file": SafeTensors.Save(source, path); break;
            case "other state buffers": TrainingCheckpoint.Save(source, Optimizer("sgd"), path); break;
            case "another model":
                var other = new IoTinyF();
                other.InitializeParameters(1);
                TrainingCheckpoint.Save(other, new RmsProp<float>(IoTinyF.ParameterCount), path);
                break;
            default:
                TrainingCheckpoint.Save(sourceTrainer, path);
                break;
        }
        if (file == "truncated") File.WriteAllBytes(path, File.ReadAllBytes(path)[..^4]);
        if (file == "step count at its maximum")
        {
            // long.MaxValue − 1 → long.MaxValue: the same length, so the header stays well-formed
            byte[] bytes = File.ReadAllBytes(path);
            string text = System.Text.Encoding.Latin1.GetString(bytes), saved = (long.MaxValue - 1).ToString(CultureInfo.InvariantCulture);
            int at = text.IndexOf(SafeTensorsMetadataKeys.CheckpointSteps + "\":\"" + saved + "\"", StringComparison.Ordinal);
            Assert.True(at > 0, "the step count not found in the header");
            bytes[at + SafeTensorsMetadataKeys.CheckpointSteps.Length + 3 + saved.Length - 1] = (byte)'7';
            File.WriteAllBytes(path, bytes);
        }
        if (file.StartsWith("damaged", StringComparison.Ordinal))
        {
            string key = file switch
            {
                "damaged step count" => SafeTensorsMetadataKeys.CheckpointSteps,
                "damaged best loss" => SafeTensorsMetadataKeys.CheckpointBestLoss,
                _ => SafeTensorsMetadataKeys.CheckpointShuffle,
            };
            string text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(path));
            int at = text.IndexOf(key + "\":\"", StringComparison.Ordinal);
            Assert.True(at > 0, $"{key} not found in the header");
            // same length, so the header stays well-formed: 5 → x, the shuffle's first hex digit → g, NaN's N → -
            var bytes = File.ReadAllBytes(path);
            bytes[at + key.Length + 3] = (byte)(file switch { "damaged step count" => 'x', "damaged best loss" => '-', _ => 'g' });
            File.WriteAllBytes(path, bytes);
        }

        var model = NewModel();
        model.InitializeParameters(21);
        var optimizer = file == "another optimizer" ? (Optimizer<float>)new Adam<float>(SmallRnn.ParameterCount) : Optimizer(file == "other state buffers" ? "sgd with momentum" : "rmsprop");
        optimizer.State.Fill(-1f);
        optimizer.StepCount = 3;
        optimizer.LearningRate = 0.125;
        var trainer = SequenceTrainer.Create(model, optimizer, Options(1, seed: 123));
        float[] parameters = model.Parameters.ToArray(), state = optimizer.State.ToArray();
        ulong[] shuffle = trainer.ShuffleState;
        var x = new int[] { 1, 2, 3 };
        float[] Outputs()
        {
            var outputs = new float[x.Length * SmallRnn.OutputWidth];
            var s = new SmallRnn.State();
            model.Forward(x, ref s, new SmallRnn.Tape(3), outputs);
            return outputs;
        }
        float[] before = Outputs();

        var e = Assert.Throws<ModelFileException>(() => TrainingCheckpoint.Load(trainer, path));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain("IgnoreModelMetadata", e.Message); // a checkpoint's load has no such option to suggest
        Assert.Equal(Bits(parameters), Bits(model.Parameters));
        Assert.Equal(before, Outputs()); // the packed copies too
        Assert.Equal(Bits(state), Bits(optimizer.State));
        Assert.Equal(3, optimizer.StepCount);
        Assert.Equal(0.125, optimizer.LearningRate);
        Assert.Equal(shuffle, trainer.ShuffleState);
    }

    [Fact]
    public void Save_RefusesReservedKeysAndAnOptimizerOfAnotherSize_BeforeWriting()
    {
        using var folder = new TempFolder();
        string path = folder.File("run.safetensors");
        var model = NewModel();
        var optimizer = Optimizer("adam");
        TrainingCheckpoint.Save(model, optimizer, path);
        byte[] old = File.ReadAllBytes(path);

        var reserved = Assert.Throws<ArgumentException>(() => TrainingCheckpoint.Save(model, optimizer, path,
            new Dictionary<string, string> { [SafeTensorsMetadataKeys.CheckpointSteps] = "1" }));
        Assert.Contains("reserved", reserved.Message);
        var size = Assert.Throws<ArgumentException>(() => TrainingCheckpoint.Save(model, new Adam<float>(SmallRnn.ParameterCount + 1), path));
        Assert.Contains(nameof(SmallRnn.ParameterCount), size.Message);
        Assert.Equal(old, File.ReadAllBytes(path));
        Assert.Equal(new[] { "run.safetensors" }, folder.Entries());
    }
}
