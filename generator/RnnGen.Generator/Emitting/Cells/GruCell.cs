using System.Collections.Generic;

namespace RnnGen.Generator.Emitting.Cells;

/// <summary>GRU, PyTorch's <c>nn.GRU</c>: gates r, z, n; the reset gate multiplies <c>W_hn·h + b_hn</c>.</summary>
internal sealed class GruCell : CellEmitter
{
    public override string DisplayName => "GRU";
    public override string KindName => "Gru";
    public override bool SeparateHiddenProjection => true;

    public override IReadOnlyList<Vector> Gates { get; } = new Vector[]
    {
        new("r", "reset gate"), new("z", "update gate"), new("n", "new gate"),
    };

    public override IReadOnlyList<Vector> RecordSlots { get; } = new Vector[]
    {
        new("h", "hidden state"), new("r", "reset gate"), new("z", "update gate"), new("n", "new gate"),
        new("hn", "W_hn·h_prev + b_hn"),
    };

    public override IReadOnlyList<string> Equations { get; } = new[]
    {
        "r = σ(W_ir·x + b_ir + W_hr·h_prev + b_hr)",
        "z = σ(W_iz·x + b_iz + W_hz·h_prev + b_hz)",
        "n = tanh(W_in·x + b_in + r ⊙ (W_hn·h_prev + b_hn))",
        "h = (1 − z) ⊙ n + z ⊙ h_prev",
    };

    public override void EmitForward(SourceWriter w)
    {
        w.Line("// gate r (reset): r = σ(x_r + h_r)");
        w.Line($"Vec.Add({Gate("gx", 0)}, {Gate("gh", 0)}, r);");
        w.Line("Act.Sigmoid(r, r);");
        w.Line("// gate z (update): z = σ(x_z + h_z)");
        w.Line($"Vec.Add({Gate("gx", 1)}, {Gate("gh", 1)}, z);");
        w.Line("Act.Sigmoid(z, z);");
        w.Line("// gate n (new): n = tanh(x_n + r ⊙ hn), hn = W_hn·h_prev + b_hn");
        w.Line($"{Gate("gh", 2)}.CopyTo(hn);");
        w.Line($"Vec.FusedMultiplyAdd(r, hn, {Gate("gx", 2)}, n);");
        w.Line("Act.Tanh(n, n);");
        w.Line("// hidden: h = (1 − z) ⊙ n + z ⊙ h_prev = n + z ⊙ (h_prev − n)");
        w.Line("Vec.Subtract(hPrev, n, h);");
        w.Line("Vec.FusedMultiplyAdd(z, h, n, h);");
    }

    public override void EmitBackward(SourceWriter w)
    {
        w.Line("// direct path: dh_prev += z ⊙ dh");
        w.Line("Vec.FusedMultiplyAdd(z, dh, dhPrev, dhPrev);");
        w.Line("// gate z: dz_z = (dh ⊙ (h_prev − n)) ⊙ σ'(z), the same for the input and hidden parts");
        w.Line("Vec.Subtract(hPrev, n, tmp);");
        w.Line("Vec.Multiply(dh, tmp, tmp);");
        w.Line($"Act.SigmoidBackward(z, tmp, {Gate("dgx", 1)});");
        w.Line($"{Gate("dgx", 1)}.CopyTo({Gate("dgh", 1)});");
        w.Line("// gate n: dz_n = (dh ⊙ (1 − z)) ⊙ tanh'(n); the hidden part is scaled by r");
        w.Line("Vec.Multiply(dh, z, tmp);");
        w.Line("Vec.Subtract(dh, tmp, tmp);");
        w.Line($"Act.TanhBackward(n, tmp, {Gate("dgx", 2)});");
        w.Line($"Vec.Multiply({Gate("dgx", 2)}, r, {Gate("dgh", 2)});");
        w.Line("// gate r: dz_r = (dz_n ⊙ hn) ⊙ σ'(r)");
        w.Line($"Vec.Multiply({Gate("dgx", 2)}, hn, tmp);");
        w.Line($"Act.SigmoidBackward(r, tmp, {Gate("dgx", 0)});");
        w.Line($"{Gate("dgx", 0)}.CopyTo({Gate("dgh", 0)});");
    }
}
