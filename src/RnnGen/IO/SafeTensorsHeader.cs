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
/// <remarks>
/// It keeps the header's JSON and, per tensor, where its name and entry are in it and its byte range: a
/// <see cref="SafeTensorInfo"/> (and its name as a string) is made when asked for, so that a load, which needs the model's
/// tensors only, allocates in proportion to the file even for a header of many thousands of small tensors.
/// </remarks>
public sealed class SafeTensorsHeader
{
    private static readonly System.Text.UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _json, _unescaped;
    private readonly HeaderEntry[] _entries;
    private IReadOnlyList<SafeTensorInfo>? _tensors;

    /// <summary>
    /// The <see cref="SafeTensorInfo"/>s handed out (by <see cref="Find"/> and <see cref="Tensors"/>), by index: one object per
    /// tensor, whichever asks first and from whichever thread, as when they were all made with the header.
    /// </summary>
    private SafeTensorInfo?[]? _handedOut;

    internal SafeTensorsHeader(byte[] json, byte[] unescaped, HeaderEntry[] entries, int count,
        IReadOnlyDictionary<string, string> metadata, long headerLength, long dataLength)
    {
        _json = json;
        _unescaped = unescaped;
        _entries = entries;
        Count = count;
        Metadata = metadata;
        HeaderLength = headerLength;
        DataLength = dataLength;
    }

    /// <summary>Every tensor of the file, ordered by position in the data buffer.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors
    {
        get
        {
            if (_tensors is null)
            {
                var tensors = new SafeTensorInfo[Count];
                for (int i = 0; i < tensors.Length; i++) tensors[i] = HandedOut(i);
                Interlocked.CompareExchange(ref _tensors, tensors.AsReadOnly(), null);
            }
            return _tensors;
        }
    }

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
        if (name is null) return null;
        int at = IndexesOf([name])[0];
        return at < 0 ? null : HandedOut(at);
    }

    /// <summary>Tensor <paramref name="index"/> as <see cref="Find"/> and <see cref="Tensors"/> hand it out: the same object every time.</summary>
    private SafeTensorInfo HandedOut(int index)
    {
        var handedOut = _handedOut ?? Interlocked.CompareExchange(ref _handedOut, new SafeTensorInfo?[Count], null) ?? _handedOut;
        if (handedOut[index] is { } made) return made;
        made = TensorAt(index);
        return Interlocked.CompareExchange(ref handedOut[index], made, null) ?? made;
    }

    // ------------------------------------------------------------------ by index, in data order, without a SafeTensorInfo each

    /// <summary>The number of tensors.</summary>
    internal int Count { get; }

    /// <summary>Tensor <paramref name="index"/>'s name in UTF-8 (unescaped).</summary>
    internal ReadOnlySpan<byte> Utf8NameAt(int index)
    {
        ref readonly var e = ref _entries[index];
        return (e.Unescaped ? _unescaped : _json).AsSpan(e.NameStart, e.NameLength);
    }

    /// <summary>Tensor <paramref name="index"/>'s name.</summary>
    internal string NameAt(int index) => _handedOut?[index]?.Name ?? System.Text.Encoding.UTF8.GetString(Utf8NameAt(index));

    /// <summary>Size of tensor <paramref name="index"/>'s data in bytes.</summary>
    internal long ByteLengthAt(int index) => _entries[index].End - _entries[index].Begin;

    /// <summary>Tensor <paramref name="index"/>: the one handed out, or read again from its entry (validated when the header was read).</summary>
    internal SafeTensorInfo TensorAt(int index) =>
        _handedOut?[index] ?? SafeTensorsFormat.TensorOf(_json, _entries[index].ValueStart, NameAt(index));

    /// <summary>For each of <paramref name="names"/>, the index of the tensor of that name, or −1: one pass over the entries.</summary>
    internal int[] IndexesOf(IReadOnlyList<string> names)
    {
        var found = new int[names.Count];
        Array.Fill(found, -1);
        var byHash = new Dictionary<int, List<(int Name, byte[] Utf8)>>();
        for (int k = 0; k < names.Count; k++)
        {
            // a name that is not valid UTF-16 is no tensor's (the names read are valid)
            byte[] utf8;
            try
            {
                utf8 = s_strictUtf8.GetBytes(names[k]);
            }
            catch (System.Text.EncoderFallbackException)
            {
                continue;
            }
            int hash = HashName(utf8);
            if (!byHash.TryGetValue(hash, out var list)) byHash[hash] = list = [];
            list.Add((k, utf8));
        }
        for (int i = 0; i < Count; i++)
        {
            if (!byHash.TryGetValue(_entries[i].Hash, out var candidates)) continue;
            foreach (var (k, utf8) in candidates)
                if (Utf8NameAt(i).SequenceEqual(utf8)) found[k] = i;
        }
        return found;
    }

    /// <summary>The hash of a name's UTF-8 bytes (within this process), by which <see cref="IndexesOf"/> and the duplicate check find it.</summary>
    internal static int HashName(ReadOnlySpan<byte> utf8)
    {
        var hash = new HashCode();
        hash.AddBytes(utf8);
        return hash.ToHashCode();
    }
}

/// <summary>
/// What a header keeps of one tensor's entry: where its name's UTF-8 bytes are — in the JSON, or, when it holds escapes
/// (<paramref name="Unescaped"/>), among the unescaped names — its hash, where its entry's object starts, and its byte range.
/// </summary>
internal readonly record struct HeaderEntry(int NameStart, int NameLength, bool Unescaped, int Hash, int ValueStart, long Begin, long End);
