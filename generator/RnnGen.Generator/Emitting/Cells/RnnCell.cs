using System.Collections.Generic;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emitting.Cells;

/// <summary>Vanilla (Elman) RNN, PyTorch's <c>nn.RNN</c>: one gate, <c>h = f(W_ih·x + b_ih + W_hh·h_prev + b_hh)</c>.</summary>
internal sealed class RnnCell : CellEmitter
{
    private readonly Activation _activation;

    public RnnCell(Activation activation) => _activation = activation;

    private string F => _activation == Activation.Relu ? "Relu" : "Tanh";

    public override string DisplayName => _activation == Activation.Relu ? "RNN (ReLU)" : "RNN (tanh)";
    public override string KindName => "Rnn";

    public override IReadOnlyList<Vector> Gates { get; } = new Vector[] { new("h", "hidden pre-activation") };

    public override IReadOnlyList<Vector> RecordSlots { get; } = new Vector[] { new("h", "hidden state") };

    public override IReadOnlyList<string> BackwardReads { get; } = new[] { "h" };

    public override IReadOnlyList<string> Equations => new[]
    {
        $"h = {F.ToLowerInvariant()}(W_ih·x + b_ih + W_hh·h_prev + b_hh)   (the lesson's U = W_ih = weight_ih, W = W_hh = weight_hh)",
    };

    public override void EmitCell(SourceWriter w) =>
        w.Line($"h = L.{F}(pre);   // h = {F.ToLowerInvariant()}(z)");

    public override void EmitBufferSlices(SourceWriter w)
    {
    }

    public override string BufferSums => "L.Load(gx, j)";

    public override void EmitBackwardSlices(SourceWriter w)
    {
    }

    public override void EmitBackward(SourceWriter w) =>
        w.Line($"L.Store(L.Load(dh, j) * L.{F}Slope(L.Load(h, j)), dgx, j);   // dz = dh ⊙ {F.ToLowerInvariant()}'(z), from the recorded h");
}
