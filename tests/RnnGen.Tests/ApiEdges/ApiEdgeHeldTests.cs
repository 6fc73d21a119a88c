using RnnGen.Tests.Training;
namespace RnnGen.Tests.ApiEdges;

/// <summary>Probes the API passed: kept as evidence for the report (these pass).</summary>
public class ApiEdgeHeldTests
{
    [Fact]
    public void Optimizer_bad_arguments_throw_before_writing()
    {
        const int n = 21;
        var adam = new Adam<float>(n, amsgrad: true);
        float[] p = Enumerable.Range(0, n).Select(i => (float)i).ToArray(), g = Enumerable.Repeat(0.5f, n).ToArray();
        adam.Step(p, g);
        float[] p0 = (float[])p.Clone(), g0 = (float[])g.Clone(), s0 = adam.State.ToArray();
        Assert.Equal("clipValue", Assert.Throws<ArgumentOutOfRangeException>(() => adam.Step(p, g, float.NaN)).ParamName);
        Assert.Equal("clipValue", Assert.Throws<ArgumentOutOfRangeException>(() => adam.Step(p, g, -1f)).ParamName);
        Assert.Equal("gradients", Assert.Throws<ArgumentException>(() => adam.Step(p.AsSpan(), g.AsSpan(1), 1f)).ParamName);
        Assert.Equal("parameters", Assert.Throws<ArgumentException>(() => adam.Step(Span<float>.Empty, g)).ParamName);
        Assert.Throws<ArgumentNullException>(() => adam.Step<EchoModel>(null!));
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = double.NaN).ParamName);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = -0.1).ParamName);
        Assert.Equal("StepCount", Assert.Throws<ArgumentOutOfRangeException>(() => adam.StepCount = long.MinValue).ParamName);
        adam.StepCount = long.MaxValue - 1;
        Assert.Throws<InvalidOperationException>(() => adam.Step(p, g));
        adam.StepCount = 1;
        Assert.Equal(p0, p); Assert.Equal(g0, g); Assert.Equal(s0, adam.State.ToArray()); Assert.Equal(1e-3, adam.LearningRate);
        // gradients in the parameters' memory (the same span, or shifted) are refused, and nothing changes
        float[] a = (float[])p0.Clone();
        var sgd = new Sgd<float>(n, 0.1, momentum: 0.9);
        Assert.Contains("share memory", Assert.Throws<ArgumentException>(() => sgd.Step(a, a)).Message);
        Assert.Equal(p0, a);
        Assert.Equal(0, sgd.StepCount);
    }

    [Fact]
    public void Optimizer_constructors_reject_bad_hyper_parameters_with_their_names()
    {
        void Rejects(string name, Action make) => Assert.Equal(name, Assert.ThrowsAny<ArgumentException>(make).ParamName);
        Rejects("parameterCount", () => new Adam<float>(int.MaxValue));
        Rejects("parameterCount", () => new Adagrad<double>(int.MaxValue));
        Rejects("parameterCount", () => new Sgd<float>(-1));
        Rejects("dampening", () => new Sgd<float>(3, momentum: 0.9, dampening: double.NaN));
        Rejects("weightDecay", () => new Sgd<float>(3, weightDecay: double.NegativeInfinity));
        Rejects("momentum", () => new RmsProp<float>(3, momentum: double.NaN));
        Rejects("alpha", () => new RmsProp<float>(3, alpha: 1.0001));
        Rejects("initialAccumulatorValue", () => new Adagrad<float>(3, initialAccumulatorValue: -1));
        Rejects("epsilon", () => new Adam<float>(3, epsilon: double.NaN));
        Rejects("beta2", () => new AdamW<float>(3, beta2: 1));
        Rejects("factor", () => new ReduceOnPlateau(factor: 1));
        Rejects("patience", () => new ReduceOnPlateau(patience: -1));
        Rejects("thresholdMode", () => new ReduceOnPlateau(thresholdMode: (PlateauThreshold)7));
        Rejects("totalSteps", () => new CosineWithWarmupSchedule(1, 10, 10));
        Rejects("pctStart", () => new OneCycleSchedule(1, 10, pctStart: 0.1));
        Rejects("stepSize", () => new StepDecaySchedule(1, 0, 0.5));
        Rejects("step", () => new ConstantSchedule(1).LearningRate(-1));
        var plateau = new ReduceOnPlateau();
        Rejects("Best", () => plateau.Best = double.NaN);
        Assert.Throws<ArgumentNullException>(() => plateau.Step<float>(1, null!));
        Assert.Equal(double.PositiveInfinity, plateau.Best);
    }

    [Fact]
    public void Losses_reject_bad_input_before_writing()
    {
        float[] logits = [1, 2, 3, 4, 5, 6], grad = [9, 9, 9, 9, 9, 9];
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy<float>(logits, [0, 3], grad)).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy<float>(logits.AsSpan(0, 4), [0, 1], logits.AsSpan(2, 4))).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => Losses.SoftmaxCrossEntropy<float>(logits, [0, 1], grad, classes: 2)).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => Losses.BinaryCrossEntropyWithLogits<float>(logits, [0, 0, 0, 0, 0, float.NaN], grad)).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(() => Losses.MeanSquaredError<float>(logits.AsSpan(0, 4), grad.AsSpan(0, 4), grad.AsSpan(1, 4))).ParamName);
        Assert.Equal("outputs", Assert.Throws<ArgumentException>(() => Losses.MeanSquaredError<float>([], [], [])).ParamName);
        Assert.All(grad, x => Assert.Equal(9f, x));
        Assert.Equal([1f, 2, 3, 4, 5, 6], logits);
    }

    private static RecurrentState<float> StateOf<TModel>(TModel model) where TModel : class, IRecurrentModel<TModel, float> => model.CreateState();

    [Fact]
    public void Sampling_training_options_and_datasets_reject_bad_input()
    {
        Assert.Equal("Temperature", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { Temperature = double.NaN }).ParamName);
        Assert.Equal("TopP", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions() with { TopP = 0 }).ParamName);
        Assert.Equal("TopK", Assert.Throws<ArgumentOutOfRangeException>(() => new SamplingOptions { TopK = -1 }).ParamName);
        var sampler = new TokenSampler<float>(3);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => sampler.Sample([0f, float.PositiveInfinity, 0f])).ParamName);
        Assert.Equal("logits", Assert.Throws<ArgumentException>(() => sampler.Sample([0f, 1f])).ParamName);
        Assert.Equal("ClipGradientValue", Assert.Throws<ArgumentException>(() => new TrainerOptions { ClipGradientValue = double.NaN }.Validate()).ParamName);
        Assert.Equal("MinImprovement", Assert.Throws<ArgumentException>(() => new TrainerOptions { MinImprovement = double.PositiveInfinity }.Validate()).ParamName);
        Assert.Equal("corpus", Assert.Throws<ArgumentException>(() => SequenceDataset<float>.FromTokenStream(new int[5], 5)).ParamName);
        Assert.Equal("labels", Assert.Throws<ArgumentException>(() => TrainingSequence<float>.FromTokens(new int[2], new int[3].AsMemory())).ParamName);
        Assert.Equal("sequences", Assert.Throws<ArgumentException>(() => new SequenceDataset<float>([default])).ParamName);
        Assert.Throws<InvalidOperationException>(() => new SequenceDataset<float>([]).Split(0.5, 1));

        var generator = new TokenGenerator<EchoModel, float>(new EchoModel());
        generator.Prime([1]);
        float[] state = generator.State.Values.ToArray();
        Assert.Equal("tokens", Assert.Throws<ArgumentException>(() => generator.Prime([2, 4])).ParamName);
        Assert.Equal(state, generator.State.Values.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.Generate(-1));
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => generator.State.CopyTo(StateOf(new TinyCharModel()))).ParamName);
    }
}
