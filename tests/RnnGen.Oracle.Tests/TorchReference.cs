using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnGen.Oracle.Tests;

/// <summary>One problem for both engines: a model description, its parameters and everything fed to it, in double.</summary>
/// <param name="Info">The RnnGen model being checked.</param>
/// <param name="Parameters">Flat parameters in RnnGen (= PyTorch state dict) layout.</param>
/// <param name="Inputs">Dense models: steps × InputSize values; token models: empty.</param>
/// <param name="Tokens">Token models: one id per step; dense models: empty.</param>
/// <param name="InitialState">h of every layer, then (LSTM) c of every layer: the layout of <see cref="RecurrentState{T}.Values"/>.</param>
/// <param name="OutputGradient">dLoss/d(outputs), steps × OutputWidth.</param>
/// <param name="FinalStateGradient">dLoss/d(final state), same layout as <paramref name="InitialState"/>.</param>
/// <param name="BatchFirst">Run the torch module with batch_first = true (input [1, T, In]) instead of [T, 1, In].</param>
internal sealed record OracleProblem(
    ModelInfo Info,
    double[] Parameters,
    double[] Inputs,
    int[] Tokens,
    double[] InitialState,
    double[] OutputGradient,
    double[] FinalStateGradient,
    bool BatchFirst)
{
    /// <summary>Number of time steps.</summary>
    public int Steps => Info.Tokens ? Tokens.Length : Inputs.Length / Info.InputSize;
}

/// <summary>What one engine computed for an <see cref="OracleProblem"/>, in double, in RnnGen's layouts.</summary>
/// <param name="Outputs">steps × OutputWidth.</param>
/// <param name="FinalState">Layout of <see cref="RecurrentState{T}.Values"/>.</param>
/// <param name="ParameterGradients">Flat, layout of <see cref="ModelInfo.Layout"/>.</param>
/// <param name="InputGradients">steps × InputSize; empty for token models.</param>
/// <param name="InitialStateGradient">dLoss/d(initial state), layout of <see cref="RecurrentState{T}.Values"/>.</param>
internal sealed record OracleResult(
    double[] Outputs,
    double[] FinalState,
    double[] ParameterGradients,
    double[] InputGradients,
    double[] InitialStateGradient);

/// <summary>
/// The reference: libtorch's nn.LSTM / nn.GRU / nn.RNN (+ nn.Linear for the head) through TorchSharp, in the model's
/// precision, batch 1. Token inputs are fed as one-hot vectors (W_ih · one_hot(t) is column t of W_ih, which is what
/// a token model's lookup computes). The loss is Σ outputs ⊙ OutputGradient (+ Σ final state ⊙ FinalStateGradient),
/// so autograd's gradients are the ones RnnGen's Backward is asked for.
/// </summary>
internal static class TorchReference
{
    /// <summary>Solves <paramref name="problem"/> with libtorch in the model's precision (Float32 or Float64).</summary>
    public static OracleResult Run(OracleProblem problem)
    {
        ScalarType dtype = problem.Info.Precision == Precision.Single ? ScalarType.Float32 : ScalarType.Float64;
        TorchRuntime.EnsureReady();
        ModelInfo info = problem.Info;
        int layers = info.LayerCount, hidden = info.HiddenSize, steps = problem.Steps;
        int stateBlock = layers * hidden; // one of h or c, every layer

        using var scope = NewDisposeScope();
        var (rnn, head) = CreateModules(info, dtype, problem.BatchFirst);
        using var rnnOwner = rnn;
        using var headOwner = head;
        var parameters = NamedParameters(rnn, head);
        CheckLayout(info, parameters);
        using (no_grad())
        {
            foreach (var (name, parameter) in parameters)
            {
                ParameterTensor slot = info.Find(name)!;
                parameter.copy_(Leaf(slot.Slice<double>(problem.Parameters).ToArray(), [.. slot.Shape], dtype, requiresGrad: false));
            }
        }

        // Inputs: [T, 1, In] (or [1, T, In] with batch_first); both hold the same values in the same order for batch 1.
        Tensor x = info.Tokens
            ? Leaf(OneHot(problem.Tokens, info.InputSize), SequenceShape(steps, info.InputSize, problem.BatchFirst), dtype, requiresGrad: false)
            : Leaf(problem.Inputs, SequenceShape(steps, info.InputSize, problem.BatchFirst), dtype, requiresGrad: true);
        // h0/c0 are [layers, 1, H] whatever batch_first says.
        long[] stateShape = [layers, 1, hidden];
        Tensor h0 = Leaf(problem.InitialState[..stateBlock], stateShape, dtype, requiresGrad: true);
        Tensor? c0 = info.HasCellState ? Leaf(problem.InitialState[stateBlock..], stateShape, dtype, requiresGrad: true) : null;

        Tensor y, hN;
        Tensor? cN = null;
        switch (rnn)
        {
            case LSTM lstm:
                (y, hN, cN) = lstm.call(x, (h0, c0!));
                break;
            case GRU gru:
                (y, hN) = gru.call(x, h0);
                break;
            case RNN plain:
                (y, hN) = plain.call(x, h0);
                break;
            default:
                throw new InvalidOperationException($"Unexpected module {rnn.GetType()}.");
        }
        Tensor outputs = head is null ? y : head.call(y);

        // outputs.backward(gradient), plus the final-state terms when the problem has a non-zero final-state gradient.
        var roots = new List<Tensor> { outputs };
        var seeds = new List<Tensor> { Leaf(problem.OutputGradient, SequenceShape(steps, info.OutputWidth, problem.BatchFirst), dtype, requiresGrad: false) };
        if (problem.FinalStateGradient.Any(v => v != 0))
        {
            roots.Add(hN);
            seeds.Add(Leaf(problem.FinalStateGradient[..stateBlock], stateShape, dtype, requiresGrad: false));
            if (cN is not null)
            {
                roots.Add(cN);
                seeds.Add(Leaf(problem.FinalStateGradient[stateBlock..], stateShape, dtype, requiresGrad: false));
            }
        }
        autograd.backward(roots, seeds);

        var parameterGradients = new double[problem.Parameters.Length];
        foreach (var (name, parameter) in parameters)
        {
            Tensor grad = parameter.grad ?? throw new InvalidOperationException($"libtorch computed no gradient for {name}.");
            ToDoubles(grad).CopyTo(info.Find(name)!.Slice(parameterGradients.AsSpan()));
        }
        double[] finalState = cN is null ? ToDoubles(hN) : [.. ToDoubles(hN), .. ToDoubles(cN)];
        double[] initialStateGradient = c0 is null ? GradientOf(h0) : [.. GradientOf(h0), .. GradientOf(c0)];
        return new OracleResult(
            Outputs: ToDoubles(outputs),
            FinalState: finalState,
            ParameterGradients: parameterGradients,
            InputGradients: info.Tokens ? [] : GradientOf(x),
            InitialStateGradient: initialStateGradient);
    }

    /// <summary>
    /// The named parameters of the torch modules for <paramref name="info"/>, in state dict order, with the head's
    /// prefixed by <c>head.</c> as in RnnGen's layout. Used by the layout tests too.
    /// </summary>
    public static List<(string Name, long[] Shape)> StateDictLayout(ModelInfo info)
    {
        TorchRuntime.EnsureReady();
        using var scope = NewDisposeScope();
        var (rnn, head) = CreateModules(info, ScalarType.Float32, batchFirst: false);
        using var rnnOwner = rnn;
        using var headOwner = head;
        return NamedParameters(rnn, head).Select(p => (p.Name, p.Parameter.shape)).ToList();
    }

    private static (nn.Module Rnn, Linear? Head) CreateModules(ModelInfo info, ScalarType dtype, bool batchFirst)
    {
        Linear? head = info.OutputSize > 0 ? nn.Linear(info.HiddenSize, info.OutputSize, dtype: dtype) : null;
        return (CreateRecurrent(info, dtype, batchFirst), head);
    }

    /// <summary>The torch module of a model's cell kind and sizes: nn.LSTM, nn.GRU or nn.RNN (tanh or relu).</summary>
    internal static nn.Module CreateRecurrent(ModelInfo info, ScalarType dtype, bool batchFirst = false) => info.Cell switch
    {
        CellKind.Lstm => nn.LSTM(info.InputSize, info.HiddenSize, info.LayerCount, batchFirst: batchFirst, dtype: dtype),
        CellKind.Gru => nn.GRU(info.InputSize, info.HiddenSize, info.LayerCount, batchFirst: batchFirst, dtype: dtype),
        CellKind.Rnn => nn.RNN(info.InputSize, info.HiddenSize, info.LayerCount,
            info.Activation == RnnActivation.Relu ? nn.NonLinearities.ReLU : nn.NonLinearities.Tanh, batchFirst: batchFirst, dtype: dtype),
        _ => throw new ArgumentOutOfRangeException(nameof(info), info.Cell, "Unknown cell kind."),
    };

    private static List<(string Name, Parameter Parameter)> NamedParameters(nn.Module rnn, Linear? head)
    {
        var all = rnn.named_parameters().ToList();
        if (head is not null)
            all.AddRange(head.named_parameters().Select(p => ("head." + p.name, p.parameter)));
        return all;
    }

    /// <summary>Every torch parameter must have a slot of the same name and shape in RnnGen's layout, and vice versa.</summary>
    private static void CheckLayout(ModelInfo info, List<(string Name, Parameter Parameter)> parameters)
    {
        string torchLayout = string.Join(", ", parameters.Select(p => $"{p.Name} [{string.Join(", ", p.Parameter.shape)}]"));
        string rnnGenLayout = string.Join(", ", info.Layout.Select(t => $"{t.Name} [{string.Join(", ", t.Shape)}]"));
        if (torchLayout != rnnGenLayout)
            throw new InvalidOperationException($"Layouts differ.\n  torch:  {torchLayout}\n  RnnGen: {rnnGenLayout}");
    }

    private static long[] SequenceShape(int steps, int width, bool batchFirst) => batchFirst ? [1, steps, width] : [steps, 1, width];

    private static double[] OneHot(int[] tokens, int vocabulary)
    {
        var values = new double[tokens.Length * vocabulary];
        for (int t = 0; t < tokens.Length; t++)
            values[t * vocabulary + tokens[t]] = 1;
        return values;
    }

    /// <summary>A leaf tensor of <paramref name="dtype"/> holding <paramref name="values"/> (rounded to it).</summary>
    private static Tensor Leaf(double[] values, long[] shape, ScalarType dtype, bool requiresGrad)
    {
        Tensor t = tensor(values, shape, dtype);
        return requiresGrad ? t.requires_grad_(true) : t;
    }

    private static double[] ToDoubles(Tensor t) => t.detach().contiguous().to_type(ScalarType.Float64).data<double>().ToArray();

    private static double[] GradientOf(Tensor leaf) =>
        ToDoubles(leaf.grad ?? throw new InvalidOperationException("libtorch computed no gradient for an input."));
}
