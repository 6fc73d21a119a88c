namespace RnnGen;

/// <summary>
/// One named tensor inside a model's flat <c>Parameters</c> buffer: PyTorch's name (for example
/// <c>weight_ih_l0</c>), its offset in elements, and its row-major shape.
/// </summary>
public sealed class ParameterTensor
{
    private readonly int[] _shape;
    private readonly System.Collections.ObjectModel.ReadOnlyCollection<int> _readOnlyShape;

    /// <summary>Creates a tensor description.</summary>
    public ParameterTensor(string name, int offset, params int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentNullException.ThrowIfNull(shape);
        Name = name;
        Offset = offset;
        _shape = (int[])shape.Clone();
        long count = 1;
        foreach (int d in _shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            count = checked(count * d); // a long cannot wrap before the int check below: a shape of many large dimensions could
        }
        Length = checked((int)count);
        _readOnlyShape = Array.AsReadOnly(_shape); // callers cannot cast it back to the array and change the layout
    }

    /// <summary>PyTorch's parameter name, e.g. <c>weight_hh_l1</c> or <c>head.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Offset of the first element in the flat parameter buffer.</summary>
    public int Offset { get; }

    /// <summary>Row-major shape, e.g. <c>[4·H, In]</c>.</summary>
    public IReadOnlyList<int> Shape => _readOnlyShape;

    /// <summary>Number of elements (product of <see cref="Shape"/>).</summary>
    public int Length { get; }

    /// <summary>The slice of <paramref name="buffer"/> holding this tensor.</summary>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> ends before this tensor does (not a model's <c>Parameters</c> or <c>Gradients</c>).</exception>
    public Span<T> Slice<T>(Span<T> buffer)
    {
        CheckFits(buffer.Length);
        return buffer.Slice(Offset, Length);
    }

    /// <summary>The slice of <paramref name="buffer"/> holding this tensor.</summary>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> ends before this tensor does (not a model's <c>Parameters</c> or <c>Gradients</c>).</exception>
    public ReadOnlySpan<T> Slice<T>(ReadOnlySpan<T> buffer)
    {
        CheckFits(buffer.Length);
        return buffer.Slice(Offset, Length);
    }

    private void CheckFits(int length)
    {
        if (length - Offset < Length)
            throw new ArgumentException($"buffer has {length} elements; tensor '{Name}' lies at [{Offset}, {Offset + Length}) of its model's parameters.", "buffer");
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{string.Join(", ", _shape)}] @ {Offset}";
}
