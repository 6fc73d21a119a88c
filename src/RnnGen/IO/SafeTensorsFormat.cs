using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
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
            throw ctx.Fail($"the header length is {headerLength} bytes, but only {Math.Max(0, total - 8)} bytes follow it: the file is truncated or is not a safetensors file.");

        byte[] json = ReadHeaderBytes(stream, (int)headerLength, lengthKnown: available is not null, ctx);
        var header = Parse(json, headerLength, ctx);

        if (available is long all)
        {
            long dataAvailable = all - 8 - headerLength;
            if (header.DataLength > dataAvailable)
            {
                string last = header.NameAt(header.Count - 1);
                throw ctx.Fail($"tensor '{Cite(last)}' ends at byte {header.DataLength} of the data buffer, but the file holds only {dataAvailable} bytes of data: the file is truncated.", last);
            }
            if (exactLength && header.DataLength < dataAvailable)
                throw ctx.Fail($"the file has {dataAvailable - header.DataLength} bytes after the end of the last tensor (byte {header.DataLength} of the data buffer): the tensors' data_offsets must cover the whole data buffer.");
        }
        return header;
    }

    /// <summary>
    /// Reads exactly <paramref name="length"/> header bytes; without trusting the length for the allocation when the stream's
    /// length is unknown (<paramref name="lengthKnown"/>: it was checked against the stream's length, and is allocated at once).
    /// </summary>
    private static byte[] ReadHeaderBytes(Stream stream, int length, bool lengthKnown, FileContext ctx)
    {
        // Otherwise grow as bytes actually arrive: a hostile length costs at most twice the bytes really present.
        byte[] buffer = new byte[lengthKnown ? length : Math.Min(length, HeaderFirstRead)];
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

    private static readonly JsonReaderOptions s_readerOptions = new() { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 };

    /// <summary>
    /// Parses and validates the JSON header (structure, dtypes, shapes, offsets, coverage). What it keeps of a tensor is
    /// where its name and entry are in <paramref name="json"/> and its byte range (<see cref="HeaderEntry"/>), not a
    /// <see cref="SafeTensorInfo"/> and a string: a header of many small tensors costs about its own size again, not eight
    /// times it.
    /// </summary>
    internal static SafeTensorsHeader Parse(byte[] json, long headerLength, FileContext ctx)
    {
        if (!Utf8.IsValid(json))
            throw ctx.Fail("the header is not valid UTF-8 text: the file is corrupt or is not a safetensors file.");

        // the entries are counted first (a pass that allocates nothing), so that what is kept of them is allocated once; no
        // more than the header has room for, as a damaged header of a million names ("":0,) is refused at its first
        var entries = new HeaderEntry[Math.Min(CountEntries(json), json.Length / MinEntryBytes)];
        int count = 0;
        var names = new int[TableSize(entries.Length)]; // entry index + 1 by the name's hash (0: free), to find a duplicate
        byte[] unescaped = []; // the names that hold escapes, unescaped, one after the other
        int unescapedLength = 0;
        bool hasMetadata = false;
        IReadOnlyDictionary<string, string>? metadata = null;
        var reader = new Utf8JsonReader(json, s_readerOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw ctx.Fail("the header is not a JSON object: the file is corrupt or is not a safetensors file.");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // the name: where it is in the JSON, or, when it holds escapes, unescaped into `unescaped` (which refuses
                // escapes that are not UTF-16, as GetString does; the result is no longer than the escaped text)
                bool escaped = reader.ValueIsEscaped;
                int nameStart = (int)reader.TokenStartIndex + 1, nameLength = reader.ValueSpan.Length;
                if (escaped)
                {
                    if (unescapedLength + nameLength > unescaped.Length)
                        Array.Resize(ref unescaped, Math.Max(2 * unescaped.Length, unescapedLength + nameLength));
                    nameStart = unescapedLength;
                    nameLength = reader.CopyString(unescaped.AsSpan(unescapedLength));
                    unescapedLength += nameLength;
                }
                ReadOnlySpan<byte> name = (escaped ? unescaped : json).AsSpan(nameStart, nameLength);
                bool isMetadata = name.SequenceEqual("__metadata__"u8);
                int hash = SafeTensorsHeader.HashName(name);
                if (isMetadata ? hasMetadata : !AddName(ref names, entries, count, hash, name, json, unescaped))
                    throw ctx.Fail($"the header lists '{Cite(Text(name))}' twice.", Text(name));
                reader.Read();
                if (isMetadata)
                {
                    hasMetadata = true;
                    metadata = ParseMetadata(ref reader, ctx);
                    continue;
                }
                int valueStart = (int)reader.TokenStartIndex;
                ParseTensor(ref reader, name, ctx, out long begin, out long end);
                if (count == entries.Length) Array.Resize(ref entries, Math.Max(4, 2 * count)); // only when the count stopped early (not valid JSON)
                entries[count++] = new HeaderEntry(nameStart, nameLength, escaped, hash, valueStart, begin, end);
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

        // (the sort of List<T>.Sort: the same order for the same entries, ties included)
        entries.AsSpan(0, count).Sort(static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        var header = new SafeTensorsHeader(json, unescaped, entries, count, metadata ?? new Dictionary<string, string>().AsReadOnly(), headerLength,
            count == 0 ? 0 : entries[count - 1].End);
        long dataEnd = 0;
        for (int i = 0; i < count; i++)
        {
            var t = entries[i];
            if (t.Begin < dataEnd)
                throw ctx.Fail($"tensors '{Cite(header.NameAt(i - 1))}' (bytes [{entries[i - 1].Begin}, {entries[i - 1].End})) and '{Cite(header.NameAt(i))}' (bytes [{t.Begin}, {t.End})) overlap.", header.NameAt(i));
            if (t.Begin > dataEnd)
                throw ctx.Fail(i == 0
                    ? $"tensor '{Cite(header.NameAt(i))}' starts at byte {t.Begin}, leaving a gap at the start of the data buffer: data_offsets must cover the data buffer without gaps."
                    : $"there is a gap of {t.Begin - dataEnd} bytes between tensors '{Cite(header.NameAt(i - 1))}' (ends at {dataEnd}) and '{Cite(header.NameAt(i))}' (starts at {t.Begin}): data_offsets must cover the data buffer without gaps.", header.NameAt(i));
            dataEnd = t.End;
        }
        return header;
    }

    /// <summary>
    /// The fewest bytes a valid tensor's entry takes, with the comma or brace after it: the 49 of
    /// <c>"":{"dtype":"U8","shape":[],"data_offsets":[0,0]}</c> and one (a header of n tensors has at least 50n + 1 bytes).
    /// </summary>
    private const int MinEntryBytes = 50;

    /// <summary>How many names the header's object holds, as far as it is well-formed JSON (the size of the arrays to allocate).</summary>
    private static int CountEntries(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, s_readerOptions);
        int count = 0;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                count++;
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // the parse says what is wrong
        }
        return count;
    }

    /// <summary>A power of two at least twice <paramref name="entries"/>: the open-addressing table of names stays half empty.</summary>
    private static int TableSize(int entries) => (int)Math.Min(1 << 30, BitOperations.RoundUpToPowerOf2((uint)Math.Max(8, 2 * entries)));

    /// <summary>
    /// Adds entry <paramref name="count"/> (to come: <paramref name="entries"/>[0, count) are its predecessors) to the table of
    /// names; false when an earlier entry has the same name. The table doubles when it is half full.
    /// </summary>
    private static bool AddName(ref int[] table, HeaderEntry[] entries, int count, int hash, ReadOnlySpan<byte> name, byte[] json, byte[] unescaped)
    {
        if (2 * (count + 1) > table.Length)
        {
            var larger = new int[TableSize(count + 1)];
            for (int i = 0; i < count; i++)
            {
                int free = Slot(larger, entries[i].Hash);
                while (larger[free] != 0) free = (free + 1) & (larger.Length - 1);
                larger[free] = i + 1;
            }
            table = larger;
        }
        int at = Slot(table, hash);
        for (; table[at] != 0; at = (at + 1) & (table.Length - 1))
        {
            ref readonly var other = ref entries[table[at] - 1];
            if (other.Hash == hash && name.SequenceEqual((other.Unescaped ? unescaped : json).AsSpan(other.NameStart, other.NameLength)))
                return false;
        }
        table[at] = count + 1;
        return true;

        static int Slot(int[] table, int hash) => (int)((uint)hash & (uint)(table.Length - 1));
    }

    private static string Text(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    /// <summary>The tensor whose entry's object starts at <paramref name="valueStart"/> of <paramref name="json"/> (validated before).</summary>
    internal static SafeTensorInfo TensorOf(byte[] json, int valueStart, string name)
    {
        var reader = new Utf8JsonReader(json.AsSpan(valueStart), s_readerOptions);
        reader.Read();
        return ParseTensor(ref reader, Encoding.UTF8.GetBytes(name), new FileContext(null), out _, out _, name)!;
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

    /// <summary>
    /// Reads and validates one tensor's entry; returns its <see cref="SafeTensorInfo"/> when <paramref name="create"/> names
    /// it (re-reading an entry validated before), else null: a name and a shape are made only for a message or when asked.
    /// </summary>
    private static SafeTensorInfo? ParseTensor(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8Name, FileContext ctx, out long begin, out long end, string? create = null)
    {
        string Name(ReadOnlySpan<byte> utf8) => create ?? Text(utf8);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw ctx.Fail($"the entry of tensor '{Cite(Name(utf8Name))}' must be a JSON object with dtype, shape and data_offsets, but it is a {Describe(reader.TokenType)}.", Name(utf8Name));
        string? dtype = null;
        Span<long> shape = stackalloc long[MaxDimensions];
        Span<long> offsets = stackalloc long[2];
        int rank = -1, offsetCount = -1;
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
                        throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}': dtype must be a string such as \"F32\", but it is a {Describe(reader.TokenType)}.", Name(utf8Name));
                    int known = IndexOf(ref reader, s_dtypes);
                    dtype = known >= 0 ? s_dtypes[known] : reader.GetString()!;
                    break;
                case 1 when rank < 0:
                    rank = ReadIntegers(ref reader, utf8Name, "shape", shape, ctx);
                    if (rank > MaxDimensions)
                        throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}': shape has {rank} dimensions, more than {MaxDimensions}: the file is corrupt.", Name(utf8Name));
                    break;
                case 2 when offsetCount < 0:
                    offsetCount = ReadIntegers(ref reader, utf8Name, "data_offsets", offsets, ctx);
                    break;
                case < 0:
                    throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}' has an unknown field '{Cite(unknown!)}'; a tensor entry holds only dtype, shape and data_offsets.", Name(utf8Name));
                default:
                    throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}' lists '{s_fields[field]}' twice.", Name(utf8Name));
            }
        }
        if (dtype is null || rank < 0 || offsetCount < 0)
        {
            string missing = dtype is null ? "dtype" : rank < 0 ? "shape" : "data_offsets";
            throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}' has no '{missing}'; a tensor entry holds dtype, shape and data_offsets.", Name(utf8Name));
        }
        if (!s_dtypeBits.TryGetValue(dtype, out int bits))
            throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}' has the unknown dtype '{Cite(dtype)}'; safetensors dtypes are {string.Join(", ", s_dtypeBits.Keys)}.", Name(utf8Name));
        if (offsetCount != 2)
            throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}': data_offsets must be [begin, end], but it has {offsetCount} numbers.", Name(utf8Name));
        begin = offsets[0];
        end = offsets[1];
        if (begin > end)
            throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}': data_offsets [{begin}, {end}] begin after they end.", Name(utf8Name));

        ReadOnlySpan<long> dimensions = shape[..rank];
        long count = 1;
        long bytes;
        try
        {
            foreach (long d in dimensions) count = checked(count * d);
            long totalBits = checked(count * bits);
            if (totalBits % 8 != 0)
                throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}': {count} elements of {dtype} ({bits} bits each) do not fill whole bytes.", Name(utf8Name));
            bytes = totalBits / 8;
        }
        catch (OverflowException)
        {
            throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}': shape {ShapeText(dimensions.ToArray())} has too many elements to be stored.", Name(utf8Name));
        }
        if (end - begin != bytes)
            throw ctx.Fail($"tensor '{Cite(Name(utf8Name))}': dtype {dtype} and shape {ShapeText(dimensions.ToArray())} need {bytes} bytes, but data_offsets [{begin}, {end}] span {end - begin} bytes.", Name(utf8Name));
        return create is null ? null : new SafeTensorInfo(create, dtype, dimensions.ToArray(), count, begin, end);
    }

    /// <summary>The index of the reader's current name or string in <paramref name="texts"/>, or −1 (nothing allocated).</summary>
    private static int IndexOf(ref Utf8JsonReader reader, string[] texts)
    {
        for (int i = 0; i < texts.Length; i++)
            if (reader.ValueTextEquals(texts[i])) return i;
        return -1;
    }

    /// <summary>
    /// Reads a JSON array of non-negative integers (a shape or data_offsets): the first ones into <paramref name="values"/>
    /// (as many as fit), and returns how many there are (a damaged file's array can hold millions, 8 bytes each once read).
    /// </summary>
    private static int ReadIntegers(ref Utf8JsonReader reader, scoped ReadOnlySpan<byte> name, string field, scoped Span<long> values, FileContext ctx)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw ctx.Fail($"tensor '{Cite(Text(name))}': {field} must be an array of non-negative integers, but it is a {Describe(reader.TokenType)}.", Text(name));
        int count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0)
                throw ctx.Fail($"tensor '{Cite(Text(name))}': {field} must be an array of non-negative integers, but it holds {DescribeValue(ref reader)}.", Text(name));
            if (count < values.Length) values[count] = v;
            count++;
        }
        return count;
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
        if (padded > SafeTensors.MaxHeaderLength)
            throw new ArgumentException($"The metadata makes the file's header {padded} bytes, more than the {SafeTensors.MaxHeaderLength} that " +
                                        "loading accepts (the file could not be read back): keep large data in a file of its own.", "metadata");
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
