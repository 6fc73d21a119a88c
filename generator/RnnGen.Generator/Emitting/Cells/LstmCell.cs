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

    public override IReadOnlyList<string> Equations { get; } = new[]
    {
        "i = σ(W_ii·x + b_ii + W_hi·h_prev + b_hi)",
        "f = σ(W_if·x + b_if + W_hf·h_prev + b_hf)",
        "g = tanh(W_ig·x + b_ig + W_hg·h_prev + b_hg)",
        "o = σ(W_io·x + b_io + W_ho·h_prev + b_ho)",
        "c = f ⊙ c_prev + i ⊙ g",
        "h = o ⊙ tanh(c)",
    };

    public override void EmitForward(SourceWriter w)
    {
        w.Line("// the pre-activations of the four gates");
        GateSlices(w, "z", "gx", "ifgo");
        w.Open($"for (int j = 0; j < HiddenSize; j += Lanes.Count)");
        w.Line("var vi = Lanes.Sigmoid(Lanes.Load(zi, j));      // gate i (input): i = σ(z_i)");
        w.Line("var vf = Lanes.Sigmoid(Lanes.Load(zf, j));      // gate f (forget): f = σ(z_f)");
        w.Line("var vg = Lanes.Tanh(Lanes.Load(zg, j));         // gate g (cell candidate): g = tanh(z_g)");
        w.Line("var vo = Lanes.Sigmoid(Lanes.Load(zo, j));      // gate o (output): o = σ(z_o)");
        w.Line("var vc = vf * Lanes.Load(cPrev, j) + vi * vg;   // cell: c = f ⊙ c_prev + i ⊙ g");
        w.Line("var vt = Lanes.Tanh(vc);");
        w.Line("Lanes.Store(vo * vt, h, j);                     // hidden: h = o ⊙ tanh(c)");
        w.Line("Lanes.Store(vc, c, j);");
        w.Line("Lanes.Store(vi, i, j);");
        w.Line("Lanes.Store(vf, f, j);");
        w.Line("Lanes.Store(vg, g, j);");
        w.Line("Lanes.Store(vo, o, j);");
        w.Line("Lanes.Store(vt, tanhC, j);");
        w.Close();
    }

    public override void EmitBackward(SourceWriter w)
    {
        w.Line("// the gradients of the four gates' pre-activations");
        GateSlices(w, "dz", "dgx", "ifgo");
        w.Open($"for (int j = 0; j < HiddenSize; j += Lanes.Count)");
        w.Line("var vdh = Lanes.Load(dh, j);");
        w.Line("var vi = Lanes.Load(i, j);");
        w.Line("var vf = Lanes.Load(f, j);");
        w.Line("var vg = Lanes.Load(g, j);");
        w.Line("var vo = Lanes.Load(o, j);");
        w.Line("var vt = Lanes.Load(tanhC, j);");
        w.Line("Lanes.Store(vdh * vt * Lanes.SigmoidSlope(vo), dzo, j);               // gate o: dz_o = dh ⊙ tanh(c) ⊙ σ'(o)");
        w.Line("var vdc = Lanes.Load(dc, j) + vdh * vo * Lanes.TanhSlope(vt);          // cell: dc += dh ⊙ o ⊙ tanh'(c)");
        w.Line("Lanes.Store(vdc * vg * Lanes.SigmoidSlope(vi), dzi, j);               // gate i: dz_i = dc ⊙ g ⊙ σ'(i)");
        w.Line("Lanes.Store(vdc * Lanes.Load(cPrev, j) * Lanes.SigmoidSlope(vf), dzf, j); // gate f: dz_f = dc ⊙ c_prev ⊙ σ'(f)");
        w.Line("Lanes.Store(vdc * vi * Lanes.TanhSlope(vg), dzg, j);                  // gate g: dz_g = dc ⊙ i ⊙ tanh'(g)");
        w.Line("Lanes.Store(vdc * vf, dc, j);                                         // carry: dc_prev = dc ⊙ f");
        w.Close();
    }
}
