using System.Buffers.Binary;
using System.Text.Json;

namespace RnnGen.IntegrationTests;

/// <summary>
/// A minimal safetensors reader written from the format's description (8-byte little-endian header length, a
/// JSON header of name → dtype, shape, data_offsets, then the data), so that files written by a program under
/// test are checked without RnnGen's own reader.
/// </summary>
public static class SafeTensorsFile
{
    /// <summary>One tensor: its dtype, shape and values (F32 and F64 widened to double).</summary>
    public sealed record Tensor(string DType, int[] Shape, double[] Values);

    /// <summary>Every tensor of the file at <paramref name="path"/> by name (the <c>__metadata__</c> entry is skipped).</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(file);
        int dataStart = checked(8 + (int)headerLength);
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));

        var tensors = new Dictionary<string, Tensor>();
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            string dtype = entry.Value.GetProperty("dtype").GetString()!;
            int[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            long[] range = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            int size = dtype switch
            {
                "F32" => 4,
                "F64" => 8,
                _ => throw new InvalidDataException($"{path}: tensor '{entry.Name}' has dtype {dtype}; this reader knows F32 and F64."),
            };
            int begin = dataStart + checked((int)range[0]);
            var values = new double[(range[1] - range[0]) / size];
            for (int i = 0; i < values.Length; i++)
            {
                var bytes = file.AsSpan(begin + i * size, size);
                values[i] = size == 4 ? BinaryPrimitives.ReadSingleLittleEndian(bytes) : BinaryPrimitives.ReadDoubleLittleEndian(bytes);
            }
            if (values.Length != shape.Aggregate(1, (a, b) => a * b))
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' has {values.Length} values for shape [{string.Join(", ", shape)}].");
            tensors[entry.Name] = new Tensor(dtype, shape, values);
        }
        return tensors;
    }
}
