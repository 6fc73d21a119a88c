using System.Numerics;
using static RnnGen.Tests.Optimizers.OptimizerCases;

namespace RnnGen.Tests.Optimizers;

// Models for the optimizer tests (through the real generator).
[LstmModel(hidden: 8, layers: 1, Input = 1, Output = 1, Precision = Precision.Double)]
public partial class OptimizerLstmD { }

[LstmModel(hidden: 8, layers: 1, Input = 1, Output = 1)]
public partial class OptimizerLstmF { }

/// <summary><c>optimizer.Step(model)</c>, and optimizers training a generated model.</summary>
public class ModelStepTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void Step_model_updates_parameters_from_gradients_like_the_span_overload()
    {
        var model = new OptimizerLstmD();
        model.InitializeParameters(seed: 7);
        double[] gradient = Gradient<double>(OptimizerLstmD.ParameterCount, 1);
        gradient.CopyTo(model.Gradients);
        double[] expected = model.Parameters.ToArray();
        new Adam<double>(OptimizerLstmD.ParameterCount, learningRate: 0.01).Step(expected, gradient);

        var optimizer = new Adam<double>(OptimizerLstmD.ParameterCount, learningRate: 0.01);
        optimizer.Step(model);

        Assert.Equal(expected, model.Parameters.ToArray());
        Assert.Equal(gradient, model.Gradients.ToArray()); // gradients are left for the caller to clear
    }

    [Fact]
    public void Step_model_calls_ParametersChanged_after_updating()
    {
        var model = new CountingModel();
        model.Gradients.Fill(1.0);
        var sgd = new Sgd<double>(CountingModel.Count, learningRate: 0.5);
        sgd.Step(model);
        Assert.Equal(1, model.ParametersChangedCalls);
        Assert.Equal(-0.5, model.ParametersWhenNotified); // notified after the write
    }

    // The span overloads refresh the packed weights of the model whose Parameters they step, as Step(model) does: the
    // model then computes what a model given the same parameters by hand does (and no longer what it did before).
    // "hoisted": the span taken once, before the steps, as a loop might.
    [Theory, InlineData("span"), InlineData("span with clip"), InlineData("hoisted span")]
    public void Span_overloads_refresh_the_packed_weights_of_the_model_they_step(string overload)
    {
        var model = new OptimizerLstmF();
        model.InitializeParameters(seed: 5);
        var optimizer = new Adam<float>(OptimizerLstmF.ParameterCount, learningRate: 0.05);
        float[] before = Run(model);
        Span<float> hoisted = model.Parameters;
        for (int step = 0; step < 3; step++)
        {
            Gradient<float>(OptimizerLstmF.ParameterCount, step).CopyTo(model.Gradients);
            switch (overload)
            {
                case "span": optimizer.Step(model.Parameters, model.Gradients); break;
                case "span with clip": optimizer.Step(model.Parameters, model.Gradients, clipValue: 0.5f); break;
                default: optimizer.Step(hoisted, model.Gradients); break;
            }
        }

        var byHand = new OptimizerLstmF();
        model.Parameters.CopyTo(byHand.Parameters);
        byHand.ParametersChanged();
        Assert.Equal(Run(byHand), Run(model));
        Assert.NotEqual(before, Run(model));
    }

    // a step of a span that is no model's refreshes nothing, allocates nothing, and leaves the models alone
    [Fact]
    public void Span_overloads_allocate_nothing_with_models_registered()
    {
        var model = new OptimizerLstmF();
        model.InitializeParameters(seed: 3);
        float[] outputs = Run(model);
        var optimizer = new Adam<float>(OptimizerLstmF.ParameterCount);
        float[] parameters = model.Parameters.ToArray(), gradients = new float[parameters.Length];
        gradients.AsSpan().Fill(0.25f);
        model.Gradients.Fill(0.25f);
        Assert.Equal(0, SteadyAllocation.Fewest(() => optimizer.Step(parameters, gradients), calls: 20));
        Assert.Equal(outputs, Run(model));
        Assert.Equal(0, SteadyAllocation.Fewest(() => optimizer.Step(model.Parameters, model.Gradients), calls: 20));
        Assert.NotEqual(outputs, Run(model));
    }

    // the registry holds models weakly and drops the collected ones' entries
    [Fact]
    public void Collected_models_leave_the_registry()
    {
        static void Touch(int count)
        {
            for (int i = 0; i < count; i++) _ = new OptimizerLstmD().Parameters;
        }
        Touch(10_000);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        ParameterOwners.Changed<double>([]); // a pass over the entries, which drops the collected ones
        // other tests running meanwhile keep a few hundred models of their own at most
        Assert.InRange(ParameterOwners.Count<double>(), 0, 2_000);
    }

    private static float[] Run(OptimizerLstmF model)
    {
        var state = new OptimizerLstmF.State();
        var outputs = new float[4];
        for (int t = 0; t < outputs.Length; t++)
            model.Step([0.5f * t - 0.7f], ref state, outputs.AsSpan(t, 1));
        return outputs;
    }

    [Fact]
    public void Step_model_with_a_different_parameter_count_throws_before_modifying()
    {
        var model = new OptimizerLstmD();
        model.InitializeParameters(seed: 1);
        model.Gradients.Fill(1);
        double[] before = model.Parameters.ToArray();
        var optimizer = new Sgd<double>(OptimizerLstmD.ParameterCount + 1, learningRate: 0.1);
        var e = Assert.Throws<ArgumentException>(() => optimizer.Step(model));
        Assert.Equal("model", e.ParamName);
        Assert.Contains($"{OptimizerLstmD.ParameterCount} parameters", e.Message);
        Assert.Equal(before, model.Parameters.ToArray());
        Assert.Equal(0, optimizer.StepCount);
    }

    [Fact]
    public void Step_model_allocates_nothing()
    {
        var model = new OptimizerLstmF();
        model.InitializeParameters(seed: 3);
        model.Gradients.Fill(0.25f);
        var optimizer = new AdamW<float>(OptimizerLstmF.ParameterCount);
        Assert.Equal(0, SteadyAllocation.Fewest(() => optimizer.Step(model), calls: 20));
    }

    public static TheoryData<string> Trainers => new() { "adam", "adamw", "rmsprop", "sgd-momentum", "adagrad" };

    [Theory]
    [MemberData(nameof(Trainers))]
    public void Optimizer_trains_a_tiny_lstm_double(string name) => TrainsDelayTask<OptimizerLstmD, double>(name, output);

    [Theory]
    [MemberData(nameof(Trainers))]
    public void Optimizer_trains_a_tiny_lstm_float(string name) => TrainsDelayTask<OptimizerLstmF, float>(name, output);

    /// <summary>
    /// Regression task that needs the recurrent state: y_t = 0.8·x_{t−1} (y_0 = 0) on four fixed sequences of 12 steps.
    /// Full-batch training, mean squared error computed inline, global-norm clipping at 1. The loss must fall below a
    /// tenth of its initial value within 150 steps.
    /// </summary>
    private static void TrainsDelayTask<TModel, T>(string name, Xunit.Abstractions.ITestOutputHelper log)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int sequences = 4, length = 12, steps = 150;
        var model = TModel.Create();
        model.InitializeParameters(seed: 42);
        int count = model.Parameters.Length;
        Optimizer<T> optimizer = name switch
        {
            "adam" => new Adam<T>(count, learningRate: 0.02),
            "adamw" => new AdamW<T>(count, learningRate: 0.02),
            "rmsprop" => new RmsProp<T>(count, learningRate: 0.005),
            "sgd-momentum" => new Sgd<T>(count, learningRate: 0.1, momentum: 0.9),
            "adagrad" => new Adagrad<T>(count, learningRate: 0.05),
            _ => throw new ArgumentException(name),
        };

        var inputs = new T[sequences][];
        var targets = new T[sequences][];
        for (int s = 0; s < sequences; s++)
        {
            inputs[s] = Enumerable.Range(0, length).Select(t => T.CreateTruncating(Math.Sin(2.3 * s + 1.1 * t + 0.4 * t * t))).ToArray();
            targets[s] = Enumerable.Range(0, length).Select(t => t == 0 ? T.Zero : T.CreateTruncating(0.8) * inputs[s][t - 1]).ToArray();
        }
        var state = model.CreateState();
        var tape = model.CreateTape(length);
        var outputs = new T[length];
        var outputGradients = new T[length];

        double Epoch(bool train)
        {
            double loss = 0;
            model.Gradients.Clear();
            for (int s = 0; s < sequences; s++)
            {
                state.Reset();
                model.Forward(inputs[s], state, tape, outputs);
                for (int t = 0; t < length; t++)
                {
                    double error = double.CreateTruncating(outputs[t] - targets[s][t]);
                    loss += error * error / (sequences * length);
                    outputGradients[t] = T.CreateTruncating(2 * error / (sequences * length));
                }
                if (train) model.Backward(tape, outputGradients, default, null);
            }
            return loss;
        }

        double initial = Epoch(train: false);
        for (int i = 0; i < steps; i++)
        {
            Epoch(train: true);
            T norm = GradientClipping.ClipByGlobalNorm(model.Gradients, T.One);
            Assert.True(T.IsFinite(norm));
            optimizer.Step(model);
        }
        double final = Epoch(train: false);
        log.WriteLine($"{name} ({typeof(T).Name}): MSE {initial:F5} -> {final:F5} in {steps} steps");
        Assert.True(final < 0.1 * initial, $"{name} ({typeof(T).Name}): loss {initial:F5} -> {final:F5}.");
    }

    /// <summary>A hand-written model that records when ParametersChanged is called (the generated ones have no copy).</summary>
    private sealed class CountingModel : IRecurrentModel<CountingModel, double>
    {
        public const int Count = 5;
        private readonly double[] _parameters = new double[Count], _gradients = new double[Count];

        public int ParametersChangedCalls { get; private set; }
        public double ParametersWhenNotified { get; private set; }

        public static ModelInfo Info => throw new NotSupportedException();
        public static CountingModel Create() => new();
        public Span<double> Parameters => _parameters;
        public Span<double> Gradients => _gradients;
        public void InitializeParameters(int seed) => throw new NotSupportedException();

        public void ParametersChanged()
        {
            ParametersChangedCalls++;
            ParametersWhenNotified = _parameters[0];
        }

        public RecurrentState<double> CreateState() => throw new NotSupportedException();
        public RecurrentTape CreateTape(int maxSteps) => throw new NotSupportedException();
        public RecurrentTape CreateTape(int maxSteps, int lanes) => throw new NotSupportedException();
        public void Forward(ReadOnlySpan<double> inputs, ReadOnlySpan<RecurrentState<double>> states, RecurrentTape tape, Span<double> outputs) => throw new NotSupportedException();
        public void Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<RecurrentState<double>> states, RecurrentTape tape, Span<double> outputs) => throw new NotSupportedException();
        public void Step(ReadOnlySpan<double> input, RecurrentState<double> state, Span<double> output) => throw new NotSupportedException();
        public void Step(int token, RecurrentState<double> state, Span<double> output) => throw new NotSupportedException();
        public void Forward(ReadOnlySpan<double> inputs, RecurrentState<double> state, RecurrentTape tape, Span<double> outputs) => throw new NotSupportedException();
        public void Forward(ReadOnlySpan<int> tokens, RecurrentState<double> state, RecurrentTape tape, Span<double> outputs) => throw new NotSupportedException();
        public void Backward(RecurrentTape tape, ReadOnlySpan<double> outputGradients, Span<double> inputGradients, RecurrentState<double>? stateGradient) => throw new NotSupportedException();
    }
}
