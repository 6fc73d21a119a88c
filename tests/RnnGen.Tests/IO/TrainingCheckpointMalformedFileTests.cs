using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using RnnGen.Tests.Training;
using static RnnGen.Tests.IO.IoTestUtil;

namespace RnnGen.Tests.IO;

/// <summary>
/// A corrupt or hostile training checkpoint is refused with a <see cref="ModelFileException"/>, never a crash: seeded damages
/// (<see cref="SafeTensorsDamage"/>, RnnGen's checkpoint keys among the metadata it changes) to a trainer's checkpoint (a float
/// token model with Adam) and to a hand-written loop's (a double dense model with RMSProp) either load or are refused. A
/// refused file leaves the model, the optimizer (state, step count, learning rate) and the trainer (shuffle and early
/// stopping state) bit-for-bit unchanged; a loaded one was still valid, every one of them holds what it says, and its
/// optimizer state holds nothing a run cannot write (a negative sum of squares, NaN beside a finite parameter).
/// </summary>
public class TrainingCheckpointMalformedFileTests
{
    private static readonly byte[] s_trainerCheckpoint = TrainerCheckpoint();
    private static readonly byte[] s_loopCheckpoint = LoopCheckpoint();

    // SmallRnn and Adam after an epoch: parameters, two state buffers, steps, learning rate, shuffle and early stopping
    private static byte[] TrainerCheckpoint()
    {
        var model = new SmallRnn();
        model.InitializeParameters(11);
        var trainer = SequenceTrainer.Create(model, new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01), Options());
        trainer.Train(TaskData.Echo<float>(12, 9, vocabulary: 6, delay: 2, seed: 4));
        using var folder = new TempFolder();
        TrainingCheckpoint.Save(trainer, folder.File("run.safetensors"), new Dictionary<string, string> { ["app.epoch"] = "1" });
        return File.ReadAllBytes(folder.File("run.safetensors"));
    }

    private static byte[] LoopCheckpoint()
    {
        var model = new IoRnnTanhD2x5Head();
        model.InitializeParameters(3);
        var optimizer = new RmsProp<double>(IoRnnTanhD2x5Head.ParameterCount, learningRate: 0.02);
        for (int i = 0; i < optimizer.State.Length; i++) optimizer.State[i] = i * 1e-3 + 1.0 / 3;
        optimizer.StepCount = 17;
        using var folder = new TempFolder();
        TrainingCheckpoint.Save(model, optimizer, folder.File("loop.safetensors"));
        return File.ReadAllBytes(folder.File("loop.safetensors"));
    }

    private static TrainerOptions Options() => new() { Epochs = 1, BatchSize = 4, WindowLength = 4, WorkerCount = 1, Seed = 7 };

    [Fact]
    public void TheSourcesLoad()
    {
        using var folder = new TempFolder();
        Assert.True(new TrainerTarget().Trial(s_trainerCheckpoint, s_trainerCheckpoint, folder.File("c.safetensors"), "the trainer's checkpoint"));
        Assert.True(new LoopTarget().Trial(s_loopCheckpoint, s_loopCheckpoint, folder.File("c.safetensors"), "the loop's checkpoint"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void DamagedCheckpointsAreRefusedOrLoaded(int seed)
    {
        using var folder = new TempFolder();
        var random = new Random(seed);
        var trainer = new TrainerTarget();
        var loop = new LoopTarget();
        int trials = SafeTensorsDamage.Trials(400), loaded = 0;
        FuzzRun.Trials(trials, trial =>
        {
            bool fromTrainer = random.Next(3) != 0;
            byte[] source = fromTrainer ? s_trainerCheckpoint : s_loopCheckpoint;
            byte[] bytes = SafeTensorsDamage.Damage(source, random, out string what);
            string context = $"seed {seed}, trial {trial}, {(fromTrainer ? "the trainer's" : "the loop's")} checkpoint: {what}";
            if (fromTrainer ? trainer.Trial(source, bytes, folder.File("c.safetensors"), context) : loop.Trial(source, bytes, folder.File("c.safetensors"), context))
                loaded++;
        });
        FuzzRun.ExpectBoth(loaded, trials);
    }

    // values no run writes in the state, set in an undamaged file: refused with nothing changed (checked by Trial); +∞ and −0
    // in a sum of squares, and ±∞ in Adam's first moment, load
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StateValuesNoRunWrites_AreRefused_WithNothingChanged(bool fromTrainer)
    {
        using var folder = new TempFolder();
        byte[] source = fromTrainer ? s_trainerCheckpoint : s_loopCheckpoint;
        var state = SafeTensors.ReadHeader(new MemoryStream(source)).Find(TrainingCheckpoint.OptimizerStateTensor)!;
        int count = (int)state.Shape[1], squares = fromTrainer ? 1 : 0; // Adam's v, RMSProp's v
        bool Trial(int buffer, int index, double value)
        {
            byte[] bytes = (byte[])source.Clone();
            int at = (int)(SafeTensors.ReadHeader(new MemoryStream(source)).DataStart + state.DataBegin) + (buffer * count + index) * (fromTrainer ? 4 : 8);
            if (fromTrainer) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(at), (float)value);
            else BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(at), value);
            string context = $"{(fromTrainer ? "the trainer's" : "the loop's")} checkpoint with {value} at [{buffer}, {index}]";
            return fromTrainer ? new TrainerTarget().Trial(source, bytes, folder.File("c.safetensors"), context)
                : new LoopTarget().Trial(source, bytes, folder.File("c.safetensors"), context);
        }

        Assert.False(Trial(squares, 0, -1));
        Assert.False(Trial(squares, count - 1, double.NegativeInfinity));
        Assert.False(Trial(squares, count / 2, double.NaN));
        Assert.True(Trial(squares, count / 2, double.PositiveInfinity));
        Assert.True(Trial(squares, 1, -0.0));
        if (fromTrainer)
        {
            Assert.False(Trial(0, 3, double.NaN));
            Assert.True(Trial(0, 3, double.NegativeInfinity));
        }
    }

    /// <summary>A model and its optimizer (and a trainer) to load into, set before each trial to values no file holds.</summary>
    private abstract class Target<TModel, T>(TModel model, Optimizer<T> optimizer, int squares)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        protected TModel Model { get; } = model;

        protected Optimizer<T> Optimizer { get; } = optimizer;

        protected abstract void Load(string path);

        /// <summary>What else a load sets (the trainer's state), to compare before and after.</summary>
        protected virtual string Rest() => "";

        /// <summary>On a successful load, checks what else the file set against its metadata.</summary>
        protected virtual void ExpectRest(ReferenceSafeTensors file, string restBefore, string context) { }

        protected virtual void Reset() { }

        /// <summary>Loads <paramref name="bytes"/> from a file; true when it loaded.</summary>
        public bool Trial(byte[] original, byte[] bytes, string path, string context)
        {
            Model.InitializeParameters(2);
            Optimizer.State.Fill(T.CreateTruncating(-1.5));
            Optimizer.StepCount = 3;
            Optimizer.LearningRate = 0.125;
            Reset();
            byte[] parameters = Bits(Model.Parameters), state = Bits(Optimizer.State);
            string rest = Rest();
            File.WriteAllBytes(path, bytes);

            Exception? error = FuzzRun.Load(() => Load(path), bytes.Length, context);
            if (error is not null)
            {
                SafeTensorsMalformedFileTests.ExpectRefused(error, path, context);
                Assert.True(parameters.AsSpan().SequenceEqual(Bits(Model.Parameters)), $"{context}: refused, and the parameters changed");
                Assert.True(state.AsSpan().SequenceEqual(Bits(Optimizer.State)), $"{context}: refused, and the optimizer's state changed");
                Assert.True(Optimizer.StepCount == 3 && Optimizer.LearningRate == 0.125, $"{context}: refused, and the optimizer's step count or learning rate changed");
                Assert.True(rest == Rest(), $"{context}: refused, and the trainer's state changed from {rest} to {Rest()}");
                return false;
            }

            var file = SafeTensorsMalformedFileTests.ExpectLoaded<TModel, T>(original, bytes, exactLength: true, SafeTensorsLoadOptions.Default, Model, context,
                TrainingCheckpoint.OptimizerStateTensor);
            var saved = ReferenceSafeTensors.Read(original, exactLength: true, out _)!;
            string optimizerName = SafeTensorsMetadataKeys.CheckpointOptimizer;
            Assert.True(file.Metadata.GetValueOrDefault(optimizerName) == saved.Metadata[optimizerName], $"{context}: loaded with optimizer '{file.Metadata.GetValueOrDefault(optimizerName)}'");
            Assert.True(file.Tensors.TryGetValue(TrainingCheckpoint.OptimizerStateTensor, out var stateTensor)
                        && stateTensor.Shape.SequenceEqual([Optimizer.StateBufferCount, Optimizer.ParameterCount]), $"{context}: loaded without the optimizer's state of its shape");
            Assert.True(Bits(file.Values<T>(TrainingCheckpoint.OptimizerStateTensor)!).AsSpan().SequenceEqual(Bits(Optimizer.State)), $"{context}: the optimizer's state is not the file's");
            Assert.True(Optimizer.StepCount == long.Parse(file.Metadata[SafeTensorsMetadataKeys.CheckpointSteps], CultureInfo.InvariantCulture),
                $"{context}: step count {Optimizer.StepCount}, not the file's");
            Assert.True(Optimizer.LearningRate.Equals(double.Parse(file.Metadata[SafeTensorsMetadataKeys.CheckpointLearningRate], CultureInfo.InvariantCulture)),
                $"{context}: learning rate {Optimizer.LearningRate}, not the file's");
            ExpectRest(file, rest, context);

            // what no run writes does not load: a negative sum of squares (buffer `squares`), NaN beside a finite parameter
            int count = Optimizer.ParameterCount;
            for (int i = 0; i < Optimizer.State.Length; i++)
            {
                T value = Optimizer.State[i];
                Assert.False(i / count == squares && value < T.Zero, $"{context}: loaded {value} at [{squares}, {i % count}] of the optimizer's sum of squares");
                Assert.False(T.IsNaN(value) && T.IsFinite(Model.Parameters[i % count]), $"{context}: loaded NaN at [{i / count}, {i % count}] of the optimizer's state, beside a finite parameter");
            }
            return true;
        }
    }

    private sealed class LoopTarget() : Target<IoRnnTanhD2x5Head, double>(new IoRnnTanhD2x5Head(), new RmsProp<double>(IoRnnTanhD2x5Head.ParameterCount), squares: 0)
    {
        protected override void Load(string path) => TrainingCheckpoint.Load(Model, Optimizer, path);
    }

    private sealed class TrainerTarget : Target<SmallRnn, float>
    {
        private readonly SequenceTrainer<SmallRnn, float> _trainer;

        public TrainerTarget() : this(new SmallRnn(), new Adam<float>(SmallRnn.ParameterCount)) { }

        private TrainerTarget(SmallRnn model, Adam<float> optimizer) : base(model, optimizer, squares: 1) =>
            _trainer = SequenceTrainer.Create(model, optimizer, Options());

        protected override void Load(string path) => TrainingCheckpoint.Load(_trainer, path);

        protected override void Reset()
        {
            _trainer.ShuffleState = [1, 2, 3, 4];
            _trainer.RestoreEarlyStopping(0.5, 1);
        }

        protected override string Rest() => Describe(_trainer.ShuffleState, _trainer.EarlyStopping);

        private static string Describe(ulong[] shuffle, (double BestLoss, int EpochsSinceBest) earlyStopping) =>
            $"shuffle {string.Join(",", shuffle.Select(w => w.ToString("x16", CultureInfo.InvariantCulture)))}, best loss " +
            $"{BitConverter.DoubleToInt64Bits(earlyStopping.BestLoss):x16} {earlyStopping.EpochsSinceBest} epochs ago";

        // the shuffle state when the file has one (else as it was); early stopping's when the file has it (else none yet)
        protected override void ExpectRest(ReferenceSafeTensors file, string restBefore, string context)
        {
            var metadata = file.Metadata;
            ulong[] shuffle = metadata.TryGetValue(SafeTensorsMetadataKeys.CheckpointShuffle, out string? words)
                ? words.Split(',').Select(w => ulong.Parse(w, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)).ToArray()
                : [1, 2, 3, 4];
            var earlyStopping = metadata.ContainsKey(SafeTensorsMetadataKeys.CheckpointBestLoss) || metadata.ContainsKey(SafeTensorsMetadataKeys.CheckpointEpochsSinceBest)
                ? (double.Parse(metadata[SafeTensorsMetadataKeys.CheckpointBestLoss], CultureInfo.InvariantCulture),
                   int.Parse(metadata[SafeTensorsMetadataKeys.CheckpointEpochsSinceBest], CultureInfo.InvariantCulture))
                : (double.NaN, 0);
            Assert.True(Rest() == Describe(shuffle, earlyStopping), $"{context}: loaded {Rest()}, and the file holds {Describe(shuffle, earlyStopping)} (before: {restBefore})");
        }
    }
}
