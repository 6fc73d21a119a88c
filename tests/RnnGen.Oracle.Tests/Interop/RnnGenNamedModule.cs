using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnGen.Oracle.Tests.Interop;

/// <summary>
/// A TorchSharp module whose <c>state_dict</c> has exactly RnnGen's names: the parameters of a bare <c>nn.LSTM</c> /
/// <c>nn.GRU</c> / <c>nn.RNN</c> at the top level (<c>weight_ih_l0</c>, …) and an <c>nn.Linear</c> registered as
/// <c>head</c> (<c>head.weight</c>, <c>head.bias</c>). It is what a PyTorch user writes to save or load an RnnGen file
/// with a module rather than a hand-built dictionary; TorchSharp.PyBridge's <c>save_safetensors</c> /
/// <c>load_safetensors</c> then work on it directly.
/// </summary>
/// <remarks>
/// The recurrent module is deliberately not registered as a submodule (that would prefix its names with the field's
/// name); its parameters are registered one by one under their own names. They are the same tensors, so loading
/// into this module's state dict loads the recurrent module.
/// </remarks>
internal sealed class RnnGenNamedModule : nn.Module
{
    public RnnGenNamedModule(ModelInfo info, ScalarType dtype) : base(nameof(RnnGenNamedModule))
    {
        Info = info;
        Rnn = TorchReference.CreateRecurrent(info, dtype);
        foreach (var (name, parameter) in Rnn.named_parameters())
            register_parameter(name, parameter);
        if (info.OutputSize > 0)
        {
            Head = nn.Linear(info.HiddenSize, info.OutputSize, dtype: dtype);
            register_module("head", Head);
        }
    }

    public ModelInfo Info { get; }

    /// <summary>The bare recurrent module (its own state dict has the bare names).</summary>
    public nn.Module Rnn { get; }

    /// <summary>The head, or null when the model has none.</summary>
    public Linear? Head { get; }

    /// <summary>
    /// The state dict as two bare PyTorch modules give it, merged with the head's names prefixed by <c>head.</c> —
    /// <c>{**rnn.state_dict(), **{"head." + k: v for k, v in head.state_dict().items()}}</c> in Python.
    /// </summary>
    public Dictionary<string, Tensor> MergedStateDict()
    {
        var tensors = new Dictionary<string, Tensor>(Rnn.state_dict());
        if (Head is not null)
        {
            foreach (var (name, tensor) in Head.state_dict())
                tensors.Add("head." + name, tensor);
        }
        return tensors;
    }

    /// <summary>
    /// Runs the sequence <paramref name="x"/> ([steps, 1, InputSize]) from the initial state (<paramref name="h0"/>,
    /// <paramref name="c0"/>: [layers, 1, hidden]) without autograd; returns the outputs (after the head), h_n and c_n.
    /// </summary>
    public (Tensor Outputs, Tensor HN, Tensor? CN) Run(Tensor x, Tensor h0, Tensor? c0)
    {
        using var _ = no_grad();
        Tensor y, hN;
        Tensor? cN = null;
        switch (Rnn)
        {
            case LSTM lstm:
                (y, hN, cN) = lstm.call(x, (h0, c0 ?? throw new ArgumentNullException(nameof(c0), "An LSTM needs c0.")));
                break;
            case GRU gru:
                (y, hN) = gru.call(x, h0);
                break;
            case RNN rnn:
                (y, hN) = rnn.call(x, h0);
                break;
            default:
                throw new InvalidOperationException($"Unexpected module {Rnn.GetType()}.");
        }
        return (Head is null ? y : Head.call(y), hN, cN);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Rnn.Dispose();
            Head?.Dispose();
        }
        base.Dispose(disposing);
    }
}
