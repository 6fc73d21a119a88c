namespace RnnGen;

/// <summary>The kind of recurrent cell of a generated model.</summary>
public enum CellKind
{
    /// <summary>Long short-term memory (gates i, f, g, o; state h and c).</summary>
    Lstm = 0,
    /// <summary>Gated recurrent unit (gates r, z, n; state h).</summary>
    Gru = 1,
    /// <summary>Vanilla (Elman) RNN (one gate; state h).</summary>
    Rnn = 2,
}

/// <summary>
/// Everything a generated model is, as data: cell kind, sizes, options and parameter layout. Generated
/// classes expose it as <c>static ModelInfo Info</c>; model files, the trainer and samplers read it.
/// </summary>
public sealed record ModelInfo(
    CellKind Cell,
    int InputSize,
    int HiddenSize,
    int LayerCount,
    int OutputSize,
    bool Tokens,
    Precision Precision,
    RnnActivation Activation,
    IReadOnlyList<ParameterTensor> Layout)
{
    /// <summary>The named tensors of <c>Parameters</c>, in order: a read-only copy of the list given (so that nobody can
    /// change the layout that model files, the trainer and the kernels read).</summary>
    public IReadOnlyList<ParameterTensor> Layout { get; } = Array.AsReadOnly((Layout ?? throw new ArgumentNullException(nameof(Layout))).ToArray());

    /// <summary>Rows per gate block: 4 for LSTM, 3 for GRU, 1 for RNN.</summary>
    public int GateCount => Cell switch { CellKind.Lstm => 4, CellKind.Gru => 3, _ => 1 };

    /// <summary>Width of each output step: <see cref="OutputSize"/> when there is a head, else <see cref="HiddenSize"/>.</summary>
    public int OutputWidth => OutputSize > 0 ? OutputSize : HiddenSize;

    /// <summary>Whether the state holds a cell vector <c>c</c> per layer (LSTM).</summary>
    public bool HasCellState => Cell == CellKind.Lstm;

    /// <summary>Elements in one <c>State</c>: <c>h</c> (and <c>c</c>) for every layer.</summary>
    public int StateSize => (HasCellState ? 2 : 1) * LayerCount * HiddenSize;

    /// <summary>Total parameter count (length of <c>Parameters</c>).</summary>
    public int ParameterCount
    {
        get
        {
            int n = 0;
            foreach (var t in Layout) n += t.Length;
            return n;
        }
    }

    /// <summary>The tensor called <paramref name="name"/>, or null.</summary>
    public ParameterTensor? Find(string name)
    {
        foreach (var t in Layout)
            if (t.Name == name) return t;
        return null;
    }

    /// <summary>
    /// Whether <paramref name="other"/> describes the same model: the same cell, sizes and options, and a layout of the same
    /// tensors (names, offsets and shapes) in the same order. Two generated classes declared alike are equal.
    /// </summary>
    public bool Equals(ModelInfo? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || (Cell, InputSize, HiddenSize, LayerCount, OutputSize, Tokens, Precision, Activation)
            != (other.Cell, other.InputSize, other.HiddenSize, other.LayerCount, other.OutputSize, other.Tokens, other.Precision, other.Activation)
            || Layout.Count != other.Layout.Count)
            return false;
        for (int i = 0; i < Layout.Count; i++)
        {
            ParameterTensor a = Layout[i], b = other.Layout[i];
            if (a.Name != b.Name || a.Offset != b.Offset || !a.Shape.SequenceEqual(b.Shape)) return false;
        }
        return true;
    }

    /// <inheritdoc/>
    public override int GetHashCode() =>
        HashCode.Combine(Cell, InputSize, HiddenSize, LayerCount, OutputSize, Tokens, Precision, HashCode.Combine(Activation, Layout.Count));

    /// <summary>A one-line description, e.g. <c>LSTM 65→128×2, head 65, tokens, float</c>.</summary>
    public override string ToString() =>
        $"{Cell.ToString().ToUpperInvariant()}{(Cell == CellKind.Rnn ? "-" + Activation.ToString().ToLowerInvariant() : "")} " +
        $"{InputSize}→{HiddenSize}×{LayerCount}{(OutputSize > 0 ? $", head {OutputSize}" : "")}{(Tokens ? ", tokens" : "")}, " +
        $"{(Precision == Precision.Single ? "float" : "double")}, {ParameterCount:N0} parameters";
}
