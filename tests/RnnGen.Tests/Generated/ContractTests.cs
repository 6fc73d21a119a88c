using System.Numerics;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>
/// The contract of the generated members that the numerical tests take for granted: <c>InitializeParameters</c>
/// (PyTorch's U(−1/√H, 1/√H) for every tensor, the head's too; deterministic per seed; the packed copies refreshed),
/// outputs and input gradients overwritten rather than added into, and a layout nobody can change.
/// </summary>
public class ContractTests
{
    public static TheoryData<string> Models() => new(ModelCases.Keys);

    private static readonly Dictionary<string, Action<Action<object>>> ModelCases = new()
    {
        ["LSTM dense, head, float"] = run => run(new Case<LstmF2x6Head, float>()),
        ["LSTM tokens, double"] = run => run(new Case<LstmDTokens, double>()),
        ["GRU dense, head, float"] = run => run(new Case<GruF40, float>()),
        ["GRU tokens, no head, double"] = run => run(new Case<GruD3TokensNoHead, double>()),
        ["RNN relu, head, double"] = run => run(new Case<RnnReluD2x5, double>()),
        ["RNN tanh, 3 layers, float"] = run => run(new Case<RnnTanhF3x5, float>()),
        ["LSTM 256×2 (packed in blocks), float"] = run => run(new Case<LstmFChunked, float>()),
    };

    private interface ICase
    {
        void InitializeParameters_StaysInPyTorchsBound_ForEveryTensor();
        void InitializeParameters_IsDeterministicPerSeed();
        void InitializeParameters_RefreshesThePackedCopies();
        void OutputsAndInputGradients_AreOverwritten();
    }

    private static void For(string name, Action<ICase> test) => ModelCases[name](c => test((ICase)c));

    [Theory, MemberData(nameof(Models))]
    public void InitializeParameters_StaysInPyTorchsBound_ForEveryTensor(string model) =>
        For(model, c => c.InitializeParameters_StaysInPyTorchsBound_ForEveryTensor());

    [Theory, MemberData(nameof(Models))]
    public void InitializeParameters_IsDeterministicPerSeed(string model) => For(model, c => c.InitializeParameters_IsDeterministicPerSeed());

    [Theory, MemberData(nameof(Models))]
    public void InitializeParameters_RefreshesThePackedCopies(string model) => For(model, c => c.InitializeParameters_RefreshesThePackedCopies());

    [Theory, MemberData(nameof(Models))]
    public void OutputsAndInputGradients_AreOverwritten(string model) => For(model, c => c.OutputsAndInputGradients_AreOverwritten());

    // U(−b, b) with b = 1/√H: mean b²/3 for the squares; over 200 K values the sample moments are within a few
    // hundredths of a standard deviation of their expectations, so these bounds are loose for a uniform draw and tight
    // enough to catch another bound (√2·b or b/√2 move the variance by a factor of two) or a skewed generator.
    // ModelInfo is a record: equal when it describes the same model, its layout compared tensor by tensor (not by reference)
    [Fact]
    public void ModelInfo_EqualsItsCopy_AndNotAnotherModel()
    {
        ModelInfo info = LstmF3x5.Info;
        var copy = new ModelInfo(info.Cell, info.InputSize, info.HiddenSize, info.LayerCount, info.OutputSize, info.Tokens, info.Precision,
            info.Activation, [.. info.Layout.Select(t => new ParameterTensor(t.Name, t.Offset, [.. t.Shape]))]);
        Assert.Equal(info, copy);
        Assert.Equal(info.GetHashCode(), copy.GetHashCode());
        Assert.NotEqual(info, LstmD3x5.Info);                  // the same layout in double
        Assert.NotEqual(info, GruF3x5.Info);
        Assert.NotEqual(info, info with { HiddenSize = 6 });
        var renamed = new ModelInfo(info.Cell, info.InputSize, info.HiddenSize, info.LayerCount, info.OutputSize, info.Tokens, info.Precision,
            info.Activation, [.. info.Layout.Select((t, k) => new ParameterTensor(k == 0 ? "other" : t.Name, t.Offset, [.. t.Shape]))]);
        Assert.NotEqual(info, renamed);
    }

    // a buffer too short for a tensor is named, with where the tensor lies (Span.Slice's own exception named nothing)
    [Fact]
    public void ParameterTensor_SliceOfAShortBuffer_SaysWhereTheTensorLies()
    {
        ParameterTensor last = LstmF3x5.Info.Layout[^1];
        var e = Assert.Throws<ArgumentException>(() => last.Slice(new float[LstmF3x5.ParameterCount - 1].AsSpan()));
        Assert.Equal("buffer", e.ParamName);
        Assert.Contains($"tensor '{last.Name}' lies at [{last.Offset}, {LstmF3x5.ParameterCount})", e.Message);
        Assert.Throws<ArgumentException>(() => last.Slice((ReadOnlySpan<float>)new float[3]));
        Assert.Equal(last.Length, last.Slice(new float[LstmF3x5.ParameterCount].AsSpan()).Length);
    }

    [Fact]
    public void InitializeParameters_DrawsUniformly()
    {
        var m = new LstmFChunked(); // 256 hidden, 2 layers: 800 K parameters
        m.InitializeParameters(3);
        double b = 1 / Math.Sqrt(LstmFChunked.HiddenSize), sum = 0, squares = 0;
        int n = m.Parameters.Length, belowZero = 0;
        foreach (float p in m.Parameters)
        {
            sum += p;
            squares += (double)p * p;
            if (p < 0) belowZero++;
        }
        Assert.InRange(sum / n, -0.01 * b, 0.01 * b);
        Assert.InRange(squares / n / (b * b / 3), 0.98, 1.02);
        Assert.InRange(belowZero / (double)n, 0.49, 0.51);
    }

    [Fact]
    public void Layout_AndShapes_CannotBeChangedByCallers()
    {
        var layout = LstmF2x6Head.Layout;
        Assert.Throws<NotSupportedException>(() => ((IList<ParameterTensor>)layout)[0] = layout[1]);
        Assert.False(layout is ParameterTensor[]);
        var shape = layout[0].Shape;
        Assert.Equal(new[] { 4 * LstmF2x6Head.HiddenSize, LstmF2x6Head.InputSize }, shape);
        Assert.Throws<NotSupportedException>(() => ((IList<int>)shape)[0] = 1);
        Assert.False(shape is int[]);

        // a ModelInfo keeps its own copy of the list it is given
        var tensors = new[] { new ParameterTensor("w", 0, 2, 3) };
        var own = new ModelInfo(CellKind.Rnn, 3, 2, 1, 0, false, Precision.Single, RnnActivation.Tanh, tensors);
        tensors[0] = new ParameterTensor("v", 0, 1);
        Assert.Equal("w", own.Layout[0].Name);
    }

    private sealed class Case<TModel, T> : ICase
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private static ModelInfo Info => TModel.Info;

        public void InitializeParameters_StaysInPyTorchsBound_ForEveryTensor()
        {
            var m = TModel.Create();
            m.InitializeParameters(11);
            T bound = T.CreateTruncating(1 / Math.Sqrt(Info.HiddenSize));
            foreach (var tensor in Info.Layout)
            {
                var values = tensor.Slice((ReadOnlySpan<T>)m.Parameters);
                T largest = T.Zero;
                int distinct = new HashSet<T>(values.ToArray()).Count;
                foreach (T v in values) largest = T.Max(largest, T.Abs(v));
                Assert.True(largest <= bound, $"{tensor.Name}: |p| up to {largest}, above 1/√H = {bound}");
                // drawn, not left at zero: the largest of n uniform draws is near the bound (below these fractions of it
                // with a probability of 2e-6, 2e-5 and 1e-4 for the sizes here)
                double near = tensor.Length >= 256 ? 0.95 : tensor.Length >= 16 ? 0.5 : 0.1;
                Assert.True(largest > bound * T.CreateTruncating(near), $"{tensor.Name}: largest |p| {largest}");
                Assert.True(distinct > tensor.Length * 9 / 10, $"{tensor.Name}: {distinct} distinct values of {tensor.Length}");
            }
        }

        public void InitializeParameters_IsDeterministicPerSeed()
        {
            var a = TModel.Create();
            var b = TModel.Create();
            var c = TModel.Create();
            b.Parameters.Fill(T.One); // whatever was there before is replaced
            a.InitializeParameters(5);
            b.InitializeParameters(5);
            c.InitializeParameters(6);
            Assert.True(a.Parameters.SequenceEqual(b.Parameters));
            int same = 0;
            for (int i = 0; i < a.Parameters.Length; i++)
                if (a.Parameters[i] == c.Parameters[i]) same++;
            Assert.True(same < a.Parameters.Length / 100, $"seeds 5 and 6 agree on {same} of {a.Parameters.Length} parameters");
        }

        public void InitializeParameters_RefreshesThePackedCopies()
        {
            // a model whose packed copies were built from other parameters (here: refreshed from ones) and then
            // re-initialised must run on the new values: the same outputs as a model given those values by hand
            var initialized = TModel.Create();
            initialized.Parameters.Fill(T.One);
            initialized.ParametersChanged();
            initialized.InitializeParameters(9);
            var byHand = TModel.Create();
            initialized.Parameters.CopyTo(byHand.Parameters);
            byHand.ParametersChanged();

            var (x, tokens) = Inputs(6, seed: 2);
            T[] expected = StepAll(byHand, x, tokens), actual = StepAll(initialized, x, tokens);
            Assert.Equal(expected, actual);
            Assert.NotEqual(expected, StepAll(TModel.Create(), x, tokens)); // the inputs reach the outputs
            Assert.Equal(ForwardAll(byHand, x, tokens, fill: T.Zero).Outputs, ForwardAll(initialized, x, tokens, fill: T.Zero).Outputs);
        }

        public void OutputsAndInputGradients_AreOverwritten()
        {
            var m = TModel.Create();
            m.InitializeParameters(4);
            var (x, tokens) = Inputs(7, seed: 8);
            var clean = ForwardAll(m, x, tokens, fill: T.Zero);
            var dirty = ForwardAll(m, x, tokens, fill: T.NaN);
            Assert.Equal(clean.Outputs, dirty.Outputs);
            Assert.Equal(clean.InputGradients, dirty.InputGradients);
            Assert.All(dirty.Outputs, v => Assert.True(T.IsFinite(v)));
            Assert.All(dirty.InputGradients, v => Assert.True(T.IsFinite(v)));

            // Step: the output span too, one step from the same state into a clean and a dirty buffer
            T[] StepOnce(T fill)
            {
                var state = m.CreateState();
                var output = new T[Info.OutputWidth];
                output.AsSpan().Fill(fill);
                if (Info.Tokens) m.Step(tokens[0], state, output);
                else m.Step(x.AsSpan(0, Info.InputSize), state, output);
                return output;
            }
            T[] stepped = StepOnce(T.NaN);
            Assert.Equal(StepOnce(T.Zero), stepped);
            Assert.All(stepped, v => Assert.True(T.IsFinite(v)));
        }

        private static (T[] Inputs, int[] Tokens) Inputs(int steps, int seed) =>
            (Harness.Random<T>(steps * Info.InputSize, seed), Harness.RandomTokens(steps, Info.InputSize, seed));

        private static T[] StepAll(TModel m, T[] x, int[] tokens)
        {
            var state = m.CreateState();
            var outputs = new T[tokens.Length * Info.OutputWidth];
            for (int t = 0; t < tokens.Length; t++)
            {
                var output = outputs.AsSpan(t * Info.OutputWidth, Info.OutputWidth);
                if (Info.Tokens) m.Step(tokens[t], state, output);
                else m.Step(x.AsSpan(t * Info.InputSize, Info.InputSize), state, output);
            }
            return outputs;
        }

        // Forward and Backward (with an output gradient of ones) into buffers filled with `fill` first
        private static (T[] Outputs, T[] InputGradients) ForwardAll(TModel m, T[] x, int[] tokens, T fill)
        {
            var state = m.CreateState();
            var tape = m.CreateTape(tokens.Length);
            var outputs = new T[tokens.Length * Info.OutputWidth];
            var inputGradients = new T[Info.Tokens ? 0 : x.Length];
            outputs.AsSpan().Fill(fill);
            inputGradients.AsSpan().Fill(fill);
            if (Info.Tokens) m.Forward(tokens, state, tape, outputs);
            else m.Forward(x, state, tape, outputs);
            var ones = new T[outputs.Length];
            ones.AsSpan().Fill(T.One);
            m.Backward(tape, ones, inputGradients, null);
            return (outputs, inputGradients);
        }
    }
}
