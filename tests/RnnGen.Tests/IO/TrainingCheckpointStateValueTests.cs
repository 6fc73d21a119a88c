using System.Buffers.Binary;
using System.Globalization;
using RnnGen.Tests.Training;
using static RnnGen.Tests.IO.IoTestUtil;

namespace RnnGen.Tests.IO;

/// <summary>
/// The optimizer state's values in a checkpoint: what no run writes (a negative sum or average of squares, NaN beside a
/// finite parameter) is refused, naming the tensor, the index, the value and the parameter, with the model, the optimizer
/// and the trainer left bit for bit as they were; what a run can write (+∞ from an overflowing g², −0, v − a² below 0 in
/// centered RMSProp, a diverged run's NaNs) loads as it was saved.
/// </summary>
public class TrainingCheckpointStateValueTests
{
    private static readonly SequenceDataset<float> Data = TaskData.Echo<float>(17, 9, vocabulary: 6, delay: 2, seed: 4);

    private static TrainerOptions Options(int seed = 7) => new() { Epochs = 1, BatchSize = 4, WindowLength = 4, WorkerCount = 1, Seed = seed };

    // 'weight_hh_l0' is [8, 8] after 'weight_ih_l0' [8, 6]: parameter 48 + 3·8 + 5 is its [3, 5]
    private const int Index = 48 + 3 * 8 + 5;
    private const string Where = "'weight_hh_l0'[3, 5]";

    private static Optimizer<float> Create(string name) => name switch
    {
        "rmsprop" => new RmsProp<float>(SmallRnn.ParameterCount, learningRate: 0.01, alpha: 0.95),
        "rmsprop centered with momentum" => new RmsProp<float>(SmallRnn.ParameterCount, learningRate: 0.01, centered: true, momentum: 0.5),
        "adam" => new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01),
        "adam amsgrad" => new Adam<float>(SmallRnn.ParameterCount, learningRate: 0.01, amsgrad: true),
        "adamw" => new AdamW<float>(SmallRnn.ParameterCount, learningRate: 0.01),
        "adagrad" => new Adagrad<float>(SmallRnn.ParameterCount, learningRate: 0.05),
        "sgd with momentum" => new Sgd<float>(SmallRnn.ParameterCount, learningRate: 0.1, momentum: 0.9),
        _ => throw new ArgumentException(name),
    };

    /// <summary>A checkpoint of an epoch of training with <paramref name="optimizer"/>, with state value [buffer, <see cref="Index"/>] set to <paramref name="value"/>.</summary>
    private static void Checkpoint(string path, string optimizer, int buffer, float value)
    {
        var model = new SmallRnn();
        model.InitializeParameters(11);
        var trainer = SequenceTrainer.Create(model, Create(optimizer), Options());
        trainer.Train(Data);
        TrainingCheckpoint.Save(trainer, path);

        var state = SafeTensors.ReadHeader(path).Find(TrainingCheckpoint.OptimizerStateTensor)!;
        Assert.Equal(SmallRnn.ParameterCount, state.Shape[1]);
        byte[] bytes = File.ReadAllBytes(path);
        long at = SafeTensors.ReadHeader(path).DataStart + state.DataBegin + 4L * (buffer * (long)SmallRnn.ParameterCount + Index);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan((int)at), value);
        File.WriteAllBytes(path, bytes);
    }

    public static TheoryData<string, int, float, string> ValuesNoRunWrites() => new()
    {
        { "rmsprop", 0, -0.5f, "square average v" },
        { "rmsprop", 0, float.NegativeInfinity, "square average v" },
        { "rmsprop", 0, float.NaN, "square average v" },
        { "rmsprop centered with momentum", 1, float.NaN, "gradient average a" },
        { "rmsprop centered with momentum", 2, float.NaN, "momentum buffer b" },
        { "adam", 0, float.NaN, "first moment m" },
        { "adam", 1, -1e-30f, "second moment v" },
        { "adam amsgrad", 2, -0.5f, "maximum second moment v_max" },
        { "adamw", 1, float.NaN, "second moment v" },
        { "adagrad", 0, -float.Epsilon, "sum of squares s" },
        { "sgd with momentum", 0, float.NaN, "momentum buffer b" },
    };

    [Theory, MemberData(nameof(ValuesNoRunWrites))]
    public void AStateValueNoRunWrites_IsRefused_NamingIt_WithNothingChanged(string optimizer, int buffer, float value, string name)
    {
        using var folder = new TempFolder();
        string path = folder.File("run.safetensors");
        Checkpoint(path, optimizer, buffer, value);

        var target = new Target(optimizer);
        var e = Assert.Throws<ModelFileException>(() => TrainingCheckpoint.Load(target.Trainer, path));
        Assert.Equal(TrainingCheckpoint.OptimizerStateTensor, e.TensorName);
        Assert.Contains($"'{TrainingCheckpoint.OptimizerStateTensor}' holds {value.ToString("R", CultureInfo.InvariantCulture)} at [{buffer}, {Index}]", e.Message);
        Assert.Contains($"the {name} of RnnGen.", e.Message);
        Assert.Contains(Where, e.Message);
        Assert.Contains(float.IsNaN(value) ? "NaN beside a finite parameter" : "below 0", e.Message);
        Assert.Contains("start the optimizer afresh", e.Message);
        target.AssertUnchanged();
    }

    public static TheoryData<string, int, float> ValuesARunCanWrite() => new()
    {
        { "rmsprop", 0, float.PositiveInfinity },                  // g² past float's range: v = +∞ and the parameter stands still
        { "adam", 1, -0f },
        { "adam amsgrad", 2, float.PositiveInfinity },
        { "adagrad", 0, float.PositiveInfinity },
        { "rmsprop centered with momentum", 1, 1e3f },             // a² far above v: the step takes √max(v − a², 0)
        { "adam", 0, float.NegativeInfinity },                     // first moments and momentum buffers may overflow
        { "sgd with momentum", 0, float.PositiveInfinity },
    };

    [Theory, MemberData(nameof(ValuesARunCanWrite))]
    public void AStateValueARunCanWrite_Loads(string optimizer, int buffer, float value)
    {
        using var folder = new TempFolder();
        string path = folder.File("run.safetensors");
        Checkpoint(path, optimizer, buffer, value);

        var target = new Target(optimizer);
        TrainingCheckpoint.Load(target.Trainer, path);
        Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(target.Optimizer.State[buffer * SmallRnn.ParameterCount + Index]));
    }

    // a loop written by hand that steps a NaN gradient: the parameter and its state turn NaN together, and the file of that
    // diverged run loads as it was saved; a gradient whose square overflows float leaves +∞ in v beside a finite parameter
    [Theory]
    [InlineData(float.NaN)]
    [InlineData(1e30f)]
    public void ARunThatStepsAnExtremeGradient_LeavesACheckpointThatLoads(float gradient)
    {
        using var folder = new TempFolder();
        string path = folder.File("loop.safetensors");
        var model = new SmallRnn();
        model.InitializeParameters(3);
        var optimizer = new Adam<float>(SmallRnn.ParameterCount, amsgrad: true);
        model.Gradients.Fill(0.25f);
        optimizer.Step(model);
        model.Gradients[Index] = gradient;
        optimizer.Step(model);
        Assert.Equal(float.IsNaN(gradient), float.IsNaN(model.Parameters[Index]));
        Assert.True(float.IsNaN(gradient) ? float.IsNaN(optimizer.State[SmallRnn.ParameterCount + Index]) : float.IsPositiveInfinity(optimizer.State[SmallRnn.ParameterCount + Index]));
        TrainingCheckpoint.Save(model, optimizer, path);

        var loaded = new SmallRnn();
        var loadedOptimizer = new Adam<float>(SmallRnn.ParameterCount, amsgrad: true);
        TrainingCheckpoint.Load(loaded, loadedOptimizer, path);
        Assert.Equal(Bits(model.Parameters), Bits(loaded.Parameters));
        Assert.Equal(Bits(optimizer.State), Bits(loadedOptimizer.State));
    }

    // an optimizer written elsewhere keeps its own state, which is not checked
    [Fact]
    public void TheStateOfAnOptimizerWrittenElsewhere_IsNotChecked()
    {
        using var folder = new TempFolder();
        string path = folder.File("own.safetensors");
        var model = new SmallRnn();
        model.InitializeParameters(3);
        var optimizer = new SignedState(SmallRnn.ParameterCount);
        optimizer.State.Fill(-2f);
        TrainingCheckpoint.Save(model, optimizer, path);

        var loadedOptimizer = new SignedState(SmallRnn.ParameterCount);
        TrainingCheckpoint.Load(new SmallRnn(), loadedOptimizer, path);
        Assert.Equal(Bits(optimizer.State), Bits(loadedOptimizer.State));
    }

    private sealed class SignedState(int parameterCount) : Optimizer<float>(parameterCount, 0.1, stateBufferCount: 1)
    {
        protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, long step) { }
    }

    /// <summary>A model, optimizer and trainer set to values no file holds, to load into and compare after a refusal.</summary>
    private sealed class Target
    {
        private readonly byte[] _parameters, _state;
        private readonly ulong[] _shuffle;
        private readonly (double, int) _earlyStopping;

        public Target(string optimizer)
        {
            Model = new SmallRnn();
            Model.InitializeParameters(21);
            Optimizer = Create(optimizer);
            Optimizer.State.Fill(0.75f);
            Optimizer.StepCount = 3;
            Optimizer.LearningRate = 0.125;
            Trainer = SequenceTrainer.Create(Model, Optimizer, Options(seed: 123));
            Trainer.RestoreEarlyStopping(0.5, 1);
            _parameters = Bits(Model.Parameters);
            _state = Bits(Optimizer.State);
            _shuffle = Trainer.ShuffleState;
            _earlyStopping = Trainer.EarlyStopping;
        }

        public SmallRnn Model { get; }

        public Optimizer<float> Optimizer { get; }

        public SequenceTrainer<SmallRnn, float> Trainer { get; }

        public void AssertUnchanged()
        {
            Assert.Equal(_parameters, Bits(Model.Parameters));
            Assert.Equal(_state, Bits(Optimizer.State));
            Assert.Equal(3, Optimizer.StepCount);
            Assert.Equal(0.125, Optimizer.LearningRate);
            Assert.Equal(_shuffle, Trainer.ShuffleState);
            Assert.Equal(_earlyStopping, Trainer.EarlyStopping);
        }
    }
}
