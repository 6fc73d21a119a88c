namespace RnnGen;

/// <summary>
/// One tensor listed in a safetensors header: its name, dtype, shape and where its bytes are in the
/// data buffer. Describes the file only; reading it does not read any tensor data.
/// </summary>
public sealed class SafeTensorInfo
{
    private readonly long[] _shape;

    internal SafeTensorInfo(string name, string dtype, long[] shape, long elementCount, long dataBegin, long dataEnd)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        ElementCount = elementCount;
        DataBegin = dataBegin;
        DataEnd = dataEnd;
    }

    /// <summary>The tensor's name, e.g. <c>weight_ih_l0</c>.</summary>
    public string Name { get; }

    /// <summary>The safetensors dtype, e.g. <c>F32</c>, <c>F64</c>, <c>BF16</c>, <c>I64</c>.</summary>
    public string DType { get; }

    /// <summary>Row-major shape; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>Number of elements (the product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Offset of the first byte, relative to the start of the data buffer.</summary>
    public long DataBegin { get; }

    /// <summary>Offset one past the last byte, relative to the start of the data buffer.</summary>
    public long DataEnd { get; }

    /// <summary>Size of the tensor's data in bytes.</summary>
    public long ByteLength => DataEnd - DataBegin;

    /// <summary>The shape as text, e.g. <c>[20, 3]</c>.</summary>
    internal string ShapeText => SafeTensorsFormat.ShapeText(_shape);

    /// <inheritdoc />
    public override string ToString() => $"{Name} {DType} {ShapeText} @ [{DataBegin}, {DataEnd})";
}

/// <summary>
/// The header of a safetensors file, validated: every tensor (in data order) and the
/// <c>__metadata__</c> strings. Returned by <see cref="SafeTensors.ReadHeader(string)"/>.
/// </summary>
public sealed class SafeTensorsHeader
{
    internal SafeTensorsHeader(IReadOnlyList<SafeTensorInfo> tensors, IReadOnlyDictionary<string, string> metadata, long headerLength, long dataLength)
    {
        Tensors = tensors;
        Metadata = metadata;
        HeaderLength = headerLength;
        DataLength = dataLength;
    }

    /// <summary>Every tensor of the file, ordered by position in the data buffer.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> map (empty when the file has none). RnnGen's own keys are listed in <see cref="SafeTensorsMetadataKeys"/>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Length in bytes of the JSON header (the 8-byte number at the start of the file).</summary>
    public long HeaderLength { get; }

    /// <summary>Offset of the data buffer from the start of the file: 8 + <see cref="HeaderLength"/>.</summary>
    public long DataStart => 8 + HeaderLength;

    /// <summary>Length in bytes of the data buffer (the end of the last tensor).</summary>
    public long DataLength { get; }

    /// <summary>The tensor called <paramref name="name"/>, or null.</summary>
    public SafeTensorInfo? Find(string name)
    {
        foreach (var t in Tensors)
            if (t.Name == name) return t;
        return null;
    }
}
