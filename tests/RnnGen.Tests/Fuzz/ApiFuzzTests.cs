using System.Numerics;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Fuzz;

/// <summary>
/// A seeded fuzz test of the public runtime API with bad and extreme arguments. Every call either succeeds with finite
/// results (from finite, moderate inputs) or throws an ArgumentException-family / InvalidOperationException / documented
/// exception naming the argument, and a call that throws leaves its outputs, the model and the optimizer as they were.
/// </summary>
public class ApiFuzzTests
{
    private static readonly double[] Doubles =
        { double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1, -1e-300, 0, double.Epsilon, 1e-50, 1e-8, 0.5, 0.9, 1, 1.5, 5, 1e300, double.MaxValue };

    private static readonly int[] Ints = { int.MinValue, -1, 0, 1, 2, 3, 7, int.MaxValue };

    private static T Pick<T>(SeededRandom rng, IReadOnlyList<T> values) => values[rng.NextInt(values.Count)];

    // ------------------------------------------------------------------------------------------------ losses

    [Fact]
    public void Losses_BadAndExtremeArguments() => Probe.WithinSeconds(60, () =>
    {
        LossesFuzz<float>(1);
        LossesFuzz<double>(2);
    });

    private static void LossesFuzz<T>(int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new SeededRandom(seed);
        var probe = new Probe();
        T[] special = { T.NaN, T.PositiveInfinity, T.NegativeInfinity, T.CreateSaturating(double.MaxValue), T.CreateSaturating(double.MinValue), T.Epsilon, T.Zero, T.NegativeZero };
        for (int i = 0; i < 3000; i++)
        {
            int steps = rng.NextInt(4);
            int classes = rng.NextInt(5);
            int logitsLength = rng.NextInt(4) == 0 ? rng.NextInt(12) : steps * classes;
            int gradientLength = rng.NextInt(5) == 0 ? rng.NextInt(12) : logitsLength;
            bool extreme = rng.NextInt(3) == 0;
            var logits = new T[logitsLength];
            for (int k = 0; k < logits.Length; k++)
                logits[k] = extreme && rng.NextInt(3) == 0 ? Pick(rng, special) : T.CreateTruncating((rng.NextDouble() * 2 - 1) * 20);
            var targets = new int[steps];
            for (int k = 0; k < targets.Length; k++)
                targets[k] = rng.NextInt(4) == 0 ? Pick(rng, new[] { int.MinValue, -2, -1, classes, classes + 1, int.MaxValue }) : classes == 0 ? -1 : rng.NextInt(classes);
            var denseTargets = new T[rng.NextInt(5) == 0 ? rng.NextInt(12) : logitsLength];
            for (int k = 0; k < denseTargets.Length; k++)
                denseTargets[k] = extreme && rng.NextInt(4) == 0 ? Pick(rng, special) : T.CreateTruncating(rng.NextDouble() * (rng.NextInt(6) == 0 ? 3 : 1));
            bool inPlace = rng.NextInt(6) == 0 && gradientLength == logitsLength;
            var gradient = inPlace ? logits : new T[gradientLength];
            for (int k = 0; k < gradient.Length && !inPlace; k++) gradient[k] = T.CreateTruncating(k + 0.25);
            bool finiteIn = Probe.AllFinite<T>(logits) && Probe.AllFinite<T>(denseTargets) && !HasHuge(logits) && !HasHuge(denseTargets);

            probe.ClearWatches();
            probe.Watch<T>("gradient", () => gradient);
            probe.Watch<T>("logits", () => logits);
            string shape = $"logits {Probe.Show(logits)}, targets {Probe.Show(targets)}, gradient[{gradient.Length}]{(inPlace ? " (= logits)" : "")}";

            T loss = T.Zero;
            string? Finite() => finiteIn && !(T.IsFinite(loss) && Probe.AllFinite<T>(gradient)) ? $"loss {loss}, gradient {Probe.Show(gradient)}" : null;
            switch (rng.NextInt(4))
            {
                case 0:
                    probe.Run($"Losses.SoftmaxCrossEntropy<{typeof(T).Name}>({shape})",
                        () => loss = Losses.SoftmaxCrossEntropy<T>(logits, targets, gradient), Finite);
                    break;
                case 1:
                    int stated = rng.NextInt(3) == 0 ? Pick(rng, Ints) : classes;
                    probe.Run($"Losses.SoftmaxCrossEntropy<{typeof(T).Name}>({shape}, classes {stated})",
                        () => loss = Losses.SoftmaxCrossEntropy<T>(logits, targets, gradient, stated), Finite);
                    break;
                case 2:
                    probe.Watch<T>("targets", () => denseTargets);
                    probe.Run($"Losses.MeanSquaredError<{typeof(T).Name}>(outputs {Probe.Show(logits)}, targets {Probe.Show(denseTargets)}, gradient[{gradient.Length}])",
                        () => loss = Losses.MeanSquaredError<T>(logits, denseTargets, gradient), Finite);
                    break;
                default:
                    probe.Watch<T>("targets", () => denseTargets);
                    probe.Run($"Losses.BinaryCrossEntropyWithLogits<{typeof(T).Name}>(logits {Probe.Show(logits)}, targets {Probe.Show(denseTargets)}, gradient[{gradient.Length}])",
                        () => loss = Losses.BinaryCrossEntropyWithLogits<T>(logits, denseTargets, gradient), Finite);
                    break;
            }
        }
        probe.AssertClean();
    }

    // values whose loss overflows T for a reason of its own (the true loss is beyond T's range): judged only for not crashing
    private static bool HasHuge<T>(T[] values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (T v in values)
            if (T.Abs(v) > T.CreateTruncating(1e6)) return true;
        return false;
    }

    // ------------------------------------------------------------------------------------------------ optimizers

    [Fact]
    public void Optimizers_BadAndExtremeArguments() => Probe.WithinSeconds(60, () =>
    {
        OptimizersFuzz<float>(3);
        OptimizersFuzz<double>(4);
    });

    private static Optimizer<T>? NewOptimizer<T>(SeededRandom rng, Probe probe, int count, out string call, out bool moderate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double D() => rng.NextInt(3) == 0 ? Pick(rng, Doubles) : Pick(rng, new[] { 0, 1e-8, 1e-3, 0.1, 0.5, 0.9, 0.999 });
        double lr = D(), a = D(), b = D(), c = D(), d = D();
        bool flag = rng.NextInt(2) == 0, flag2 = rng.NextInt(2) == 0;
        Optimizer<T>? made = null;
        Func<Optimizer<T>> create;
        // moderate: hyper-parameters for which finite gradients must give finite parameters
        static bool In(double v, double lo, double hi) => v >= lo && v <= hi;
        switch (rng.NextInt(5))
        {
            case 0:
                call = $"new Sgd<{typeof(T).Name}>({count}, lr {lr}, momentum {a}, dampening {b}, weightDecay {c}, nesterov {flag})";
                create = () => new Sgd<T>(count, lr, a, b, c, flag);
                moderate = In(lr, 0, 1) && In(a, 0, 1) && In(b, 0, 1) && In(c, 0, 1);
                break;
            case 1:
                call = $"new Adam<{typeof(T).Name}>({count}, lr {lr}, beta1 {a}, beta2 {b}, epsilon {c}, weightDecay {d}, amsgrad {flag}, decoupled {flag2})";
                create = () => new Adam<T>(count, lr, a, b, c, d, flag, flag2);
                moderate = In(lr, 0, 1) && In(c, 1e-8, 1) && In(d, 0, 1);
                break;
            case 2:
                call = $"new AdamW<{typeof(T).Name}>({count}, lr {lr}, beta1 {a}, beta2 {b}, epsilon {c}, weightDecay {d}, amsgrad {flag})";
                create = () => new AdamW<T>(count, lr, a, b, c, d, flag);
                moderate = In(lr, 0, 1) && In(c, 1e-8, 1) && In(d, 0, 1);
                break;
            case 3:
                call = $"new RmsProp<{typeof(T).Name}>({count}, lr {lr}, alpha {a}, epsilon {b}, weightDecay {c}, momentum {d}, centered {flag})";
                create = () => new RmsProp<T>(count, lr, a, b, c, d, flag);
                moderate = In(lr, 0, 1) && In(b, 1e-8, 1) && In(c, 0, 1) && In(d, 0, 1);
                break;
            default:
                call = $"new Adagrad<{typeof(T).Name}>({count}, lr {lr}, lrDecay {a}, weightDecay {b}, initialAccumulator {c}, epsilon {d})";
                create = () => new Adagrad<T>(count, lr, a, b, c, d);
                moderate = In(lr, 0, 1) && In(a, 0, 1) && In(b, 0, 1) && In(c, 0, 1) && In(d, 1e-8, 1);
                break;
        }
        probe.ClearWatches();
        probe.Run(call, () => made = create());
        return made;
    }

    private static void OptimizersFuzz<T>(int seed) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new SeededRandom(seed);
        var probe = new Probe();
        for (int i = 0; i < 1500; i++)
        {
            int count = rng.NextInt(8) == 0 ? Pick(rng, new[] { int.MinValue, -1, 0, int.MaxValue }) : 1 + rng.NextInt(40);
            var optimizer = NewOptimizer<T>(rng, probe, count, out string made, out bool moderate);
            if (optimizer is null || count > 1 << 20)
                continue; // (an optimizer without state buffers takes int.MaxValue parameters; this test cannot allocate them)

            var parameters = Generated.Harness.Random<T>(count, i, 0.5);
            T[] state0 = optimizer.State.ToArray();
            probe.ClearWatches();
            probe.Watch<T>("parameters", () => parameters);
            probe.Watch<T>("optimizer.State", () => optimizer.State);
            probe.Watch("optimizer.StepCount", () => optimizer.StepCount);
            for (int step = 0; step < 4; step++)
            {
                int length = rng.NextInt(5) == 0 ? Math.Max(0, count + rng.NextInt(3) - 1) : count;
                var gradients = Generated.Harness.Random<T>(length, 100 * i + step, rng.NextInt(4) == 0 ? 1e3 : 1);
                if (rng.NextInt(6) == 0 && length > 0)
                    gradients[rng.NextInt(length)] = Pick(rng, new[] { T.NaN, T.PositiveInfinity, T.NegativeInfinity, T.Zero });
                if (rng.NextInt(6) == 0)
                    Array.Clear(gradients);
                probe.Watch<T>("gradients", () => gradients);
                bool finiteIn = Probe.AllFinite<T>(gradients) && Probe.AllFinite<T>(parameters);
                string? Finite() => moderate && finiteIn && !Probe.AllFinite<T>(parameters) ? $"parameters {Probe.Show(parameters)}" : null;
                string call = $"{made}.Step(parameters[{parameters.Length}], gradients {Probe.Show(gradients)}) at step {optimizer.StepCount + 1}";
                switch (rng.NextInt(4))
                {
                    case 0:
                    case 1:
                        probe.Run(call, () => optimizer.Step(parameters, (ReadOnlySpan<T>)gradients), Finite);
                        break;
                    case 2:
                        T clip = Pick(rng, new[] { T.NaN, -T.One, T.Zero, T.One, T.PositiveInfinity, T.CreateTruncating(5) });
                        probe.Run(call + $" clipped at {clip}", () => optimizer.Step(parameters, gradients.AsSpan(), clip), Finite,
                            e => false);
                        break;
                    default:
                        double lr = Pick(rng, Doubles);
                        probe.Run($"{made}.LearningRate = {lr}", () => optimizer.LearningRate = lr,
                            () => optimizer.LearningRate == lr ? null : $"LearningRate {optimizer.LearningRate}");
                        if (!(lr >= 0 && lr <= 1)) moderate = false;
                        break;
                }
                probe.ClearWatches();
                probe.Watch<T>("parameters", () => parameters);
                probe.Watch<T>("optimizer.State", () => optimizer.State);
                probe.Watch("optimizer.StepCount", () => optimizer.StepCount);
            }
            long stepCount = Pick(rng, new[] { long.MinValue, -1L, 0L, 5L, long.MaxValue });
            probe.Run($"{made}.StepCount = {stepCount}", () => optimizer.StepCount = stepCount);
            probe.Run($"{made}.Reset()", optimizer.Reset,
                () => optimizer.StepCount == 0 && optimizer.State.SequenceEqual(state0) ? null : "a state other than the initial one");
        }
        probe.AssertClean();
    }

    [Fact]
    public void Optimizers_StepOfAModel_OfAnotherSize() => Probe.WithinSeconds(60, () =>
    {
        var probe = new Probe();
        var model = Generated.Harness.NewModel<LstmF2x6Head, float>(1);
        Generated.Harness.Random<float>(model.Gradients.Length, 2).CopyTo(model.Gradients);
        foreach (int count in new[] { LstmF2x6Head.ParameterCount - 1, LstmF2x6Head.ParameterCount + 1, LstmF3x5.ParameterCount })
        {
            var adam = new Adam<float>(count);
            probe.ClearWatches();
            probe.Watch<float>("model.Parameters", () => model.Parameters);
            probe.Watch<float>("model.Gradients", () => model.Gradients);
            probe.Watch<float>("optimizer.State", () => adam.State);
            probe.Watch("optimizer.StepCount", () => adam.StepCount);
            probe.Run($"new Adam<float>({count}).Step(LstmF2x6Head)", () => adam.Step(model), () => "no error for the wrong size");
            probe.Run($"new Adam<float>({count}).Step(LstmF2x6Head, 5)", () => adam.Step(model, 5f), () => "no error for the wrong size");
            probe.Run($"new Adam<float>({count}).Step(LstmF2x6Head.Parameters, Gradients)", () => adam.Step(model.Parameters, (ReadOnlySpan<float>)model.Gradients), () => "no error for the wrong size");
        }
        probe.AssertClean();
    });

    // ------------------------------------------------------------------------------------------------ sampling

    [Fact]
    public void Sampling_BadAndExtremeArguments() => Probe.WithinSeconds(60, () =>
    {
        var rng = new SeededRandom(5);
        var probe = new Probe();
        double[] temperatures = { double.NaN, double.NegativeInfinity, -1, 0, double.Epsilon, 1e-300, 1e-3, 1, 1e300, double.MaxValue, double.PositiveInfinity };
        double[] topPs = { double.NaN, -1, 0, double.Epsilon, 1e-300, 0.3, 0.9, 1, 1.0000001, double.PositiveInfinity };
        int[] topKs = { int.MinValue, -1, 0, 1, 2, 5, int.MaxValue };
        float[] special = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue, float.Epsilon, -0f };
        for (int i = 0; i < 3000; i++)
        {
            double temperature = Pick(rng, temperatures), topP = Pick(rng, topPs);
            int topK = Pick(rng, topKs);
            SamplingOptions? options = null;
            string made = $"new SamplingOptions {{ Temperature = {temperature}, TopK = {topK}, TopP = {topP} }}";
            probe.ClearWatches();
            probe.Run(made, () => options = new SamplingOptions { Temperature = temperature, TopK = topK, TopP = topP, Seed = i });
            if (options is null)
                continue;
            int vocabulary = rng.NextInt(10) == 0 ? Pick(rng, Ints) : 1 + rng.NextInt(9);
            TokenSampler<float>? sampler = null;
            probe.Run($"new TokenSampler<float>({vocabulary}, {made})", () => sampler = new TokenSampler<float>(vocabulary, options));
            if (sampler is null)
                continue;
            for (int draw = 0; draw < 4; draw++)
            {
                var logits = new float[rng.NextInt(8) == 0 ? rng.NextInt(12) : vocabulary];
                for (int k = 0; k < logits.Length; k++)
                    logits[k] = rng.NextInt(5) == 0 ? Pick(rng, special) : (float)((rng.NextDouble() * 2 - 1) * 10);
                probe.Watch<float>("logits", () => logits);
                int token = -1;
                probe.Run($"TokenSampler({vocabulary}, {made}).Sample({Probe.Show(logits)})", () => token = sampler.Sample(logits),
                    () => (uint)token >= (uint)vocabulary ? $"token {token}"
                        : logits[token] == float.NegativeInfinity ? $"token {token}, whose logit is −∞" : null);
            }
        }
        probe.AssertClean();
    });

    [Fact]
    public void TokenGenerator_BadAndExtremeArguments() => Probe.WithinSeconds(60, () =>
    {
        var rng = new SeededRandom(6);
        var probe = new Probe();
        var model = Generated.Harness.NewModel<LstmFTokens, float>(3);
        for (int i = 0; i < 200; i++)
        {
            var options = new SamplingOptions
            {
                Temperature = Pick(rng, new[] { 0, double.Epsilon, 1e-300, 1, 1e300, double.MaxValue }),
                TopK = Pick(rng, new[] { 0, 1, 3, int.MaxValue }),
                TopP = Pick(rng, new[] { double.Epsilon, 0.5, 1 }),
                Seed = i,
            };
            var generator = new TokenGenerator<LstmFTokens, float>(model, options);
            string made = $"TokenGenerator(LstmFTokens, {options})";
            probe.ClearWatches();
            probe.Watch<float>("generator.State", () => generator.State.Values);
            probe.Watch<float>("generator.Logits", () => generator.Logits);
            for (int call = 0; call < 4; call++)
            {
                int[] tokens = new int[rng.NextInt(4)];
                for (int k = 0; k < tokens.Length; k++)
                    tokens[k] = rng.NextInt(4) == 0 ? Pick(rng, new[] { int.MinValue, -1, LstmFTokens.InputSize, int.MaxValue }) : rng.NextInt(LstmFTokens.InputSize);
                int count = rng.NextInt(5) == 0 ? Pick(rng, Ints) : rng.NextInt(4);
                int[] destination = new int[Math.Clamp(count, 0, 8)];
                switch (rng.NextInt(4))
                {
                    case 0:
                        probe.Run($"{made}.Prime({Probe.Show(tokens)})", () => generator.Prime(tokens));
                        break;
                    case 1:
                        int next = -1;
                        probe.Run($"{made}.Next()", () => next = generator.Next(),
                            () => (uint)next < LstmFTokens.OutputSize ? null : $"token {next}");
                        break;
                    case 2:
                        probe.Watch<int>("destination", () => destination);
                        probe.Run($"{made}.Generate(int[{destination.Length}])", () => generator.Generate(destination),
                            () => destination.All(t => (uint)t < LstmFTokens.OutputSize) ? null : $"tokens {Probe.Show(destination)}");
                        break;
                    default:
                        int c = Math.Min(count, 8);
                        int[]? produced = null;
                        probe.Run($"{made}.Generate({count})", () => produced = generator.Generate(count < 0 ? count : c).ToArray(),
                            () => produced!.All(t => (uint)t < LstmFTokens.OutputSize) ? null : $"tokens {Probe.Show(produced)}");
                        break;
                }
                probe.ClearWatches();
                probe.Watch<float>("generator.State", () => generator.State.Values);
                probe.Watch<float>("generator.Logits", () => generator.Logits);
            }
        }
        probe.AssertClean();
    });

    // ------------------------------------------------------------------------------------------------ datasets and trainer

    private sealed class ListDataset<T>(int count, Func<int, TrainingSequence<T>> item) : ISequenceDataset<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public int Count => count;
        public TrainingSequence<T> this[int index] => item(index);
    }

    [Fact]
    public void DatasetBuilders_BadAndExtremeArguments() => Probe.WithinSeconds(60, () =>
    {
        var rng = new SeededRandom(7);
        var probe = new Probe();
        int[][] corpora = { Array.Empty<int>(), new[] { 1 }, new[] { 1, 2 }, Generated.Harness.RandomTokens(50, 11, 1) };
        foreach (int[] corpus in corpora)
            foreach (int streams in new[] { int.MinValue, -1, 0, 1, 2, 49, 50, int.MaxValue })
            {
                SequenceDataset<float>? d = null;
                probe.Run($"SequenceDataset<float>.FromTokenStream(int[{corpus.Length}], {streams})", () => d = SequenceDataset<float>.FromTokenStream(corpus, streams),
                    () => d!.Count == streams ? null : $"{d!.Count} sequences");
                if (d is not null && d.Count > 1 && d[0].Tokens.Length != (corpus.Length - 1) / streams)
                    probe.Failures.Add($"FromTokenStream(int[{corpus.Length}], {streams}): sequences of {d[0].Tokens.Length} steps");
            }
        probe.Run("new SequenceDataset<float>(null)", () => new SequenceDataset<float>(null!));
        probe.Run("new SequenceDataset<float>([default])", () => new SequenceDataset<float>(new TrainingSequence<float>[1]));
        probe.Run("TrainingSequence<float>.FromTokens([], [])", () => TrainingSequence<float>.FromTokens(Array.Empty<int>(), Array.Empty<int>()));
        probe.Run("TrainingSequence<float>.FromTokens([1], [1, 2])", () => TrainingSequence<float>.FromTokens(new[] { 1 }, new[] { 1, 2 }));
        probe.Run("TrainingSequence<float>.FromVectors([], [1])", () => TrainingSequence<float>.FromVectors(Array.Empty<float>(), new[] { 1 }));
        probe.Run("TrainingSequence<float>.FromVectors([], [1f])", () => TrainingSequence<float>.FromVectors(Array.Empty<float>(), new[] { 1f }));
        foreach (int count in new[] { 0, 1, 2, 5 })
        {
            var d = new SequenceDataset<float>(Enumerable.Range(0, count).Select(i => TrainingSequence<float>.FromTokens(new[] { i }, new[] { i })));
            foreach (double fraction in Doubles)
            {
                long seed = rng.NextInt(1000);
                (SequenceDataset<float> A, SequenceDataset<float> B) split = default;
                probe.Run($"SequenceDataset<float>({count} sequences).Split({fraction}, {seed})", () => split = d.Split(fraction, seed),
                    () => split.A!.Count + split.B!.Count == count && split.A.Count > 0 && split.B.Count > 0 ? null : $"{split.A.Count} + {split.B.Count}");
            }
        }
        probe.AssertClean();
    });

    // A data set for LstmF2x6Head (dense, Input 4, Output 3) or LstmFTokens (tokens, vocabulary 11), sound or spoiled.
    private static (ISequenceDataset<float> Data, string Description) FuzzData(SeededRandom rng, bool tokens, SequenceLoss loss)
    {
        int input = tokens ? LstmFTokens.InputSize : LstmF2x6Head.InputSize;
        int width = tokens ? LstmFTokens.OutputWidth : LstmF2x6Head.OutputWidth;
        int count = 1 + rng.NextInt(5);
        var items = new TrainingSequence<float>[count];
        var notes = new List<string>();
        int spoiled = rng.NextInt(3) == 0 ? rng.NextInt(count) : -1;   // one sequence of a third of the data sets
        for (int i = 0; i < count; i++)
        {
            int steps = 1 + rng.NextInt(6);
            int spoil = i == spoiled ? 1 + rng.NextInt(11) : 0;
            int targetSteps = spoil == 1 ? steps + 1 : 1 + rng.NextInt(steps);
            ReadOnlyMemory<int> tokenIds = default;
            ReadOnlyMemory<float> inputs = default;
            bool asTokens = spoil == 2 ? !tokens : tokens;
            if (asTokens)
            {
                var t = Generated.Harness.RandomTokens(steps, input, rng.NextInt(1000));
                if (spoil == 3) t[rng.NextInt(steps)] = Pick(rng, new[] { int.MinValue, -1, input, int.MaxValue });
                tokenIds = t;
            }
            else
            {
                var v = Generated.Harness.Random<float>(steps * input + (spoil == 4 ? 1 : 0), rng.NextInt(1000));
                if (spoil == 5) v[rng.NextInt(v.Length)] = Pick(rng, new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity });
                inputs = v;
            }
            bool labels = spoil == 6 ? loss != SequenceLoss.SoftmaxCrossEntropy : loss == SequenceLoss.SoftmaxCrossEntropy;
            if (labels)
            {
                var l = new int[targetSteps];
                for (int k = 0; k < l.Length; k++) l[k] = rng.NextInt(width);
                if (spoil == 7) l[rng.NextInt(l.Length)] = Pick(rng, new[] { int.MinValue, -2, width, int.MaxValue });
                if (spoil == 8) Array.Fill(l, -1);
                if (asTokens && l.Length > steps)   // refused by the builder itself
                    Assert.Equal("labels", Assert.ThrowsAny<ArgumentException>(() => TrainingSequence<float>.FromTokens(tokenIds, l)).ParamName);
                items[i] = asTokens ? TrainingSequence<float>.FromTokens(tokenIds, l.AsMemory(0, Math.Min(l.Length, steps))) : TrainingSequence<float>.FromVectors(inputs, l);
            }
            else
            {
                var v = new float[targetSteps * width + (spoil == 9 ? 1 : 0)];
                for (int k = 0; k < v.Length; k++) v[k] = (float)rng.NextDouble();
                if (spoil == 10) v[rng.NextInt(v.Length)] = Pick(rng, new[] { float.NaN, float.PositiveInfinity, -0.5f, 1.5f });
                if (spoil == 11) v = Array.Empty<float>();
                items[i] = asTokens ? TrainingSequence<float>.FromTokens(tokenIds, v) : TrainingSequence<float>.FromVectors(inputs, v);
            }
            if (spoil <= 11 && spoil > 0) notes.Add($"[{i}] spoiled {spoil}");
        }
        int shape = rng.NextInt(40);
        if (shape == 0) return (new ListDataset<float>(0, i => items[i]), "an empty data set");
        if (shape == 1) return (new ListDataset<float>(-3, i => items[i]), "a data set of Count -3");
        if (shape == 2) return (new ListDataset<float>(count, i => default), "a data set of default sequences");
        return (new SequenceDataset<float>(items), $"{count} sequences {string.Join(" ", notes)}");
    }

    [Fact]
    public void Trainer_BadAndExtremeOptionsAndData() => Probe.WithinSeconds(120, () =>
    {
        var rng = new SeededRandom(8);
        var probe = new Probe();
        double?[] clips = { null, null, 1e-30, 5, 1e30 }, badClips = { double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1, 0, double.Epsilon, 1e300 };
        int trained = 0;
        for (int i = 0; i < 160; i++)
        {
            bool tokens = rng.NextInt(2) == 0;
            // each option valid most of the time, so that most runs reach training with some odd value
            T Opt<T>(T[] valid, T[] invalid) => rng.NextInt(14) == 0 ? Pick(rng, invalid) : Pick(rng, valid);
            var options = new TrainerOptions
            {
                Epochs = Opt(new[] { 1, 2 }, new[] { int.MinValue, -1, 0 }),
                BatchSize = Opt(new[] { 1, 2, 3, 16, int.MaxValue }, new[] { int.MinValue, 0 }),
                WindowLength = Opt(new int?[] { null, null, 1, 2, 3, int.MaxValue }, new int?[] { -1, 0 }),
                CarryState = rng.NextInt(2) == 0,
                Shuffle = rng.NextInt(2) == 0,
                Seed = Pick(rng, new[] { long.MinValue, -1, 0, long.MaxValue }),
                WorkerCount = Opt(new[] { 1, 2, 3, int.MaxValue }, new[] { int.MinValue, 0 }),
                Loss = Opt(new[] { SequenceLoss.SoftmaxCrossEntropy, SequenceLoss.SoftmaxCrossEntropy, SequenceLoss.MeanSquaredError, SequenceLoss.BinaryCrossEntropyWithLogits }, new[] { (SequenceLoss)7 }),
                ClipGradientValue = Opt(clips, badClips),
                ClipGradientNorm = Opt(clips, badClips),
                LearningRateSchedule = Pick(rng, new ILearningRateSchedule?[] { null, null, new ConstantSchedule(0.01), new ConstantSchedule(0), new ConstantSchedule(1e300), new CosineWithWarmupSchedule(0.1, 2, 5) }),
                NonFinite = Opt(new[] { NonFiniteHandling.Throw, NonFiniteHandling.Skip }, new[] { (NonFiniteHandling)(-1) }),
                Patience = Opt(new int?[] { null, 1, int.MaxValue }, new int?[] { -1, 0 }),
                MinImprovement = Opt(new[] { 0, 1e-3, 1e300 }, new[] { double.NaN, -1, double.PositiveInfinity }),
                RestoreBestParameters = rng.NextInt(2) == 0,
            };
            string opts = $"Epochs {options.Epochs}, BatchSize {options.BatchSize}, WindowLength {options.WindowLength?.ToString() ?? "null"}, WorkerCount {options.WorkerCount}, " +
                $"Loss {options.Loss}, ClipValue {options.ClipGradientValue?.ToString() ?? "null"}, ClipNorm {options.ClipGradientNorm?.ToString() ?? "null"}, " +
                $"Schedule {options.LearningRateSchedule?.GetType().Name ?? "null"}, NonFinite {options.NonFinite}, Patience {options.Patience?.ToString() ?? "null"}, " +
                $"MinImprovement {options.MinImprovement}, Restore {options.RestoreBestParameters}";
            var (data, described) = FuzzData(rng, tokens, Enum.IsDefined(options.Loss) ? options.Loss : SequenceLoss.SoftmaxCrossEntropy);
            var (validation, validationDescribed) = rng.NextInt(3) == 0 ? FuzzData(rng, tokens, options.Loss) : (null, "none");
            trained += tokens
                ? TrainOnce<LstmFTokens>(probe, rng, options, opts, data, described, validation, validationDescribed)
                : TrainOnce<LstmF2x6Head>(probe, rng, options, opts, data, described, validation, validationDescribed);
        }
        probe.AssertClean();
        Assert.True(trained >= 30, $"only {trained} of 160 fuzzed runs trained: the fuzz no longer reaches training");
    });

    private static int TrainOnce<TModel>(Probe probe, SeededRandom rng, TrainerOptions options, string opts,
        ISequenceDataset<float> data, string described, ISequenceDataset<float>? validation, string validationDescribed)
        where TModel : class, IRecurrentModel<TModel, float>
    {
        var model = Generated.Harness.NewModel<TModel, float>(rng.NextInt(100));
        int spoilModel = rng.NextInt(30);
        if (spoilModel == 0) model.Parameters.Clear();
        if (spoilModel == 1) model.Parameters[3] = float.NaN;
        model.ParametersChanged();
        Optimizer<float> optimizer = rng.NextInt(2) == 0 ? new Adam<float>(model.Parameters.Length, 1e-2) : new Sgd<float>(model.Parameters.Length, 0.1, momentum: 0.9);
        if (rng.NextInt(30) == 0) optimizer = new Sgd<float>(model.Parameters.Length + 1);
        SequenceTrainer<TModel, float>? trainer = null;
        string name = typeof(TModel).Name;
        probe.ClearWatches();
        probe.Watch<float>("model.Parameters", () => model.Parameters);
        probe.Watch<float>("optimizer.State", () => optimizer.State);
        probe.Watch("optimizer.StepCount", () => optimizer.StepCount);
        probe.Run($"SequenceTrainer.Create({name}, {optimizer.GetType().Name}({optimizer.ParameterCount}), {{ {opts} }})",
            () => trainer = SequenceTrainer.Create(model, optimizer, options));
        if (trainer is null)
            return 0;
        TrainingResult? result = null;
        probe.Run($"trainer({name}, {{ {opts} }}).Train({described}, validation {validationDescribed}){(spoilModel < 2 ? $" with spoiled model {spoilModel}" : "")}",
            () => result = trainer.Train(data, validation),
            () => Probe.AllFinite<float>(model.Parameters) ? null : "parameters not finite",
            // documented: an update that makes the parameters non-finite from finite gradients is applied, then refused
            e => e is InvalidOperationException && e.Message.Contains("NaN", StringComparison.Ordinal) || e is NonFiniteStepException);
        probe.Run($"trainer({name}, {{ {opts} }}).Evaluate({described})", () => trainer.Evaluate(data));
        return result is null ? 0 : 1;
    }

    // ------------------------------------------------------------------------------------------------ generated models

    [Fact]
    public void GeneratedModels_WrongSpansTapesAndStates() => Probe.WithinSeconds(60, () =>
    {
        ModelFuzz<LstmF2x6Head, LstmFTokens>(9);
        ModelFuzz<LstmFTokens, GruF3x5>(10);
        ModelFuzz<GruF3x5, LstmF2x6Head>(11);
    });

    private static void ModelFuzz<TModel, TOther>(int seed)
        where TModel : class, IRecurrentModel<TModel, float>
        where TOther : class, IRecurrentModel<TOther, float>
    {
        var rng = new SeededRandom(seed);
        var probe = new Probe();
        var info = TModel.Info;
        int input = info.Tokens ? 1 : info.InputSize, width = info.OutputWidth;
        var model = Generated.Harness.NewModel<TModel, float>(seed);
        var other = Generated.Harness.NewModel<TOther, float>(seed);
        string name = typeof(TModel).Name;
        for (int i = 0; i < 400; i++)
        {
            int steps = 1 + rng.NextInt(4), lanes = 1 + rng.NextInt(3);
            int Off() => rng.NextInt(5) == 0 ? rng.NextInt(3) - 1 : 0;
            var states = new RecurrentState<float>[lanes];
            for (int l = 0; l < lanes; l++)
            {
                states[l] = rng.NextInt(15) == 0 ? other.CreateState() : model.CreateState();
                Generated.Harness.Random<float>(states[l].Values.Length, 100 * i + l).CopyTo(states[l].Values);
            }
            if (lanes > 1 && rng.NextInt(15) == 0) states[1] = states[0];
            int tapeSteps = rng.NextInt(6) == 0 ? Math.Max(1, steps - 1) : steps;
            int tapeLanes = rng.NextInt(6) == 0 ? Math.Max(1, lanes - 1) : lanes;
            RecurrentTape tape = rng.NextInt(15) == 0 ? other.CreateTape(tapeSteps, tapeLanes) : model.CreateTape(tapeSteps, tapeLanes);
            var inputs = Generated.Harness.Random<float>(Math.Max(0, steps * lanes * info.InputSize + Off()), i);
            var tokens = Generated.Harness.RandomTokens(Math.Max(0, steps * lanes + Off()), info.InputSize, i);
            if (rng.NextInt(10) == 0 && tokens.Length > 0) tokens[rng.NextInt(tokens.Length)] = Pick(rng, new[] { int.MinValue, -1, info.InputSize, int.MaxValue });
            var outputs = new float[Math.Max(0, steps * lanes * width + Off())];
            Array.Fill(outputs, 0.5f);
            Generated.Harness.Random<float>(model.Gradients.Length, i).CopyTo(model.Gradients);

            probe.ClearWatches();
            probe.Watch<float>("outputs", () => outputs);
            probe.Watch<float>("model.Parameters", () => model.Parameters);
            probe.Watch<float>("model.Gradients", () => model.Gradients);
            for (int l = 0; l < lanes; l++)
            {
                var s = states[l];
                probe.Watch<float>($"states[{l}]", () => s.Values);
            }
            string shapes = $"steps {steps}, lanes {lanes}, inputs[{inputs.Length}], tokens {Probe.Show(tokens)}, outputs[{outputs.Length}], tape({tapeSteps}, {tapeLanes}){(tape.GetType().DeclaringType != typeof(TModel) ? " of " + typeof(TOther).Name : "")}, states of {string.Join("/", states.Select(s => s.GetType().DeclaringType!.Name))}";
            string? FiniteOut() => Probe.AllFinite<float>(outputs) ? null : $"outputs {Probe.Show(outputs)}";
            bool forwarded = false;
            switch (rng.NextInt(3))
            {
                case 0:
                    var step = new float[Math.Max(0, width + Off())];
                    probe.Watch<float>("output", () => step);
                    if (info.Tokens)
                    {
                        int token = rng.NextInt(4) == 0 ? Pick(rng, new[] { int.MinValue, -1, info.InputSize, int.MaxValue }) : tokens.Length > 0 ? tokens[0] : 0;
                        probe.Run($"{name}.Step(token {token}, state, output[{step.Length}]) {shapes}", () => model.Step(token, states[0], step));
                    }
                    else
                    {
                        var x = inputs.AsSpan(0, Math.Min(inputs.Length, info.InputSize + Off())).ToArray();
                        probe.Run($"{name}.Step(input[{x.Length}], state, output[{step.Length}]) {shapes}", () => model.Step(x, states[0], step));
                    }
                    break;
                default:
                    bool oneLane = lanes == 1 && rng.NextInt(2) == 0;
                    Exception? e = probe.Run($"{name}.Forward({(oneLane ? "state" : "states")}) {shapes}", () =>
                    {
                        if (info.Tokens && oneLane) model.Forward(tokens, states[0], tape, outputs);
                        else if (info.Tokens) model.Forward(tokens, states, tape, outputs);
                        else if (oneLane) model.Forward(inputs, states[0], tape, outputs);
                        else model.Forward(inputs, states, tape, outputs);
                    }, FiniteOut);
                    forwarded = e is null;
                    break;
            }
            if (rng.NextInt(2) == 0)
            {
                var outputGradients = Generated.Harness.Random<float>(Math.Max(0, steps * lanes * width + Off()), i + 7);
                var inputGradients = info.Tokens || rng.NextInt(3) == 0 ? Array.Empty<float>() : new float[Math.Max(0, steps * lanes * info.InputSize + Off())];
                RecurrentState<float>? stateGradient = rng.NextInt(3) switch { 0 => null, 1 => model.CreateState(), _ => other.CreateState() };
                probe.ClearWatches();
                probe.Watch<float>("model.Gradients", () => model.Gradients);
                probe.Watch<float>("model.Parameters", () => model.Parameters);
                probe.Watch<float>("inputGradients", () => inputGradients);
                if (stateGradient is not null) probe.Watch<float>("stateGradient", () => stateGradient.Values);
                probe.Run($"{name}.Backward(outputGradients[{outputGradients.Length}], inputGradients[{inputGradients.Length}], stateGradient {stateGradient?.GetType().DeclaringType!.Name ?? "null"}) after {(forwarded ? "" : "no ")}Forward, {shapes}",
                    () => model.Backward(tape, outputGradients, inputGradients, stateGradient),
                    () => Probe.AllFinite<float>(model.Gradients) ? null : "gradients not finite");
            }
        }
        probe.AssertClean();
    }
}
