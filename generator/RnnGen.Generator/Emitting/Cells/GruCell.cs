using System.Collections.Generic;

namespace RnnGen.Generator.Emitting.Cells;

/// <summary>GRU, PyTorch's <c>nn.GRU</c>: gates r, z, n; the reset gate multiplies <c>W_hn·h + b_hn</c>.</summary>
internal sealed class GruCell : CellEmitter
{
    public override string DisplayName => "GRU";
    public override string KindName => "Gru";
    public override bool SeparateHiddenProjection => true;
    public override bool ReadsHiddenState => true;

    public override IReadOnlyList<Vector> Gates { get; } = new Vector[]
    {
        new("r", "reset gate"), new("z", "update gate"), new("n", "new gate"),
    };

    public override IReadOnlyList<Vector> RecordSlots { get; } = new Vector[]
    {
        new("h", "hidden state"), new("r", "reset gate"), new("z", "update gate"), new("n", "new gate"),
        new("hn", "W_hn·h_prev + b_hn"),
    };

    public override IReadOnlyList<string> BackwardReads { get; } = new[] { "r", "z", "n", "hn" };

    public override IReadOnlyList<string> Equations { get; } = new[]
    {
        "r = σ(W_ir·x + b_ir + W_hr·h_prev + b_hr)",
        "z = σ(W_iz·x + b_iz + W_hz·h_prev + b_hz)",
        "n = tanh(W_in·x + b_in + r ⊙ (W_hn·h_prev + b_hn))",
        "h = (1 − z) ⊙ n + z ⊙ h_prev",
    };

    public override void EmitCell(SourceWriter w)
    {
        w.Line("// pre: Z0 = gx_r + gh_r, Z1 = gx_z + gh_z, Z2 = gx_n, Z3 = gh_n, where gx = W_i·x + b_i is a gate's input part");
        w.Line("// and gh = W_h·h_prev + b_h its hidden part (n keeps them apart: r scales only the hidden part)");
        w.Line("r = L.Sigmoid(pre.Z0);          // gate r (reset): r = σ(gx_r + gh_r)");
        w.Line("z = L.Sigmoid(pre.Z1);          // gate z (update): z = σ(gx_z + gh_z)");
        w.Line("hn = pre.Z3;                    // hn = gh_n = W_hn·h_prev + b_hn (recorded: backward needs it)");
        w.Line("n = L.Tanh(pre.Z2 + r * hn);    // gate n (new): n = tanh(gx_n + r ⊙ hn)");
        w.Line("h = n + z * (hPrev - n);        // hidden: h = (1 − z) ⊙ n + z ⊙ h_prev, as n + z ⊙ (h_prev − n)");
    }

    public override void EmitBufferSlices(SourceWriter w)
    {
        w.Line("// the gates' pre-activations: input part (W_i·x + b_i) and hidden part (W_h·h_prev + b_h)");
        GateSlices(w, "gx", "gx", readOnly: true, "RZN");
        GateSlices(w, "gh", "gh", readOnly: true, "RZN");
    }

    public override string BufferSums =>
        $"new {Sums}(L.Load(gxR, j) + L.Load(ghR, j), L.Load(gxZ, j) + L.Load(ghZ, j), L.Load(gxN, j), L.Load(ghN, j))";

    public override void EmitBackwardSlices(SourceWriter w)
    {
        w.Line("// the gradients of the gates' pre-activations, input and hidden parts");
        GateSlices(w, "dgx", "dgx", readOnly: false, "RZN");
        GateSlices(w, "dgh", "dgh", readOnly: false, "RZN");
    }

    public override void EmitBackward(SourceWriter w)
    {
        w.Line("L vdh = L.Load(dh, j);");
        w.Line("L vr = L.Load(r, j);");
        w.Line("L vz = L.Load(z, j);");
        w.Line("L vn = L.Load(n, j);");
        w.Line("L.Store(L.Load(dhPrev, j) + vdh * vz, dhPrev, j);                  // direct path: dh_prev += z ⊙ dh");
        w.Line("L dzz = vdh * (L.Load(hPrev, j) - vn) * L.SigmoidSlope(vz);       // gate z: dz_z = dh ⊙ (h_prev − n) ⊙ z ⊙ (1 − z)");
        w.Line("L dzn = (vdh - vdh * vz) * L.TanhSlope(vn);                      // gate n: dz_n = dh ⊙ (1 − z) ⊙ (1 − n²)");
        w.Line("L dzr = dzn * L.Load(hn, j) * L.SigmoidSlope(vr);                // gate r: dz_r = dz_n ⊙ hn ⊙ r ⊙ (1 − r)");
        w.Line("L.Store(dzr, dgxR, j);                                            // r and z: the input and hidden parts enter the sum alike");
        w.Line("L.Store(dzr, dghR, j);");
        w.Line("L.Store(dzz, dgxZ, j);");
        w.Line("L.Store(dzz, dghZ, j);");
        w.Line("L.Store(dzn, dgxN, j);");
        w.Line("L.Store(dzn * vr, dghN, j);                                       // the hidden part of n is scaled by r");
    }
}
