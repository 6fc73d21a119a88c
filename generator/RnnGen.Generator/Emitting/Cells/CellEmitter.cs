using System.Collections.Generic;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emitting.Cells;

/// <summary>A named H-wide vector: a gate's rows, or a slot of the per-step tape record.</summary>
internal readonly record struct Vector(string Name, string Description);

/// <summary>
/// What one cell kind contributes to a generated model. The skeleton (<see cref="ModelEmitter"/>)
/// owns layout, stacking, head, tokens, tape, the BPTT loop and argument checks; a cell only says
/// which gates and state it has and writes the bodies of two private static methods:
/// <list type="bullet">
/// <item><c>CellForward</c>: from the pre-activations to every slot of the step record
/// (slot 0 is always <c>h</c>; slot 1 is <c>c</c> when the cell has a cell state).</item>
/// <item><c>CellBackward</c>: from dL/dh (and dL/dc) to the pre-activation gradients, adding any direct
/// path to dL/dh_prev and turning dL/dc into dL/dc_prev in place.</item>
/// </list>
/// Names visible to the bodies (all spans of <c>T</c>, every H-wide one a constant-size slice):
/// forward: <c>gx</c> (G·H pre-activations from the input plus biases; with
/// <see cref="SeparateHiddenProjection"/> false, also the hidden projection), <c>gh</c> (hidden
/// projection plus <c>b_hh</c>, separate cells only), <c>hPrev</c>, <c>cPrev</c>, and one writable
/// local per record slot. Backward: the record slots (read-only), <c>hPrev</c>, <c>cPrev</c>,
/// <c>dh</c> (scratch, may be overwritten), <c>dc</c> (in: dL/dc_t, out: dL/dc_{t−1}), <c>dgx</c>,
/// <c>dgh</c> (separate cells only; otherwise the skeleton uses <c>dgx</c> for both), <c>dhPrev</c>
/// (add into it). Helpers: <c>Lanes</c> (SIMD loads, stores and activations over the units, any H), <c>Vec</c>
/// (TensorPrimitives), constant <c>HiddenSize</c>. Bodies are one fused loop over the units.
/// </summary>
internal abstract class CellEmitter
{
    public static CellEmitter For(ModelSpec spec) => spec.Cell switch
    {
        CellKind.Lstm => new LstmCell(),
        CellKind.Gru => new GruCell(),
        _ => new RnnCell(spec.Activation),
    };

    /// <summary>Display name, e.g. "LSTM".</summary>
    public abstract string DisplayName { get; }

    /// <summary>The runtime enum member, e.g. "Lstm".</summary>
    public abstract string KindName { get; }

    /// <summary>Gates in PyTorch row order; each is H rows of the weight matrices.</summary>
    public abstract IReadOnlyList<Vector> Gates { get; }

    /// <summary>Whether the state has a cell vector <c>c</c> per layer.</summary>
    public virtual bool HasCellState => false;

    /// <summary>
    /// Whether the cell needs <c>W_hh·h + b_hh</c> apart from <c>W_ih·x + b_ih</c> (GRU's reset gate
    /// multiplies the hidden part of n). Otherwise the skeleton sums them into one buffer.
    /// </summary>
    public virtual bool SeparateHiddenProjection => false;

    /// <summary>H-wide vectors recorded per layer and step: <c>h</c> first, then <c>c</c> if any, then what backward needs.</summary>
    public abstract IReadOnlyList<Vector> RecordSlots { get; }

    /// <summary>The cell's equations, one per line, for the class's XML documentation.</summary>
    public abstract IReadOnlyList<string> Equations { get; }

    /// <summary>Writes the body of <c>CellForward</c>.</summary>
    public abstract void EmitForward(SourceWriter w);

    /// <summary>Writes the body of <c>CellBackward</c>.</summary>
    public abstract void EmitBackward(SourceWriter w);

    /// <summary>The slice expression of gate <paramref name="index"/> within a G·H-wide buffer.</summary>
    protected static string Gate(string buffer, int index) => $"{buffer}.Slice({index} * HiddenSize, HiddenSize)";

    /// <summary>
    /// Declares one local per gate of a G·H-wide buffer: <c>var {prefix}{name} = buffer.Slice(k * HiddenSize, HiddenSize);</c>
    /// for the k-th character of <paramref name="names"/>.
    /// </summary>
    protected static void GateSlices(SourceWriter w, string prefix, string buffer, string names)
    {
        for (int k = 0; k < names.Length; k++)
            w.Line($"var {prefix}{names[k]} = {Gate(buffer, k)};");
    }
}
