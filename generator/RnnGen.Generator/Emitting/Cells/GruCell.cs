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
        w.Line("// the gates' pre-activations: input part (W_i·x + b_i) and hidden part (W_h·h_prev + b_h)");
        GateSlices(w, "gx", "gx", "RZN");
        GateSlices(w, "gh", "gh", "RZN");
        w.Open($"for (int j = 0; j < HiddenSize; j += Lanes.Count)");
        w.Line("var vr = Lanes.Sigmoid(Lanes.Load(gxR, j) + Lanes.Load(ghR, j));  // gate r (reset): r = σ(x_r + h_r)");
        w.Line("var vz = Lanes.Sigmoid(Lanes.Load(gxZ, j) + Lanes.Load(ghZ, j));  // gate z (update): z = σ(x_z + h_z)");
        w.Line("var vhn = Lanes.Load(ghN, j);                                    // hn = W_hn·h_prev + b_hn (the gate's hidden part)");
        w.Line("var vn = Lanes.Tanh(Lanes.Load(gxN, j) + vr * vhn);              // gate n (new): n = tanh(x_n + r ⊙ hn)");
        w.Line("var vp = Lanes.Load(hPrev, j);");
        w.Line("Lanes.Store(vn + vz * (vp - vn), h, j);                         // hidden: h = (1 − z) ⊙ n + z ⊙ h_prev");
        w.Line("Lanes.Store(vr, r, j);");
        w.Line("Lanes.Store(vz, z, j);");
        w.Line("Lanes.Store(vn, n, j);");
        w.Line("Lanes.Store(vhn, hn, j);");
        w.Close();
    }

    public override void EmitBackward(SourceWriter w)
    {
        w.Line("// the gradients of the gates' pre-activations, input and hidden parts");
        GateSlices(w, "dgx", "dgx", "RZN");
        GateSlices(w, "dgh", "dgh", "RZN");
        w.Open($"for (int j = 0; j < HiddenSize; j += Lanes.Count)");
        w.Line("var vdh = Lanes.Load(dh, j);");
        w.Line("var vr = Lanes.Load(r, j);");
        w.Line("var vz = Lanes.Load(z, j);");
        w.Line("var vn = Lanes.Load(n, j);");
        w.Line("Lanes.Store(Lanes.Load(dhPrev, j) + vdh * vz, dhPrev, j);                  // direct path: dh_prev += z ⊙ dh");
        w.Line("var dzz = vdh * (Lanes.Load(hPrev, j) - vn) * Lanes.SigmoidSlope(vz);     // gate z: dz_z = dh ⊙ (h_prev − n) ⊙ σ'(z)");
        w.Line("var dzn = (vdh - vdh * vz) * Lanes.TanhSlope(vn);                        // gate n: dz_n = dh ⊙ (1 − z) ⊙ tanh'(n)");
        w.Line("var dzr = dzn * Lanes.Load(hn, j) * Lanes.SigmoidSlope(vr);              // gate r: dz_r = dz_n ⊙ hn ⊙ σ'(r)");
        w.Line("Lanes.Store(dzr, dgxR, j);");
        w.Line("Lanes.Store(dzr, dghR, j);");
        w.Line("Lanes.Store(dzz, dgxZ, j);");
        w.Line("Lanes.Store(dzz, dghZ, j);");
        w.Line("Lanes.Store(dzn, dgxN, j);");
        w.Line("Lanes.Store(dzn * vr, dghN, j);                                           // the hidden part of n is scaled by r");
        w.Close();
    }
}
