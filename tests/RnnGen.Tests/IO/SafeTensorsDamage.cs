using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json.Nodes;

namespace RnnGen.Tests.IO;

/// <summary>
/// Seeded damage to a valid safetensors file, for the fuzz tests of model files and training checkpoints: bytes flipped
/// anywhere, in the 8-byte header length or in the JSON; the header length made to lie; the file cut or extended; and edits
/// of the JSON itself (dtypes, shapes and data_offsets changed to other or extreme values, tensors removed, added, duplicated,
/// metadata of other types, RnnGen's metadata keys changed, deep nesting, very long strings, bytes that are not UTF-8).
/// </summary>
internal static class SafeTensorsDamage
{
    private const string Meta = "__metadata__";

    /// <summary>Trials per test are multiplied by the environment variable RNNGEN_FUZZ_SCALE (default 1) for a longer search.</summary>
    public static int Trials(int inCi) =>
        inCi * (int.TryParse(Environment.GetEnvironmentVariable("RNNGEN_FUZZ_SCALE"), out int scale) && scale > 0 ? scale : 1);

    /// <summary>One to three damages to a copy of <paramref name="file"/> (a valid one); <paramref name="what"/> says which.</summary>
    public static byte[] Damage(byte[] file, Random random, out string what)
    {
        var done = new List<string>();
        int damages = random.Next(4) == 0 ? random.Next(2, 4) : 1;
        for (int d = 0; d < damages; d++)
        {
            file = random.Next(10) switch
            {
                0 => Flip(file, 0, file.Length, random, done, "anywhere"),
                1 => Flip(file, 0, Math.Min(8, file.Length), random, done, "in the header length"),
                2 => Flip(file, 8, HeaderEnd(file), random, done, "in the JSON"),
                3 => LieAboutTheHeaderLength(file, random, done),
                4 => Cut(file, random, done),
                5 => Append(file, random, done),
                6 => EditText(file, random, done),
                _ => EditJson(file, random, done),
            };
        }
        what = FuzzRun.Short(string.Join("; ", done));
        return file;
    }

    /// <summary>The same file with every tensor re-encoded as <paramref name="dtype"/> (F16 or BF16), to fuzz the half-precision paths.</summary>
    public static byte[] Recode(byte[] file, string dtype)
    {
        var reference = ReferenceSafeTensors.Read(file, exactLength: true, out _)!;
        var (root, _) = Parse(file)!.Value;
        var data = new MemoryStream();
        Span<byte> two = stackalloc byte[2];
        foreach (var (name, tensor) in reference.Tensors.OrderBy(t => t.Value.Begin))
        {
            long begin = data.Length;
            foreach (float v in reference.Values<float>(name)!)
            {
                if (dtype == "F16") BinaryPrimitives.WriteHalfLittleEndian(two, (Half)v);
                else BinaryPrimitives.WriteUInt16LittleEndian(two, (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16));
                data.Write(two);
            }
            root[name]!["dtype"] = dtype;
            root[name]!["data_offsets"] = new JsonArray(begin, data.Length);
        }
        return Assemble(Encoding.UTF8.GetBytes(root.ToJsonString()), data.ToArray(), pad: true);
    }

    // ------------------------------------------------------------------ bytes

    private static int HeaderEnd(byte[] file) =>
        file.Length < 8 ? file.Length : (int)Math.Clamp(BinaryPrimitives.ReadUInt64LittleEndian(file) + 8, 8, (ulong)file.Length);

    private static byte[] Flip(byte[] file, int from, int to, Random random, List<string> done, string where)
    {
        if (to <= from) return Cut(file, random, done);
        file = (byte[])file.Clone();
        int flips = random.Next(1, 5);
        var at = new List<int>();
        for (int f = 0; f < flips; f++)
        {
            int i = random.Next(from, to);
            file[i] = random.Next(2) == 0 ? (byte)(file[i] ^ (1 << random.Next(8))) : (byte)random.Next(256);
            at.Add(i);
        }
        done.Add($"bytes {string.Join(",", at)} flipped ({where})");
        return file;
    }

    private static readonly ulong[] s_lengths =
    [
        0, 1, 2, 7, 8, 100_000_000, 100_000_001, 1UL << 31, (1UL << 31) - 1, 1UL << 32, long.MaxValue, long.MaxValue - 7, (ulong)long.MaxValue + 1,
        ulong.MaxValue, ulong.MaxValue - 8,
    ];

    private static byte[] LieAboutTheHeaderLength(byte[] file, Random random, List<string> done)
    {
        if (file.Length < 8) return Append(file, random, done);
        file = (byte[])file.Clone();
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        ulong claimed = random.Next(3) switch
        {
            0 => s_lengths[random.Next(s_lengths.Length)],
            1 => (ulong)(file.Length - 8 + random.Next(-2, 64)),       // about the file's size
            _ => (ulong)((long)n + random.Next(-16, 17)),              // near the truth
        };
        BinaryPrimitives.WriteUInt64LittleEndian(file, claimed);
        done.Add($"header length {n} → {claimed}");
        return file;
    }

    private static byte[] Cut(byte[] file, Random random, List<string> done)
    {
        if (file.Length == 0) return Append(file, random, done);
        // near the header's end half of the time (the boundary is where readers go wrong)
        int end = HeaderEnd(file);
        int length = random.Next(2) == 0 ? random.Next(file.Length) : Math.Clamp(end + random.Next(-12, 12), 0, file.Length - 1);
        done.Add($"cut to {length} of {file.Length} bytes");
        return file[..length];
    }

    private static byte[] Append(byte[] file, Random random, List<string> done)
    {
        var extra = new byte[random.Next(1, 4) == 1 ? random.Next(1, 9) : random.Next(1, 200)];
        if (random.Next(2) == 0) random.NextBytes(extra);
        done.Add($"{extra.Length} bytes appended");
        return [.. file, .. extra];
    }

    // ------------------------------------------------------------------ the JSON as text

    /// <summary>The header split from the data, or null when its length or JSON no longer holds.</summary>
    private static (JsonObject Root, byte[] Data)? Parse(byte[] file)
    {
        if (file.Length < 8) return null;
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (n > (ulong)(file.Length - 8)) return null;
        try
        {
            if (JsonNode.Parse(file.AsSpan(8, (int)n)) is not JsonObject root) return null;
            ReadAll(root);
            return (root, file[(8 + (int)n)..]);
        }
        catch (Exception)
        {
            return null;
        }
    }

    // A tree reads names and strings when first asked: here, so that what it cannot read (an earlier damage broke it) is found.
    private static void ReadAll(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o: foreach (var (_, value) in o) ReadAll(value); break;
            case JsonArray a: foreach (var item in a) ReadAll(item); break;
            case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String: v.GetValue<string>(); break;
        }
    }

    /// <summary>Header length, JSON (padded with spaces to a multiple of 8, as writers do, when asked) and data.</summary>
    private static byte[] Assemble(byte[] json, byte[] data, bool pad)
    {
        int length = pad ? (json.Length + 7) / 8 * 8 : json.Length;
        var file = new byte[8 + length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)length);
        json.CopyTo(file, 8);
        file.AsSpan(8 + json.Length, length - json.Length).Fill((byte)' ');
        data.CopyTo(file, 8 + length);
        return file;
    }

    private static readonly byte[][] s_notUtf8 = [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xE2, 0x82]];

    // Edits of the header's text that a JSON tree cannot hold: duplicate keys, nesting, long or broken strings, other roots.
    private static byte[] EditText(byte[] file, Random random, List<string> done)
    {
        if (Parse(file) is not var (root, data)) return Flip(file, 0, file.Length, random, done, "anywhere");
        string json = root.ToJsonString();
        string body = json[1..^1];                       // the members, without the braces
        var members = root.Select(p => $"{JsonValue.Create(p.Key).ToJsonString()}:{p.Value?.ToJsonString() ?? "null"}").ToList();
        string member = members.Count > 0 ? members[random.Next(members.Count)] : "\"x\":1";
        string Nest(int depth) => new string('[', depth) + new string(']', depth);
        int depth = new[] { 17, 65, 1000, 50_000 }[random.Next(4)];
        int longLength = new[] { 300, 70_000, 400_000 }[random.Next(3)];
        string longText = new string((char)random.Next('a', 'z' + 1), longLength) + (random.Next(2) == 0 ? "é\\u00e9\\n" : "");
        int many = new[] { 100, 3000 }[random.Next(2)];
        string empties = string.Concat(Enumerable.Range(0, many).Select(i => $",\"e{i}\":{{\"dtype\":\"BOOL\",\"shape\":[0],\"data_offsets\":[0,0]}}"));
        (string edited, string note) = random.Next(16) switch
        {
            15 => ($"{{{body}{empties}}}", $"{many} empty tensors"),
            0 => ($"{{{body},{member}}}", $"'{Cut40(member)}' twice"),
            1 => ($"{{{member},{body}}}", $"'{Cut40(member)}' twice, first"),
            2 => (json.Replace("\"dtype\":", "\"dtype\":\"F32\",\"dtype\":"), "every dtype twice"),
            3 => (json.Replace("\"__metadata__\":{", "\"__metadata__\":{\"a\":\"1\",\"a\":\"2\","), "a metadata key twice"),
            4 => ($"{{\"deep\":{Nest(depth)},{body}}}", $"nested {depth} deep"),
            5 => (json.Replace("\"__metadata__\":{", $"\"__metadata__\":{{\"deep\":{Nest(depth)},"), $"metadata nested {depth} deep"),
            6 => (json.Replace("\"__metadata__\":{", $"\"__metadata__\":{{\"long\":\"{longText}\","), $"metadata value of {longLength} characters"),
            7 => ($"{{\"{longText}\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}},{body}}}", $"tensor name of {longLength} characters"),
            8 => (json.Replace("\"dtype\":\"F", $"\"dtype\":\"{longText}F"), $"dtypes of {longLength} characters"),
            9 => (json.Replace("\"__metadata__\":{", $"\"__metadata__\":{{\"{new[] { "\\uD800", "\\uDC00x", "\\u0000", "\\ud83d\\ude00" }[random.Next(4)]}\":\"x\","),
                  "an escaped surrogate or NUL in a key"),
            10 => (new[] { "[]", "null", "", " ", "{", "}", "{}", "\"{}\"", "0" }[random.Next(9)], "another root"),
            11 => (json + new[] { "{}", " x", ",", "\0", "\n" }[random.Next(5)], "text after the root"),
            12 => (new[] { "/*c*/", "\uFEFF", "\t\r\n " }[random.Next(3)] + json, "text before the root"),
            13 => (json.Length > 2 ? json[..^1] + ",}" : json, "a trailing comma"),
            _ => (json, "bytes that are not UTF-8"),
        };
        byte[] bytes = Encoding.UTF8.GetBytes(edited);
        if (note == "bytes that are not UTF-8")
        {
            // inside a string: after an opening quote
            int quote = Math.Max(0, edited.IndexOf('"', random.Next(Math.Max(1, edited.Length))));
            byte[] bad = s_notUtf8[random.Next(s_notUtf8.Length)];
            bytes = [.. bytes[..Math.Min(quote + 1, bytes.Length)], .. bad, .. bytes[Math.Min(quote + 1, bytes.Length)..]];
            note += $" ({Convert.ToHexString(bad)} at {quote + 1})";
        }
        done.Add(note);
        return Assemble(bytes, data, pad: random.Next(2) == 0);
    }

    private static string Cut40(string text) => text.Length <= 40 ? text : text[..40] + "…";

    // ------------------------------------------------------------------ the JSON as a tree

    private static readonly string[] s_dtypes = ["F32", "F64", "F16", "BF16", "I32", "I64", "U8", "BOOL", "F4", "F6_E2M3", "F8_E4M3", "C64", "f32", "", "F32 ", "F128"];

    // number literals as they are written: beyond long, fractional, exponents, negative zero
    private static readonly string[] s_numbers =
    [
        "-1", "-8", "0", "1", "2", "3", "4", "7", "8", "2.0", "1e3", "-0", "4294967296", "2147483648", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "18446744073709551615", "18446744073709551616", "1e400", "99999999999999999999999999999",
        "4611686018427387904", "2305843009213693952",
    ];

    private static readonly string[] s_names =
    [
        "weight_ih_l0", "weight_hh_l1", "weight_ih_l7", "weight_hh_l7", "bias_hh_l0_reverse", "lstm.weight_ih_l0", "head.weight", "head.bias",
        "optimizer.state", "embedding.weight", "weight_ih_l2147483648", "", "__metadata__ ",
    ];

    private static readonly string[] s_metadataKeys =
    [
        SafeTensorsMetadataKeys.Format, SafeTensorsMetadataKeys.Cell, SafeTensorsMetadataKeys.Input, SafeTensorsMetadataKeys.Hidden,
        SafeTensorsMetadataKeys.Layers, SafeTensorsMetadataKeys.Output, SafeTensorsMetadataKeys.Tokens, SafeTensorsMetadataKeys.Activation,
        SafeTensorsMetadataKeys.Precision, SafeTensorsMetadataKeys.CheckpointOptimizer, SafeTensorsMetadataKeys.CheckpointSteps,
        SafeTensorsMetadataKeys.CheckpointLearningRate, SafeTensorsMetadataKeys.CheckpointShuffle, SafeTensorsMetadataKeys.CheckpointBestLoss,
        SafeTensorsMetadataKeys.CheckpointEpochsSinceBest, SafeTensorsMetadataKeys.TorchFormat,
    ];

    private static readonly string[] s_metadataValues =
    [
        "", "0", "1", "2", "-1", "01", "+1", " 1", "1.5", "1e3", "2147483648", "9223372036854775807", "9223372036854775808", "99999999999999999999",
        "NaN", "-NaN", "Infinity", "-Infinity", "∞", "-0", "1e400", "1e-400", "0x10", "lstm", "gru", "rnn", "LSTM", "tanh", "relu", "single", "double",
        "true", "RnnGen.Adam", "RnnGen.RmsProp", "RnnGen.Sgd", "RnnGen.Adam`1", "0,0,0,0", "1,2,3", "1,2,3,4", "1,2,3,4,5", "ffffffffffffffff,1,1,1",
        "10000000000000000,1,1,1", "-1,1,1,1", "g,1,1,1", "1,,1,1", "١",
    ];

    private static JsonNode Number(Random random) => JsonNode.Parse(s_numbers[random.Next(s_numbers.Length)])!;

    private static JsonNode? Other(Random random) => random.Next(6) switch
    {
        0 => null,
        1 => JsonValue.Create("x"),
        2 => JsonValue.Create(true),
        3 => new JsonArray(),
        4 => new JsonObject(),
        _ => Number(random),
    };

    // Edits of the header as a tree; the data stays (or gains the bytes of an added tensor).
    private static byte[] EditJson(byte[] file, Random random, List<string> done)
    {
        if (Parse(file) is not var (root, data)) return Flip(file, 0, file.Length, random, done, "anywhere");
        var names = root.Where(p => p.Key != Meta && p.Value is JsonObject o && o["shape"] is JsonArray && o["data_offsets"] is JsonArray { Count: 2 })
            .Select(p => p.Key).ToList();
        if (names.Count == 0) return EditText(file, random, done);
        string name = names[random.Next(names.Count)];
        var entry = (JsonObject)root[name]!;
        var shape = (JsonArray)entry["shape"]!;
        var offsets = (JsonArray)entry["data_offsets"]!;
        long Offset(JsonNode? node) => node is JsonValue v && v.TryGetValue(out long x) ? x : 0;
        string note;
        switch (random.Next(16))
        {
            case 0:
                entry["dtype"] = random.Next(5) == 0 ? Other(random) : s_dtypes[random.Next(s_dtypes.Length)];
                note = $"{name} dtype {entry["dtype"]?.ToJsonString() ?? "null"}";
                break;
            case 1 when shape.Count > 0:
                shape[random.Next(shape.Count)] = random.Next(5) == 0 ? Other(random) : Number(random);
                note = $"{name} shape {shape.ToJsonString()}";
                break;
            case 2:
                switch (random.Next(6))
                {
                    case 0: shape.Add(random.Next(3) == 0 ? Number(random) : JsonValue.Create(1)); break;
                    case 4: for (int d = 0; d < 20_000; d++) shape.Add(JsonValue.Create(1)); break;
                    case 1 when shape.Count > 0: shape.RemoveAt(random.Next(shape.Count)); break;
                    case 2: entry["shape"] = new JsonArray(shape.Reverse().Select(d => d?.DeepClone()).ToArray()); break;
                    case 3: entry["shape"] = new JsonArray(JsonValue.Create(Offset(shape.Count > 0 ? shape[0] : null) * (shape.Count > 1 ? Offset(shape[1]) : 1))); break;
                    default: entry["shape"] = Other(random); break;
                }
                note = $"{name} shape {Cut40(entry["shape"]?.ToJsonString() ?? "null")}";
                break;
            case 3:
                offsets[random.Next(2)] = random.Next(5) == 0 ? Other(random) : Number(random);
                note = $"{name} data_offsets {offsets.ToJsonString()}";
                break;
            case 4:
                entry["data_offsets"] = new JsonArray(offsets[1]?.DeepClone(), offsets[0]?.DeepClone());
                note = $"{name} data_offsets reversed";
                break;
            case 5:
            {
                // shifted by a few bytes (overlapping a neighbour, leaving a gap) or by the data's length (past the end)
                long shift = random.Next(2) == 0 ? random.Next(-8, 9) : data.Length;
                entry["data_offsets"] = new JsonArray(Offset(offsets[0]) + shift, Offset(offsets[1]) + shift);
                note = $"{name} data_offsets moved by {shift}";
                break;
            }
            case 6:
                if (random.Next(2) == 0) offsets.Add(Number(random));
                else offsets.RemoveAt(random.Next(2));
                note = $"{name} data_offsets {offsets.ToJsonString()}";
                break;
            case 7:
            {
                // another tensor's offsets: same length, a valid file with the two tensors' data swapped
                string other = names[random.Next(names.Count)];
                var otherOffsets = root[other]!["data_offsets"]!;
                root[other]!["data_offsets"] = offsets.DeepClone();
                entry["data_offsets"] = otherOffsets.DeepClone();
                note = $"data_offsets of {name} and {other} swapped";
                break;
            }
            case 8:
            {
                // removed; with its data cut out and the later tensors moved down half of the time (a valid file without it)
                root.Remove(name);
                long begin = Offset(offsets[0]), end = Offset(offsets[1]);
                if (random.Next(2) == 0 && end <= data.Length)
                {
                    data = [.. data[..(int)begin], .. data[(int)end..]];
                    foreach (string later in names.Where(n => n != name && Offset(root[n]!["data_offsets"]![0]) >= end))
                    {
                        var o = root[later]!["data_offsets"]!;
                        root[later]!["data_offsets"] = new JsonArray(Offset(o[0]) - (end - begin), Offset(o[1]) - (end - begin));
                    }
                    note = $"{name} removed with its data";
                }
                else note = $"{name} removed";
                break;
            }
            case 9:
            {
                // an extra tensor after the others, with its data (a valid file with one tensor more)
                string added = s_names[random.Next(s_names.Length)] + (random.Next(3) == 0 ? "" : "x");
                int count = random.Next(0, 6);
                root.Remove(added);
                root[added] = new JsonObject { ["dtype"] = "F32", ["shape"] = new JsonArray(JsonValue.Create(count)), ["data_offsets"] = new JsonArray(data.Length, data.Length + 4 * count) };
                data = [.. data, .. new byte[4 * count]];
                note = $"tensor '{added}' [{count}] added";
                break;
            }
            case 10:
                root[Meta] = random.Next(3) == 0 ? new JsonObject { ["a"] = Other(random) } : Other(random);
                note = $"metadata {root[Meta]?.ToJsonString() ?? "null"}";
                break;
            case 11 or 12:
            {
                var metadata = root[Meta] as JsonObject ?? new JsonObject();
                root[Meta] = metadata;
                string key = s_metadataKeys[random.Next(s_metadataKeys.Length)];
                if (random.Next(4) == 0) metadata.Remove(key);
                else metadata[key] = s_metadataValues[random.Next(s_metadataValues.Length)];
                note = $"metadata {key} = {metadata[key]?.ToJsonString() ?? "removed"}";
                break;
            }
            case 13:
                if (random.Next(2) == 0) entry.Remove(new[] { "dtype", "shape", "data_offsets" }[random.Next(3)]);
                else entry[new[] { "offsets", "dtype ", "DTYPE", "extra" }[random.Next(4)]] = Other(random);
                note = $"{name} {entry.ToJsonString()}";
                break;
            case 14:
                root[name] = Other(random);
                note = $"{name} = {root[name]?.ToJsonString() ?? "null"}";
                break;
            default:
                root.Remove(Meta);
                note = "no metadata";
                break;
        }
        done.Add(note);
        return Assemble(Encoding.UTF8.GetBytes(root.ToJsonString()), data, pad: random.Next(4) != 0);
    }
}

/// <summary>
/// Runs fuzz trials on a thread of their own, so that one that never returns is reported (with what it did) instead of
/// hanging the test run (a watchdog with minutes to spare, not a timing: unit tests time nothing), and measures each load's
/// allocations on that thread.
/// </summary>
internal static class FuzzRun
{
    // A load may allocate the header's bytes, its strings in UTF-16 (twice their bytes) and a buffer to unescape them, each
    // tensor's entry as objects and the maps that find them (about 8 times the bytes of a header of thousands of empty
    // tensors), and the model's values (up to four times their bytes: F16 into double); messages, stack traces and small
    // bookkeeping are a fixed allowance on top.
    private const int AllocationFactor = 10;
    private const long FixedAllowance = 64 * 1024;

    // the trial under way, for the message when one does not return
    [ThreadStatic] private static StrongBox<string?>? t_current;

    public static void Trials(int count, Action<int> trial)
    {
        var current = new StrongBox<string?>();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            t_current = current;
            try
            {
                for (int i = 0; i < count; i++) trial(i);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true };
        thread.Start();
        if (!thread.Join(TimeSpan.FromSeconds(120) + count * TimeSpan.FromMilliseconds(50)))
            Assert.Fail($"the trials did not finish; the one under way: {Volatile.Read(ref current.Value)}");
        if (failure is not null) ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>
    /// Runs <paramref name="load"/> and returns what it threw, or null. It must allocate at most a few times the file's size plus an allowance (a header claiming gigabytes is refused
    /// before anything of that size is allocated); over that, it runs once more and that run counts (a code path's first
    /// run allocates its static tables once).
    /// </summary>
    public static Exception? Load(Action load, int fileLength, string context)
    {
        if (t_current is { } box) Volatile.Write(ref box.Value, context);
        (Exception? error, long allocated) Once()
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Exception? error = null;
            try
            {
                load();
            }
            catch (Exception e)
            {
                error = e;
            }
            return (error, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        var (error, allocated) = Once();
        long bound = (long)AllocationFactor * fileLength + FixedAllowance;
        if (allocated > bound)
        {
            var again = Once();
            Assert.True(again.error?.GetType() == error?.GetType(), $"{context}: a second load threw {again.error?.GetType().Name ?? "nothing"}, the first {error?.GetType().Name ?? "nothing"}");
            allocated = again.allocated;
        }
        Assert.True(allocated <= bound, $"{context}: the load allocated {allocated:N0} bytes for a file of {fileLength:N0} ({Short(error?.Message ?? "loaded")})");
        return error;
    }

    /// <summary>The damages both keep files valid and break them: some of the trials load, and most are refused.</summary>
    public static void ExpectBoth(int loaded, int trials) =>
        Assert.True(loaded >= trials / 25 && loaded <= trials / 2, $"{loaded} of {trials} damaged files loaded");

    /// <summary>A message shortened for a failure's report (a damaged file's names can be long).</summary>
    public static string Short(string text) => text.Length <= 400 ? text : text[..400] + $"… ({text.Length} characters)";
}
