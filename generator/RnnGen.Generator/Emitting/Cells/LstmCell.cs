using System.Collections.Generic;

namespace RnnGen.Generator.Emitting.Cells;

/// <summary>LSTM, PyTorch's <c>nn.LSTM</c>: gates i, f, g, o; state h and c.</summary>
internal sealed class LstmCell : CellEmitter
{
    public override string DisplayName => "LSTM";
    public override string KindName => "Lstm";
    public override bool HasCellState => true;

    public override IReadOnlyList<Vector> Gates { get; } = new Vector[]
    {
        new("i", "input gate"), new("f", "forget gate"), new("g", "cell candidate"), new("o", "output gate"),
    };

    public override IReadOnlyList<Vector> RecordSlots { get; } = new Vector[]
    {
        new("h", "hidden state"), new("c", "cell state"),
        new("i", "input gate"), new("f", "forget gate"), new("g", "cell candidate"), new("o", "output gate"),
        new("tanhC", "tanh(c)"),
    };

    // h and c are not needed: tanh(c) is recorded, and dc_prev needs only f
    public override IReadOnlyList<string> BackwardReads { get; } = new[] { "i", "f", "g", "o", "tanhC" };

    public override IReadOnlyList<string> Equations { get; } = new[]
    {
        "i = σ(W_ii·x + b_ii + W_hi·h_prev + b_hi)",
        "f = σ(W_if·x + b_if + W_hf·h_prev + b_hf)",
        "g = tanh(W_ig·x + b_ig + W_hg·h_prev + b_hg)",
        "o = σ(W_io·x + b_io + W_ho·h_prev + b_ho)",
        "c = f ⊙ c_prev + i ⊙ g",
        "h = o ⊙ tanh(c)",
    };

    public override void EmitCell(SourceWriter w)
    {
        w.Line("i = L.Sigmoid(pre.Z0);      // gate i (input): i = σ(z_i)");
        w.Line("f = L.Sigmoid(pre.Z1);      // gate f (forget): f = σ(z_f)");
        w.Line("g = L.Tanh(pre.Z2);         // gate g (cell candidate): g = tanh(z_g)");
        w.Line("o = L.Sigmoid(pre.Z3);      // gate o (output): o = σ(z_o)");
        w.Line("c = f * cPrev + i * g;      // cell: c = f ⊙ c_prev + i ⊙ g");
        w.Line("tanhC = L.Tanh(c);");
        w.Line("h = o * tanhC;              // hidden: h = o ⊙ tanh(c)");
    }

    public override void EmitBufferSlices(SourceWriter w)
    {
        w.Line("// the pre-activations of the four gates");
        GateSlices(w, "z", "gx", readOnly: true, "ifgo");
    }

    public override string BufferSums => $"new {Sums}(L.Load(zi, j), L.Load(zf, j), L.Load(zg, j), L.Load(zo, j))";

    public override void EmitBackward(SourceWriter w)
    {
        w.Line("L vdh = L.Load(dh, j);");
        w.Line("L vi = L.Load(i, j);");
        w.Line("L vf = L.Load(f, j);");
        w.Line("L vg = L.Load(g, j);");
        w.Line("L vo = L.Load(o, j);");
        w.Line("L vt = L.Load(tanhC, j);");
        w.Line("L.Store(vdh * vt * L.SigmoidSlope(vo), dzo, j);               // gate o: dz_o = dh ⊙ tanh(c) ⊙ o ⊙ (1 − o)");
        w.Line("L vdc = L.Load(dc, j) + vdh * vo * L.TanhSlope(vt);            // cell: dc += dh ⊙ o ⊙ (1 − tanh²(c))");
        w.Line("L.Store(vdc * vg * L.SigmoidSlope(vi), dzi, j);               // gate i: dz_i = dc ⊙ g ⊙ i ⊙ (1 − i)");
        w.Line("L.Store(vdc * L.Load(cPrev, j) * L.SigmoidSlope(vf), dzf, j); // gate f: dz_f = dc ⊙ c_prev ⊙ f ⊙ (1 − f)");
        w.Line("L.Store(vdc * vi * L.TanhSlope(vg), dzg, j);                  // gate g: dz_g = dc ⊙ i ⊙ (1 − g²)");
        w.Line("L.Store(vdc * vf, dc, j);                                     // carry: dc_prev = dc ⊙ f");
    }

    public override void EmitBackwardSlices(SourceWriter w)
    {
        w.Line("// the gradients of the four gates' pre-activations");
        GateSlices(w, "dz", "dgx", readOnly: false, "ifgo");
    }
}
