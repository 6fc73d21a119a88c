using System.Collections.Generic;
using RnnGen.Generator.Model;

namespace RnnGen.Generator.Emitting.Cells;

/// <summary>A named H-wide vector: a gate's rows, or a slot of the per-step tape record.</summary>
internal readonly record struct Vector(string Name, string Description);

/// <summary>
/// What one cell kind contributes to a generated model. The skeleton (<see cref="ModelEmitter"/>)
/// owns layout, stacking, head, tokens, tape, the BPTT loop, argument checks and every loop over
/// units; a cell only says which gates and state it has and writes three bodies, all generic over the
/// lane type <c>L</c> (<c>RnnGen.Kernels.ILanes&lt;L, T&gt;</c>: one SIMD vector of units, with
/// <c>L.Load</c>, <c>L.Store</c>, <c>L.Sigmoid</c>, <c>L.Tanh</c>, <c>L.Relu</c>, their slopes and
/// element-wise operators):
/// <list type="bullet">
/// <item><c>Cell&lt;L&gt;</c> (<see cref="EmitCell"/>): the equations on one vector of units, from the
/// pre-activation sums <c>pre</c> (a <c>GateSums&lt;L&gt;</c> with one vector per slot, or one <c>L</c>
/// when <see cref="Slots"/> is 1), <c>hPrev</c> (when <see cref="ReadsHiddenState"/>) and <c>cPrev</c>
/// (when <see cref="HasCellState"/>) to one <c>out L</c> per record slot. Step runs it on sums that
/// come out of the packed weights in registers; Forward on sums read from its buffers.</item>
/// <item>The sums of unit vector <c>j</c> read from Forward's buffers (<see cref="EmitBufferSlices"/>,
/// <see cref="BufferSums"/>): <c>gx</c> (G·H pre-activations from the input plus biases; with
/// <see cref="SeparateHiddenProjection"/> false, also the hidden projection) and <c>gh</c> (hidden
/// projection plus <c>b_hh</c>, separate cells only).</item>
/// <item><c>CellBackward</c>'s loop body (<see cref="EmitBackwardSlices"/>, <see cref="EmitBackward"/>): from dL/dh (and dL/dc) to the
/// pre-activation gradients, adding any direct path to dL/dh_prev and turning dL/dc into dL/dc_prev in
/// place. Names: the record slots (read-only spans), <c>hPrev</c>, <c>cPrev</c>, <c>dh</c> (may be
/// overwritten), <c>dc</c>, <c>dgx</c>, <c>dgh</c> (separate cells only), <c>dhPrev</c> (add into it),
/// the loop index <c>j</c>.</item>
/// </list>
/// </summary>
internal abstract class CellEmitter
{
    public static CellEmitter For(ModelSpec spec)
    {
        CellEmitter cell = spec.Cell switch
        {
            CellKind.Lstm => new LstmCell(),
            CellKind.Gru => new GruCell(),
            _ => new RnnCell(spec.Activation),
        };
        cell._scalar = spec.IsDouble ? "double" : "float";
        return cell;
    }

    private string _scalar = "float";

    /// <summary>Display name, e.g. "LSTM".</summary>
    public abstract string DisplayName { get; }

    /// <summary>The runtime enum member, e.g. "Lstm".</summary>
    public abstract string KindName { get; }

    /// <summary>Gates in PyTorch row order; each is H rows of the weight matrices.</summary>
    public abstract IReadOnlyList<Vector> Gates { get; }

    /// <summary>Whether the state has a cell vector <c>c</c> per layer.</summary>
    public virtual bool HasCellState => false;

    /// <summary>Whether <c>Cell</c> reads the previous hidden state itself (not only through the weights).</summary>
    public virtual bool ReadsHiddenState => false;

    /// <summary>
    /// Whether the cell needs <c>W_hh·h + b_hh</c> apart from <c>W_ih·x + b_ih</c> (GRU's reset gate
    /// multiplies the hidden part of n). Otherwise the skeleton sums them into one buffer.
    /// </summary>
    public virtual bool SeparateHiddenProjection => false;

    /// <summary>Pre-activation sums per unit: one per gate, plus the hidden part of the last gate when it is separate (1 or 4).</summary>
    public int Slots => Gates.Count + (SeparateHiddenProjection ? 1 : 0);

    /// <summary>H-wide vectors recorded per layer and step: <c>h</c> first, then <c>c</c> if any, then what backward needs.</summary>
    public abstract IReadOnlyList<Vector> RecordSlots { get; }

    /// <summary>The record slots that <see cref="EmitBackward"/> reads: <c>CellBackward</c> declares a span for these only.</summary>
    public abstract IReadOnlyList<string> BackwardReads { get; }

    /// <summary>The cell's equations, one per line, for the class's XML documentation.</summary>
    public abstract IReadOnlyList<string> Equations { get; }

    /// <summary>Writes the body of <c>Cell&lt;L&gt;</c>: assigns every record slot's <c>out</c> parameter.</summary>
    public abstract void EmitCell(SourceWriter w);

    /// <summary>Declares the gate slices of <c>gx</c> (and <c>gh</c>) that <see cref="BufferSums"/> reads.</summary>
    public abstract void EmitBufferSlices(SourceWriter w);

    /// <summary>The pre-activation sums of unit vector <c>j</c> from Forward's buffers: a <c>GateSums&lt;L&gt;</c>, or an <c>L</c> for one slot.</summary>
    public abstract string BufferSums { get; }

    /// <summary>Declares the gate slices of <c>dgx</c> (and <c>dgh</c>) that <see cref="EmitBackward"/> writes.</summary>
    public abstract void EmitBackwardSlices(SourceWriter w);

    /// <summary>Writes the body of <c>CellBackward</c>'s loop over unit vectors <c>j</c>.</summary>
    public abstract void EmitBackward(SourceWriter w);

    /// <summary>The runtime type of four slots' sums.</summary>
    protected const string Sums = "global::RnnGen.Kernels.GateSums<L>";

    /// <summary>The slice expression of gate <paramref name="index"/> within a G·H-wide buffer.</summary>
    protected static string Gate(string buffer, int index) => $"{buffer}.Slice({index} * HiddenSize, HiddenSize)";

    /// <summary>
    /// Declares one local per gate of a G·H-wide buffer: <c>ReadOnlySpan&lt;T&gt; {prefix}{name} = buffer.Slice(k * HiddenSize, HiddenSize);</c>
    /// (a <c>Span</c> when the buffer is written) for the k-th character of <paramref name="names"/>. The generated code
    /// names every type (no <c>var</c>, which a user's type of that name would take over).
    /// </summary>
    protected void GateSlices(SourceWriter w, string prefix, string buffer, bool readOnly, string names)
    {
        string type = $"global::System.{(readOnly ? "ReadOnlySpan" : "Span")}<{_scalar}>";
        for (int k = 0; k < names.Length; k++)
            w.Line($"{type} {prefix}{names[k]} = {Gate(buffer, k)};");
    }
}
