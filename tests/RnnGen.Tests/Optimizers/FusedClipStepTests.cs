using System.Numerics;
using RnnGen.Tests.Generated;
using static RnnGen.Tests.Optimizers.OptimizerCases;

namespace RnnGen.Tests.Optimizers;

/// <summary>
/// <c>optimizer.Step(parameters, gradients, clipValue)</c> and <c>optimizer.Step(model, clipValue)</c>: one pass that clips
/// and steps, against the two separate steps — the gradients clamped here element by element (IEEE minimum then maximum,
/// as <c>clip_grad_value_</c>), then the plain <c>Step</c> — bit for bit, and against the double reference optimizers.
/// </summary>
public class FusedClipStepTests
{
    private const int Steps = 4;

    /// <summary>Clamps at 1: the test gradients (3·sin(…)/t²) exceed it in the first steps and not in the later ones.</summary>
    private const double Clip = 1.0;

    // 3: only the padded remainder; 37 and 1003: full vectors (every width) plus a remainder.
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string name in Names)
            foreach (int n in new[] { 3, 37, 1003 })
                data.Add(name, n);
        return data;
    }

    [Theory, MemberData(nameof(Cases))]
    public void Float_fused_step_is_clip_then_step_bit_for_bit(string name, int n) => FusedIsClipThenStep<float>(name, n);

    [Theory, MemberData(nameof(Cases))]
    public void Double_fused_step_is_clip_then_step_bit_for_bit(string name, int n) => FusedIsClipThenStep<double>(name, n);

    private static void FusedIsClipThenStep<T>(string name, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var fused = Create<T>(name, n);
        var separate = Create<T>(name, n);
        var reference = Reference(name, n);
        T[] p = InitialParameters<T>(n), q = InitialParameters<T>(n);
        double[] expected = ToDouble(p);
        T clip = T.CreateTruncating(Clip);
        int clamped = 0;
        for (int t = 1; t <= Steps; t++)
        {
            T[] g = Gradient<T>(n, t);
            T[] clipped = g.Select(x => ClampReference(x, clip)).ToArray();
            clamped += g.Zip(clipped).Count(z => z.First != z.Second);

            fused.Step(p, g, clip);
            separate.Step(q, clipped);
            reference.Step(expected, ToDouble(clipped));

            string what = $"{name}, {typeof(T).Name}, n = {n}, step {t}";
            Assert.True(Bits(q).SequenceEqual(Bits(p)), what + ": parameters");
            Assert.True(Bits(separate.State.ToArray()).SequenceEqual(Bits(fused.State.ToArray())), what + ": state");
            Assert.True(Bits(clipped).SequenceEqual(Bits(g)), what + ": the gradients are left clipped");
            Assert.Equal(t, fused.StepCount);
            AssertClose(expected, p, what);
        }
        Assert.True(clamped > 0, "the clip was never active: the test would not test it");
    }

    /// <summary>NaN, ±∞, ±0, values at and beyond the limit, a limit of 0 and of +∞: the gradients as the element-wise clamp.</summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(2.5)]
    [InlineData(double.PositiveInfinity)]
    public void Special_values_are_clamped_as_IEEE_minimum_then_maximum(double limit)
    {
        SpecialValues<float>(limit);
        SpecialValues<double>(limit);
    }

    private static void SpecialValues<T>(double limit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] specials = [T.NaN, T.PositiveInfinity, T.NegativeInfinity, T.Zero, T.NegativeZero, T.CreateTruncating(2.5),
            T.CreateTruncating(-2.5), T.CreateTruncating(7), T.CreateTruncating(-7), T.CreateTruncating(1e-3), T.CreateTruncating(-1e-30)];
        foreach (int n in new[] { specials.Length, 101 }) // the remainder only; vectors and a remainder
        {
            T[] g = Enumerable.Range(0, n).Select(i => specials[(i * 7) % specials.Length]).ToArray();
            T clip = T.CreateTruncating(limit);
            T[] clipped = g.Select(x => ClampReference(x, clip)).ToArray();
            T[] p = InitialParameters<T>(n), q = InitialParameters<T>(n);
            var fused = new Sgd<T>(n, learningRate: 0.5, momentum: 0.5);
            var separate = new Sgd<T>(n, learningRate: 0.5, momentum: 0.5);
            fused.Step(p, g, clip);
            separate.Step(q, clipped);
            Assert.True(Bits(clipped).SequenceEqual(Bits(g)), $"{typeof(T).Name}, limit {limit}, n = {n}: gradients");
            Assert.True(Bits(q).SequenceEqual(Bits(p)), $"{typeof(T).Name}, limit {limit}, n = {n}: parameters");

            // GradientClipping.ClipByValue gives the same gradients
            T[] h = Enumerable.Range(0, n).Select(i => specials[(i * 7) % specials.Length]).ToArray();
            GradientClipping.ClipByValue<T>(h, clip);
            Assert.True(Bits(clipped).SequenceEqual(Bits(h)), $"{typeof(T).Name}, limit {limit}, n = {n}: ClipByValue");
        }
    }

    [Fact]
    public void An_infinite_clip_value_is_the_plain_step()
    {
        const int n = 37;
        var fused = new RmsProp<float>(n, learningRate: 0.01, momentum: 0.3);
        var plain = new RmsProp<float>(n, learningRate: 0.01, momentum: 0.3);
        float[] p = InitialParameters<float>(n), q = InitialParameters<float>(n);
        for (int t = 1; t <= Steps; t++)
        {
            float[] g = Gradient<float>(n, t), copy = (float[])g.Clone();
            fused.Step(p, g, float.PositiveInfinity);
            plain.Step(q, copy);
            Assert.Equal(copy, g);
        }
        Assert.Equal(q, p);
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.NaN)]
    public void A_negative_or_NaN_clip_value_throws_before_modifying(double clipValue)
    {
        const int n = 19;
        var optimizer = new Adam<float>(n, learningRate: 0.01);
        float[] p = InitialParameters<float>(n), g = Gradient<float>(n, 1);
        optimizer.Step(p, g); // non-trivial state
        float[] pBefore = (float[])p.Clone(), gBefore = (float[])g.Clone(), stateBefore = optimizer.State.ToArray();

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.Step(p, g, (float)clipValue));
        Assert.Equal("clipValue", e.ParamName);
        Assert.Contains(">= 0", e.Message);
        var model = NewModel(seed: 2);
        double[] modelBefore = model.Parameters.ToArray(), modelGradients = model.Gradients.ToArray();
        var modelOptimizer = new Sgd<double>(OptimizerLstmD.ParameterCount, learningRate: 0.1);
        Assert.Equal("clipValue", Assert.Throws<ArgumentOutOfRangeException>(() => modelOptimizer.Step(model, clipValue)).ParamName);

        Assert.Equal(pBefore, p);
        Assert.Equal(gBefore, g);
        Assert.Equal(stateBefore, optimizer.State.ToArray());
        Assert.Equal(1, optimizer.StepCount);
        Assert.Equal(modelBefore, model.Parameters.ToArray());
        Assert.Equal(modelGradients, model.Gradients.ToArray());
        Assert.Equal(0, modelOptimizer.StepCount);
    }

    [Fact]
    public void Wrong_lengths_throw_naming_the_argument_and_modify_nothing()
    {
        const int n = 19;
        var optimizer = new RmsProp<double>(n, centered: true);
        double[] p = InitialParameters<double>(n), g = Gradient<double>(n, 1);
        double[] pBefore = (double[])p.Clone(), gBefore = (double[])g.Clone();

        var e1 = Assert.Throws<ArgumentException>(() => optimizer.Step(p.AsSpan(0, n - 1), g, 0.5));
        Assert.Equal("parameters", e1.ParamName);
        Assert.Contains($"expected {n}", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => optimizer.Step(p, new double[n + 1], 0.5));
        Assert.Equal("gradients", e2.ParamName);

        Assert.Equal(pBefore, p);
        Assert.Equal(gBefore, g);
        Assert.All(optimizer.State.ToArray(), s => Assert.Equal(0.0, s));
        Assert.Equal(0, optimizer.StepCount);
    }

    [Fact]
    public void Step_model_with_a_clip_value_is_ClipByValue_then_Step_model()
    {
        const double clip = 0.05;
        var fusedModel = NewModel(seed: 5);
        var separateModel = NewModel(seed: 5);
        var fused = new RmsProp<double>(OptimizerLstmD.ParameterCount, learningRate: 0.01, alpha: 0.95);
        var separate = new RmsProp<double>(OptimizerLstmD.ParameterCount, learningRate: 0.01, alpha: 0.95);
        double[] raw = separateModel.Gradients.ToArray();

        fused.Step(fusedModel, clip);
        GradientClipping.ClipByValue<double>(separateModel.Gradients, clip);
        separate.Step(separateModel);

        Assert.Contains(raw, x => Math.Abs(x) > clip);
        Assert.Equal(raw.Select(x => Math.Clamp(x, -clip, clip)), fusedModel.Gradients.ToArray());
        Assert.Equal(separateModel.Parameters.ToArray(), fusedModel.Parameters.ToArray());
        // ParametersChanged ran: the packed weights that Forward reads are the new ones
        Assert.Equal(Run(separateModel), Run(fusedModel));
        Assert.NotEqual(Run(NewModel(seed: 5)), Run(fusedModel));

        var wrong = new Sgd<double>(OptimizerLstmD.ParameterCount - 1, learningRate: 0.1);
        Assert.Equal("model", Assert.Throws<ArgumentException>(() => wrong.Step(fusedModel, clip)).ParamName);
        Assert.Throws<ArgumentNullException>(() => fused.Step<OptimizerLstmD>(null!, clip));
    }

    /// <summary>An optimizer written outside RnnGen gets the same contract: its update sees the clipped gradients, which stay clipped.</summary>
    [Fact]
    public void An_optimizer_written_elsewhere_gets_clipped_gradients()
    {
        const int n = 37;
        var custom = new HalfStep(n);
        float[] p = InitialParameters<float>(n), g = Gradient<float>(n, 1);
        float[] clipped = g.Select(x => ClampReference(x, 0.5f)).ToArray();
        float[] expected = InitialParameters<float>(n).Zip(clipped, (a, b) => a - 0.5f * b).ToArray();

        custom.Step(p, g, 0.5f);

        Assert.Equal(clipped, custom.Seen);
        Assert.Equal(clipped, g);
        Assert.Equal(expected, p);
        Assert.Equal(1, custom.StepCount);
    }

    [Fact]
    public void Fused_steps_allocate_nothing()
    {
        const int n = 1003;
        var optimizer = new RmsProp<float>(n, learningRate: 0.01, momentum: 0.5, centered: true);
        float[] p = InitialParameters<float>(n), g = Gradient<float>(n, 1);
        var model = new OptimizerLstmF();
        model.InitializeParameters(seed: 3);
        model.Gradients.Fill(0.25f);
        var modelOptimizer = new Adam<float>(OptimizerLstmF.ParameterCount);
        Assert.Equal(0, SteadyAllocation.Fewest(() =>
        {
            optimizer.Step(p, g, 0.1f);
            modelOptimizer.Step(model, 0.1f);
        }, calls: 20));
    }

    /// <summary>The operations the rules use give the same bits at every SIMD width (Vector512 and Vector&lt;T&gt;).</summary>
    [Fact]
    public void Every_width_gives_the_same_bits()
    {
        SameBitsAtEveryWidth<float>();
        SameBitsAtEveryWidth<double>();
    }

    private static void SameBitsAtEveryWidth<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 203;
        T[] Values(int seed) => Harness.Random<T>(n, seed).Select((x, i) => i % 17 == 0 ? T.NaN : i % 13 == 0 ? T.NegativeZero : x * T.CreateTruncating(4)).ToArray();
        var transform = GradientTransform<T>.Clamp(T.CreateTruncating(1.5)).ThenScale(T.CreateTruncating(0.3));
        var rule = new TestRule<T>();
        T[] p1 = Values(1), g1 = Values(2), s1 = Values(3).Select(T.Abs).ToArray(), m1 = Values(4), t1 = new T[n];
        T[] p2 = (T[])p1.Clone(), g2 = (T[])g1.Clone(), s2 = (T[])s1.Clone(), m2 = (T[])m1.Clone(), t2 = new T[n];
        Elementwise.Run<T, TestRule<T>, Elementwise.Wide<T>>(rule, transform, p1, g1, t1, s1, m1, default);
        Elementwise.Run<T, TestRule<T>, Elementwise.Portable<T>>(rule, transform, p2, g2, t2, s2, m2, default);
        Assert.True(Bits(p1).SequenceEqual(Bits(p2)), "parameters");
        Assert.True(Bits(s1).SequenceEqual(Bits(s2)), "state 0");
        Assert.True(Bits(m1).SequenceEqual(Bits(m2)), "state 1");
        Assert.True(Bits(t1).SequenceEqual(Bits(t2)), "transformed gradients");
        // and the transformed gradients are the clamp, then the scale, element by element
        T[] expected = g1.Select(x => ClampReference(x, T.CreateTruncating(1.5)) * T.CreateTruncating(0.3)).ToArray();
        Assert.True(Bits(expected).SequenceEqual(Bits(t1)), "transform");
    }

    /// <summary>
    /// The finiteness check rides in the update's own pass: it finds a NaN or ±∞ written at any position (full vectors or the
    /// remainder, every width), never flags finite values, ignores a padding lane that the rule turns into 0/0, and changes
    /// no bit of what is written.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(203)]
    public void The_fused_finiteness_check_finds_every_non_finite_parameter_and_changes_no_bit(int n)
    {
        foreach (bool wide in new[] { true, false })
        {
            bool Run(float[] p, float[] g, float[] s, bool check) => wide
                ? Elementwise.Run<float, DivideRule, Elementwise.Wide<float>>(default, GradientTransform<float>.None, p, g, default, s, default, default, check)
                : Elementwise.Run<float, DivideRule, Elementwise.Portable<float>>(default, GradientTransform<float>.None, p, g, default, s, default, default, check);
            // p ← p − g / s: finite while s ≠ 0; padding lanes have g = s = 0, so 0/0 there
            float[] p0 = [.. Enumerable.Range(0, n).Select(i => 0.5f * i - 3f)];
            float[] g0 = [.. Enumerable.Range(0, n).Select(i => 0.25f + i)];
            float[] s0 = [.. Enumerable.Range(0, n).Select(i => 1f + 0.125f * i)];
            float[] checkedP = (float[])p0.Clone(), uncheckedP = (float[])p0.Clone();
            Assert.True(Run(checkedP, (float[])g0.Clone(), (float[])s0.Clone(), check: true), $"n = {n}, wide = {wide}: all finite");
            Assert.True(Run(uncheckedP, (float[])g0.Clone(), (float[])s0.Clone(), check: false));
            Assert.True(Bits(checkedP).SequenceEqual(Bits(uncheckedP)), "the check changes no bit");
            for (int at = 0; at < n; at++)
            {
                foreach (var (g, s) in new[] { (1f, 0f), (0f, 0f), (float.NaN, 1f), (float.MaxValue, 1e-30f) }) // +∞, NaN (0/0), NaN, overflow to −∞
                {
                    float[] gs = (float[])g0.Clone(), ss = (float[])s0.Clone();
                    (gs[at], ss[at]) = (g, s);
                    Assert.False(Run((float[])p0.Clone(), gs, ss, check: true), $"n = {n}, wide = {wide}: non-finite at {at} from {g}/{s}");
                    Assert.True(Run((float[])p0.Clone(), gs, ss, check: false), "unchecked: always true");
                }
            }
        }
    }

    /// <summary>
    /// The trainer's step with the check gives the bits, state and step count of the plain step, for every optimizer, in
    /// float and double, with and without a transform.
    /// </summary>
    [Fact]
    public void StepChecked_gives_the_plain_steps_bits_and_reports_finiteness()
    {
        CheckedAsPlain<float>();
        CheckedAsPlain<double>();
        // an optimizer written elsewhere: the step, then a second pass
        var half = new HalfStep(4);
        float[] x = [1f, 2f, 3f, 4f];
        Assert.True(half.StepChecked(x, [2f, 2f, 2f, 2f], GradientTransform<float>.None));
        Assert.Equal([0f, 1f, 2f, 3f], x);
        Assert.False(half.StepChecked(x, [2f, float.NaN, 2f, 2f], GradientTransform<float>.None));
        Assert.Equal(2, half.StepCount);
    }

    private static void CheckedAsPlain<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int n = 37;
        foreach (string name in Names)
        {
            foreach (bool clamp in new[] { false, true })
            {
                Optimizer<T> plain = Create<T>(name, n), checkedOne = Create<T>(name, n);
                T[] p = InitialParameters<T>(n), q = (T[])p.Clone();
                var transform = clamp ? GradientTransform<T>.Clamp(T.One).ThenScale(T.CreateTruncating(0.75)) : GradientTransform<T>.None;
                for (int t = 1; t <= Steps; t++)
                {
                    T[] g = Gradient<T>(n, t), h = (T[])g.Clone();
                    plain.Step(p, g, transform);
                    Assert.True(checkedOne.StepChecked(q, h, transform), name);
                    string what = $"{name} ({typeof(T).Name}, {(clamp ? "clamped and scaled" : "as given")}), step {t}";
                    Assert.True(Bits(q).SequenceEqual(Bits(p)), what + ": parameters");
                    Assert.True(Bits(h).SequenceEqual(Bits(g)), what + ": the gradients as the step leaves them");
                    Assert.True(Bits(checkedOne.State.ToArray()).SequenceEqual(Bits(plain.State.ToArray())), what + ": state");
                    Assert.Equal(plain.StepCount, checkedOne.StepCount);
                }
                q[5] = T.PositiveInfinity;
                Assert.False(checkedOne.StepChecked(q, Gradient<T>(n, Steps + 1), transform), name + ": an infinite parameter");
            }
        }
    }

    /// <summary>
    /// A subclass written elsewhere of one of RnnGen's public optimizers: its override of <c>Update</c> runs on every path —
    /// the clip-and-step, the trainer's checked step — and the range step (the layer pipeline's) declines, so that the
    /// trainer falls back to the whole step.
    /// </summary>
    [Fact]
    public void A_subclass_written_elsewhere_always_runs_its_own_Update()
    {
        const int n = 21;
        var counted = new CountingAdam(n);
        var plain = new Adam<float>(n);
        float[] p = InitialParameters<float>(n), q = (float[])p.Clone();
        float[] g = Gradient<float>(n, 1), h = (float[])g.Clone();
        counted.Step(p, g, 0.5f);
        plain.Step(q, h, 0.5f);
        Assert.Equal(1, counted.Updates);
        Assert.True(Bits(p).SequenceEqual(Bits(q)), "the clamp first, then the rule");
        Assert.True(Bits(g).SequenceEqual(Bits(h)), "the gradients are left clipped");
        Assert.True(counted.StepChecked(p, Gradient<float>(n, 2), GradientTransform<float>.None));
        Assert.Equal(2, counted.Updates);
        Assert.False(counted.StepRange(p, Gradient<float>(n, 3), GradientTransform<float>.None, 0, n, counted.BeginRangeStep(), out _));
        Assert.Equal(2, counted.Updates);
    }

    private sealed class CountingAdam(int n) : Adam<float>(n)
    {
        public int Updates { get; private set; }

        protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, long step)
        {
            Updates++;
            base.Update(parameters, gradients, step);
        }
    }

    private readonly struct DivideRule : IUpdateRule<float>
    {
        public void Apply<V>(ref V p, V g, ref V s, ref V m, ref V unused) where V : struct, IVector<V, float> => p -= g / s;
    }

    [Fact]
    public void Internal_passes_reject_mismatched_spans()
    {
        var rule = new TestRule<float>();
        float[] p = new float[20], g = new float[20];
        var e = Assert.Throws<ArgumentException>(() => Elementwise.Run(rule, GradientTransform<float>.Clamp(1f), p, g, Span<float>.Empty, default, default, default));
        Assert.Equal("transformed", e.ParamName);
        Assert.Equal("addend", Assert.Throws<ArgumentException>(() => Elementwise.Add<float>(p, new float[19])).ParamName);
    }

    /// <summary>Every operation of the vector interface: p −= g / (√s + 1); s = max(s, g²); m = min(m, g) − m·g.</summary>
    private readonly struct TestRule<T> : IUpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Apply<V>(ref V p, V g, ref V s, ref V m, ref V unused) where V : struct, IVector<V, T>
        {
            p -= g / (V.Sqrt(s) + V.Create(T.One));
            s = V.Max(s, g * g);
            m = V.Min(m, g) - m * g;
        }
    }

    /// <summary>θ ← θ − ½·g, written as a user would (outside RnnGen); records the gradients it was given.</summary>
    private sealed class HalfStep(int n) : Optimizer<float>(n, 0.5, 0)
    {
        public float[] Seen { get; private set; } = [];

        protected override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, long step)
        {
            Seen = gradients.ToArray();
            for (int i = 0; i < parameters.Length; i++) parameters[i] -= 0.5f * gradients[i];
        }
    }

    /// <summary>clip_grad_value_'s clamp of one value: IEEE 754 minimum with the limit, then maximum with −limit.</summary>
    private static T ClampReference<T>(T x, T limit) where T : unmanaged, IFloatingPointIeee754<T> => T.Max(T.Min(x, limit), -limit);

    private static long[] Bits<T>(T[] values) where T : unmanaged, IFloatingPointIeee754<T>
        => values.Select(x => typeof(T) == typeof(float)
            ? BitConverter.SingleToInt32Bits(float.CreateTruncating(x))
            : BitConverter.DoubleToInt64Bits(double.CreateTruncating(x))).ToArray();

    /// <summary>A model with gradients from one Backward over a short sequence.</summary>
    private static OptimizerLstmD NewModel(int seed)
    {
        var model = new OptimizerLstmD();
        model.InitializeParameters(seed);
        var tape = new OptimizerLstmD.Tape(6);
        var state = new OptimizerLstmD.State();
        double[] inputs = [0.5, -1, 2, 0.25, -0.75, 1], outputs = new double[6];
        model.Forward(inputs, ref state, tape, outputs);
        model.Backward(tape, outputs.Select(y => 3 * y - 1).ToArray());
        return model;
    }

    private static double[] Run(OptimizerLstmD model)
    {
        var state = new OptimizerLstmD.State();
        double[] outputs = new double[4];
        model.Forward([1.0, -0.5, 0.25, 2], ref state, new OptimizerLstmD.Tape(4), outputs);
        return outputs;
    }
}
