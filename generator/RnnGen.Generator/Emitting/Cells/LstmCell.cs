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
        w.Line("// gate i (input): i = σ(z_i)");
        w.Line($"Act.Sigmoid({Gate("gx", 0)}, i);");
        w.Line("// gate f (forget): f = σ(z_f)");
        w.Line($"Act.Sigmoid({Gate("gx", 1)}, f);");
        w.Line("// gate g (cell candidate): g = tanh(z_g)");
        w.Line($"Act.Tanh({Gate("gx", 2)}, g);");
        w.Line("// gate o (output): o = σ(z_o)");
        w.Line($"Act.Sigmoid({Gate("gx", 3)}, o);");
        w.Line("// cell: c = f ⊙ c_prev + i ⊙ g");
        w.Line("Vec.Multiply(f, cPrev, c);");
        w.Line("Vec.FusedMultiplyAdd(i, g, c, c);");
        w.Line("// hidden: h = o ⊙ tanh(c)");
        w.Line("Act.Tanh(c, tanhC);");
        w.Line("Vec.Multiply(o, tanhC, h);");
    }

    public override void EmitBackward(SourceWriter w)
    {
        w.Line("// gate o: dz_o = (dh ⊙ tanh(c)) ⊙ σ'(o)");
        w.Line("Vec.Multiply(dh, tanhC, tmp);");
        w.Line($"Act.SigmoidBackward(o, tmp, {Gate("dgx", 3)});");
        w.Line("// cell: dc += dh ⊙ o ⊙ tanh'(c)");
        w.Line("Vec.Multiply(dh, o, tmp);");
        w.Line("Act.TanhBackward(tanhC, tmp, tmp);");
        w.Line("Vec.Add(dc, tmp, dc);");
        w.Line("// gate i: dz_i = (dc ⊙ g) ⊙ σ'(i)");
        w.Line("Vec.Multiply(dc, g, tmp);");
        w.Line($"Act.SigmoidBackward(i, tmp, {Gate("dgx", 0)});");
        w.Line("// gate f: dz_f = (dc ⊙ c_prev) ⊙ σ'(f)");
        w.Line("Vec.Multiply(dc, cPrev, tmp);");
        w.Line($"Act.SigmoidBackward(f, tmp, {Gate("dgx", 1)});");
        w.Line("// gate g: dz_g = (dc ⊙ i) ⊙ tanh'(g)");
        w.Line("Vec.Multiply(dc, i, tmp);");
        w.Line($"Act.TanhBackward(g, tmp, {Gate("dgx", 2)});");
        w.Line("// carry to the previous step: dc_prev = dc ⊙ f");
        w.Line("Vec.Multiply(dc, f, dc);");
    }
}
