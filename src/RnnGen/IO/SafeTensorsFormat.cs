using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace RnnGen;

/// <summary>
/// The safetensors container, independent of any model: reading and validating a header, writing one.
/// Layout: 8-byte little-endian u64 N, N bytes of UTF-8 JSON, then the data buffer. The JSON maps each
/// tensor name to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> (offsets relative to the data
/// buffer) and may hold <c>"__metadata__"</c>, a map of strings to strings.
/// Parsing uses <see cref="Utf8JsonReader"/> and writing <see cref="Utf8JsonWriter"/>: no reflection.
/// </summary>
internal static class SafeTensorsFormat
{
    internal const string MetadataKey = "__metadata__";

    private const int HeaderFirstRead = 4096;

    /// <summary>The fields of a tensor's entry.</summary>
    private static readonly string[] s_fields = ["dtype", "shape", "data_offsets"];

    /// <summary>Most dimensions a tensor's shape may have (RnnGen's have one or two).</summary>
    internal const int MaxDimensions = 64;

    /// <summary>Bits per element of every dtype the safetensors format defines.</summary>
    private static readonly Dictionary<string, int> s_dtypeBits = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 8, ["U8"] = 8, ["I8"] = 8, ["F8_E5M2"] = 8, ["F8_E4M3"] = 8, ["F8_E8M0"] = 8,
        ["I16"] = 16, ["U16"] = 16, ["F16"] = 16, ["BF16"] = 16,
        ["I32"] = 32, ["U32"] = 32, ["F32"] = 32,
        ["I64"] = 64, ["U64"] = 64, ["F64"] = 64, ["C64"] = 64,
        ["F4"] = 4, ["F6_E2M3"] = 6, ["F6_E3M2"] = 6,
    };

    /// <summary>The dtypes' names, to find a file's without reading it as a new string.</summary>
    private static readonly string[] s_dtypes = [.. s_dtypeBits.Keys];

    internal static string ShapeText(IReadOnlyList<long> shape) => "[" + string.Join(", ", shape) + "]";

    internal static string ShapeText(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>
    /// Text from a file (a name, a metadata value, a number) for a message: whole up to 100 characters, else its first 80 and
    /// its length, so that a damaged or hostile file's megabyte-long name does not become a megabyte-long message.
    /// </summary>
    internal static string Cite(string text)
    {
        if (text.Length <= 100) return text;
        int cut = char.IsHighSurrogate(text[79]) ? 79 : 80;
        return $"{text[..cut]}… ({text.Length} characters)";
    }

    // ------------------------------------------------------------------ reading

    /// <summary>
    /// Reads and validates the 8-byte length and the JSON header from the current position of
    /// <paramref name="stream"/>, leaving it at the start of the data buffer.
    /// <c>available</c>: bytes from the current position to the end of the stream, or null when unknown.
    /// <c>exactLength</c>: the data buffer must end exactly at the end of the stream (whole files).
    /// </summary>
    internal static SafeTensorsHeader ReadHeader(Stream stream, long? available, bool exactLength, FileContext ctx)
    {
        Span<byte> prefix = stackalloc byte[8];
        int got = ReadAtMost(stream, prefix);
        if (got < 8)
            throw ctx.Fail($"the file is {got} bytes long, but a safetensors file starts with an 8-byte header length: the file is truncated or is not a safetensors file.");

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > SafeTensors.MaxHeaderLength)
            throw ctx.Fail($"the header length is {n} bytes, more than the limit of {SafeTensors.MaxHeaderLength} bytes: the file is corrupt or is not a safetensors file.");
        long headerLength = (long)n;
        if (available is long total && headerLength > total - 8)
            throw ctx.Fail($"the header length is {headerLength} bytes, but only {total - 8} bytes follow it: the file is truncated or is not a safetensors file.");

        byte[] json = ReadHeaderBytes(stream, (int)headerLength, ctx);
        var header = Parse(json, headerLength, ctx);

        if (available is long all)
        {
            long dataAvailable = all - 8 - headerLength;
            if (header.DataLength > dataAvailable)
            {
                var last = header.Tensors[^1];
                throw ctx.Fail($"tensor '{Cite(last.Name)}' ends at byte {last.DataEnd} of the data buffer, but the file holds only {dataAvailable} bytes of data: the file is truncated.", last.Name);
            }
            if (exactLength && header.DataLength < dataAvailable)
                throw ctx.Fail($"the file has {dataAvailable - header.DataLength} bytes after the end of the last tensor (byte {header.DataLength} of the data buffer): the tensors' data_offsets must cover the whole data buffer.");
        }
        return header;
    }

    /// <summary>Reads exactly <paramref name="length"/> header bytes; without trusting the length for the allocation when the stream's length is unknown.</summary>
    private static byte[] ReadHeaderBytes(Stream stream, int length, FileContext ctx)
    {
        // Grow as bytes actually arrive: a hostile length costs at most twice the bytes really present.
        byte[] buffer = new byte[Math.Min(length, HeaderFirstRead)];
        int filled = 0;
        while (filled < length)
        {
            if (filled == buffer.Length)
                Array.Resize(ref buffer, (int)Math.Min(length, 2L * buffer.Length));
            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
                throw ctx.Fail($"the header length is {length} bytes, but the file ends after {filled} bytes of header: the file is truncated.");
            filled += read;
        }
        return buffer;
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or the stream ends; returns the bytes read.</summary>
    internal static int ReadAtMost(Stream stream, Span<byte> buffer)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = stream.Read(buffer[filled..]);
            if (read == 0) break;
            filled += read;
        }
        return filled;
    }

    /// <summary>Parses and validates the JSON header (structure, dtypes, shapes, offsets, coverage).</summary>
    internal static SafeTensorsHeader Parse(ReadOnlySpan<byte> json, long headerLength, FileContext ctx)
    {
        if (!Utf8.IsValid(json))
            throw ctx.Fail("the header is not valid UTF-8 text: the file is corrupt or is not a safetensors file.");

        var tensors = new List<SafeTensorInfo>();
        IReadOnlyDictionary<string, string>? metadata = null;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw ctx.Fail("the header is not a JSON object: the file is corrupt or is not a safetensors file.");
            var names = new HashSet<string>(StringComparer.Ordinal);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                if (!names.Add(name))
                    throw ctx.Fail($"the header lists '{Cite(name)}' twice.", name);
                reader.Read();
                if (name == MetadataKey)
                    metadata = ParseMetadata(ref reader, ctx);
                else
                    tensors.Add(ParseTensor(ref reader, name, ctx));
            }
            if (reader.TokenType != JsonTokenType.EndObject)
                throw ctx.Fail("the header is not valid JSON: it ends before its closing brace.");
            // isFinalBlock: trailing non-whitespace after the root object makes Read throw a JsonException.
            if (reader.Read())
                throw ctx.Fail("the header has content after its JSON object.");
        }
        catch (JsonException e)
        {
            throw ctx.Fail($"the header is not valid JSON ({e.Message}).", inner: e);
        }
        catch (InvalidOperationException e)
        {
            throw ctx.Fail($"the header is not valid JSON ({e.Message}).", inner: e);
        }

        tensors.Sort(static (a, b) => a.DataBegin != b.DataBegin ? a.DataBegin.CompareTo(b.DataBegin) : a.DataEnd.CompareTo(b.DataEnd));
        long end = 0;
        SafeTensorInfo? previous = null;
        foreach (var t in tensors)
        {
            if (t.DataBegin < end)
                throw ctx.Fail($"tensors '{Cite(previous!.Name)}' (bytes [{previous.DataBegin}, {previous.DataEnd})) and '{Cite(t.Name)}' (bytes [{t.DataBegin}, {t.DataEnd})) overlap.", t.Name);
            if (t.DataBegin > end)
                throw ctx.Fail(previous is null
                    ? $"tensor '{Cite(t.Name)}' starts at byte {t.DataBegin}, leaving a gap at the start of the data buffer: data_offsets must cover the data buffer without gaps."
                    : $"there is a gap of {t.DataBegin - end} bytes between tensors '{Cite(previous.Name)}' (ends at {end}) and '{Cite(t.Name)}' (starts at {t.DataBegin}): data_offsets must cover the data buffer without gaps.", t.Name);
            end = t.DataEnd;
            previous = t;
        }
        return new SafeTensorsHeader(tensors.AsReadOnly(), metadata ?? new Dictionary<string, string>().AsReadOnly(), headerLength, end);
    }

    private static IReadOnlyDictionary<string, string>? ParseMetadata(ref Utf8JsonReader reader, FileContext ctx)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw ctx.Fail($"'{MetadataKey}' must be a JSON object of strings, but it is a {Describe(reader.TokenType)}.");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
                throw ctx.Fail($"'{MetadataKey}' must map strings to strings, but the value of '{Cite(key)}' is a {Describe(reader.TokenType)}.");
            if (!map.TryAdd(key, reader.GetString()!))
                throw ctx.Fail($"'{MetadataKey}' lists the key '{Cite(key)}' twice.");
        }
        return map.AsReadOnly();
    }

    private static SafeTensorInfo ParseTensor(ref Utf8JsonReader reader, string name, FileContext ctx)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw ctx.Fail($"the entry of tensor '{Cite(name)}' must be a JSON object with dtype, shape and data_offsets, but it is a {Describe(reader.TokenType)}.", name);
        string? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        int offsetCount = 0;
        // Field names and dtypes are compared in place, not read as strings: a damaged header can hold millions of entries.
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int field = IndexOf(ref reader, s_fields);
            string? unknown = field < 0 ? reader.GetString() : null;
            reader.Read();
            switch (field)
            {
                case 0 when dtype is null:
                    if (reader.TokenType != JsonTokenType.String)
                        throw ctx.Fail($"tensor '{Cite(name)}': dtype must be a string such as \"F32\", but it is a {Describe(reader.TokenType)}.", name);
                    int known = IndexOf(ref reader, s_dtypes);
                    dtype = known >= 0 ? s_dtypes[known] : reader.GetString()!;
                    break;
                case 1 when shape is null:
                    shape = ReadIntegers(ref reader, name, "shape", MaxDimensions, out int rank, ctx);
                    if (rank > MaxDimensions)
                        throw ctx.Fail($"tensor '{Cite(name)}': shape has {rank} dimensions, more than {MaxDimensions}: the file is corrupt.", name);
                    break;
                case 2 when offsets is null:
                    offsets = ReadIntegers(ref reader, name, "data_offsets", 2, out offsetCount, ctx);
                    break;
                case < 0:
                    throw ctx.Fail($"tensor '{Cite(name)}' has an unknown field '{Cite(unknown!)}'; a tensor entry holds only dtype, shape and data_offsets.", name);
                default:
                    throw ctx.Fail($"tensor '{Cite(name)}' lists '{s_fields[field]}' twice.", name);
            }
        }
        if (dtype is null || shape is null || offsets is null)
        {
            string missing = dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw ctx.Fail($"tensor '{Cite(name)}' has no '{missing}'; a tensor entry holds dtype, shape and data_offsets.", name);
        }
        if (!s_dtypeBits.TryGetValue(dtype, out int bits))
            throw ctx.Fail($"tensor '{Cite(name)}' has the unknown dtype '{Cite(dtype)}'; safetensors dtypes are {string.Join(", ", s_dtypeBits.Keys)}.", name);
        if (offsetCount != 2)
            throw ctx.Fail($"tensor '{Cite(name)}': data_offsets must be [begin, end], but it has {offsetCount} numbers.", name);
        long begin = offsets[0], end = offsets[1];
        if (begin > end)
            throw ctx.Fail($"tensor '{Cite(name)}': data_offsets [{begin}, {end}] begin after they end.", name);

        long count = 1;
        long bytes;
        try
        {
            foreach (long d in shape) count = checked(count * d);
            long totalBits = checked(count * bits);
            if (totalBits % 8 != 0)
                throw ctx.Fail($"tensor '{Cite(name)}': {count} elements of {dtype} ({bits} bits each) do not fill whole bytes.", name);
            bytes = totalBits / 8;
        }
        catch (OverflowException)
        {
            throw ctx.Fail($"tensor '{Cite(name)}': shape {ShapeText(shape)} has too many elements to be stored.", name);
        }
        if (end - begin != bytes)
            throw ctx.Fail($"tensor '{Cite(name)}': dtype {dtype} and shape {ShapeText(shape)} need {bytes} bytes, but data_offsets [{begin}, {end}] span {end - begin} bytes.", name);
        return new SafeTensorInfo(name, dtype, shape, count, begin, end);
    }

    /// <summary>The index of the reader's current name or string in <paramref name="texts"/>, or −1 (nothing allocated).</summary>
    private static int IndexOf(ref Utf8JsonReader reader, string[] texts)
    {
        for (int i = 0; i < texts.Length; i++)
            if (reader.ValueTextEquals(texts[i])) return i;
        return -1;
    }

    /// <summary>
    /// Reads a JSON array of non-negative integers (a shape or data_offsets): the first <paramref name="keep"/> of them, and
    /// how many there are in <paramref name="count"/> (a damaged file's array can hold millions, 8 bytes each once read).
    /// </summary>
    private static long[] ReadIntegers(ref Utf8JsonReader reader, string name, string field, int keep, out int count, FileContext ctx)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw ctx.Fail($"tensor '{Cite(name)}': {field} must be an array of non-negative integers, but it is a {Describe(reader.TokenType)}.", name);
        Span<long> values = stackalloc long[keep];
        count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0)
                throw ctx.Fail($"tensor '{Cite(name)}': {field} must be an array of non-negative integers, but it holds {DescribeValue(ref reader)}.", name);
            if (count < keep) values[count] = v;
            count++;
        }
        return values[..Math.Min(count, keep)].ToArray();
    }

    private static string DescribeValue(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number
            ? Cite(Encoding.UTF8.GetString(reader.ValueSpan))
            : "a " + Describe(reader.TokenType);

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "JSON object",
        JsonTokenType.StartArray => "JSON array",
        JsonTokenType.String => "string",
        JsonTokenType.Number => "number",
        JsonTokenType.True or JsonTokenType.False => "boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    // ------------------------------------------------------------------ writing

    /// <summary>One tensor to write: name, dtype, shape and byte range in the data buffer.</summary>
    internal readonly record struct TensorEntry(string Name, string DType, IReadOnlyList<int> Shape, long Begin, long End);

    /// <summary>
    /// The 8-byte length followed by the JSON header, padded with spaces to a multiple of 8 bytes (as the
    /// reference implementation does) so that the data buffer starts 8-byte aligned.
    /// </summary>
    internal static byte[] BuildHeader(IReadOnlyList<TensorEntry> tensors, IEnumerable<KeyValuePair<string, string>> metadata)
    {
        var json = new ArrayBufferWriter<byte>(1024);
        // Relaxed escaping keeps non-ASCII metadata (e.g. a vocabulary) readable; it is still valid JSON.
        using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false }))
        {
            w.WriteStartObject();
            w.WriteStartObject(MetadataKey);
            foreach (var (key, value) in metadata) w.WriteString(key, value);
            w.WriteEndObject();
            foreach (var t in tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", t.DType);
                w.WriteStartArray("shape");
                foreach (int d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(t.Begin);
                w.WriteNumberValue(t.End);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        int padded = (json.WrittenCount + 7) / 8 * 8;
        byte[] result = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        json.WrittenSpan.CopyTo(result.AsSpan(8));
        result.AsSpan(8 + json.WrittenCount).Fill((byte)' ');
        return result;
    }
}

/// <summary>Where a file is read from, for messages: "model file 'x': ..." or "safetensors stream: ...".</summary>
internal readonly record struct FileContext(string? Path)
{
    public ModelFileException Fail(string message, string? tensorName = null, Exception? inner = null) =>
        new((Path is null ? "safetensors stream: " : $"model file '{Path}': ") + message, Path, tensorName, inner);
}
