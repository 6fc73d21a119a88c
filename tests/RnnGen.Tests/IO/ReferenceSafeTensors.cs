using System.Buffers.Binary;
using System.Numerics;
using System.Text.Json;
using System.Text.Unicode;

namespace RnnGen.Tests.IO;

/// <summary>
/// A second reading of a safetensors file, written from the format's description with <see cref="JsonDocument"/> (not the
/// library's reader): what the fuzz tests compare a successful load with. <see cref="Read"/> says why a file breaks a rule
/// of the format, so that a load that accepted it is caught.
/// </summary>
internal sealed class ReferenceSafeTensors
{
    public sealed record Tensor(string DType, long[] Shape, long Begin, long End);

    private static readonly Dictionary<string, int> s_bits = new()
    {
        ["BOOL"] = 8, ["U8"] = 8, ["I8"] = 8, ["F8_E5M2"] = 8, ["F8_E4M3"] = 8, ["F8_E8M0"] = 8,
        ["I16"] = 16, ["U16"] = 16, ["F16"] = 16, ["BF16"] = 16,
        ["I32"] = 32, ["U32"] = 32, ["F32"] = 32,
        ["I64"] = 64, ["U64"] = 64, ["F64"] = 64, ["C64"] = 64,
        ["F4"] = 4, ["F6_E2M3"] = 6, ["F6_E3M2"] = 6,
    };

    private readonly byte[] _file;
    private readonly long _dataStart;

    private ReferenceSafeTensors(byte[] file, long dataStart, Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata)
    {
        _file = file;
        _dataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    public Dictionary<string, Tensor> Tensors { get; }

    public Dictionary<string, string> Metadata { get; }

    /// <summary>
    /// The file's tensors and metadata, or null with the rule it breaks. <paramref name="exactLength"/>: the data buffer must
    /// end where the file ends (a whole file; a stream may go on).
    /// </summary>
    public static ReferenceSafeTensors? Read(byte[] file, bool exactLength, out string why)
    {
        why = "";
        if (file.Length < 8) return Invalid(out why, "shorter than its 8-byte header length");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (n > 100_000_000 || n > (ulong)(file.Length - 8)) return Invalid(out why, $"header length {n} in a file of {file.Length} bytes");
        var json = file.AsMemory(8, (int)n);
        if (!Utf8.IsValid(json.Span)) return Invalid(out why, "header not UTF-8");
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object) return Invalid(out why, "header not an object");
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name)) return Invalid(out why, $"'{property.Name}' twice");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind == JsonValueKind.Null) continue;
                    if (property.Value.ValueKind != JsonValueKind.Object) return Invalid(out why, "metadata not an object");
                    foreach (var entry in property.Value.EnumerateObject())
                        if (entry.Value.ValueKind != JsonValueKind.String || !metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                            return Invalid(out why, $"metadata '{entry.Name}' not a string or twice");
                    continue;
                }
                if (ReadTensor(property.Value) is not { } tensor) return Invalid(out why, $"tensor '{property.Name}' malformed");
                tensors.Add(property.Name, tensor);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Invalid(out why, "header not JSON: " + e.Message);
        }

        long end = 0;
        foreach (var t in tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (t.Begin != end) return Invalid(out why, $"data_offsets leave a gap or overlap at {end}");
            end = t.End;
        }
        long available = file.Length - 8 - (long)n;
        if (end > available || (exactLength && end != available)) return Invalid(out why, $"data buffer of {end} bytes, {available} in the file");
        return new ReferenceSafeTensors(file, 8 + (long)n, tensors, metadata);
    }

    private static Tensor? ReadTensor(JsonElement entry)
    {
        if (entry.ValueKind != JsonValueKind.Object || entry.EnumerateObject().Count() != 3
            || !entry.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String || !s_bits.TryGetValue(dtype.GetString()!, out int bits)
            || !entry.TryGetProperty("shape", out var shapeElement) || Integers(shapeElement) is not { } shape
            || !entry.TryGetProperty("data_offsets", out var offsetsElement) || Integers(offsetsElement) is not [long begin, long end] || begin > end)
            return null;
        try
        {
            long count = shape.Aggregate(1L, (a, d) => checked(a * d));
            long totalBits = checked(count * bits);
            return totalBits % 8 == 0 && end - begin == totalBits / 8 ? new Tensor(dtype.GetString()!, shape, begin, end) : null;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static long[]? Integers(JsonElement array)
    {
        if (array.ValueKind != JsonValueKind.Array) return null;
        var values = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0) return null;
            values.Add(v);
        }
        return values.ToArray();
    }

    /// <summary>
    /// The values of tensor <paramref name="name"/> in <typeparamref name="T"/>, or null when one of them is finite in the file
    /// and beyond <typeparamref name="T"/>'s range (an F64 value too large for a float).
    /// </summary>
    public T[]? Values<T>(string name) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tensor = Tensors[name];
        var bytes = _file.AsSpan((int)(_dataStart + tensor.Begin), (int)(tensor.End - tensor.Begin));
        int size = tensor.DType switch { "F64" => 8, "F32" => 4, "F16" or "BF16" => 2, _ => throw new ArgumentException(tensor.DType) };
        var values = new T[bytes.Length / size];
        for (int i = 0; i < values.Length; i++)
        {
            var at = bytes.Slice(i * size, size);
            if (tensor.DType == "F64")
            {
                double wide = BinaryPrimitives.ReadDoubleLittleEndian(at);
                values[i] = T.CreateTruncating(wide);
                if (T.IsInfinity(values[i]) && double.IsFinite(wide)) return null;
                continue;
            }
            values[i] = T.CreateTruncating(tensor.DType switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(at),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(at),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(at) << 16),
            });
        }
        return values;
    }

    private static ReferenceSafeTensors? Invalid(out string why, string reason)
    {
        why = reason;
        return null;
    }
}
