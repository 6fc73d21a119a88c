using System.Buffers.Binary;
using System.Numerics;
using Google.Protobuf;
using Onnx;

namespace RnnGen;

/// <summary>Creating and reading ONNX <see cref="TensorProto"/>s: float and double values (raw little-endian bytes), int64 constants.</summary>
internal static class OnnxTensors
{
    /// <summary>ONNX's element type for <typeparamref name="T"/> (FLOAT or DOUBLE).</summary>
    public static int ElementType<T>() where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? (int)TensorProto.Types.DataType.Float
        : typeof(T) == typeof(double) ? (int)TensorProto.Types.DataType.Double
        : throw new NotSupportedException($"RnnGen models are float or double, not {typeof(T).Name}.");

    /// <summary>A tensor of <typeparamref name="T"/> with the given shape, its values in <c>raw_data</c>.</summary>
    public static TensorProto Create<T>(string name, ReadOnlySpan<T> values, params long[] dims)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var tensor = new TensorProto { Name = name, DataType = ElementType<T>() };
        tensor.Dims.AddRange(dims);
        int size = typeof(T) == typeof(float) ? sizeof(float) : sizeof(double);
        var bytes = new byte[values.Length * size];
        for (int i = 0; i < values.Length; i++)
        {
            if (size == sizeof(float))
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * size), float.CreateTruncating(values[i]));
            else
                BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * size), double.CreateTruncating(values[i]));
        }
        tensor.RawData = ByteString.CopyFrom(bytes);
        return tensor;
    }

    /// <summary>An int64 tensor (used for constant shapes, axes and the one-hot depth).</summary>
    public static TensorProto CreateInt64(string name, long[] dims, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }

    /// <summary>The tensor's shape.</summary>
    public static long[] Shape(TensorProto tensor) => [.. tensor.Dims];

    /// <summary>Whether <paramref name="tensor"/> has exactly the shape <paramref name="expected"/>.</summary>
    public static bool HasShape(TensorProto tensor, params long[] expected) => tensor.Dims.SequenceEqual(expected);

    /// <summary>A shape as text, e.g. <c>[1, 20, 3]</c>.</summary>
    public static string Format(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>
    /// Reads a float or double tensor (stored in <c>raw_data</c>, <c>float_data</c> or <c>double_data</c>) into
    /// <paramref name="destination"/>, converting to <typeparamref name="T"/>; the element counts must match.
    /// </summary>
    /// <param name="tensor">The tensor to read.</param>
    /// <param name="destination">Where its values go, in its own (row-major) order.</param>
    /// <param name="what">How messages name the tensor, e.g. <c>layer 0 W</c>.</param>
    /// <param name="source">Where the model was read from (for the exception).</param>
    public static void Read<T>(TensorProto tensor, Span<T> destination, string what, OnnxSource source)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long count = FloatCount(tensor, what, source);
        if (count != destination.Length)
            throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') has {count} elements; {destination.Length} were expected.");

        switch ((TensorProto.Types.DataType)tensor.DataType)
        {
            case TensorProto.Types.DataType.Float when !tensor.RawData.IsEmpty:
                ReadOnlySpan<byte> floats = tensor.RawData.Span;
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = T.CreateTruncating(BinaryPrimitives.ReadSingleLittleEndian(floats.Slice(i * sizeof(float))));
                break;
            case TensorProto.Types.DataType.Double when !tensor.RawData.IsEmpty:
                ReadOnlySpan<byte> doubles = tensor.RawData.Span;
                int beyond = ScalarCodec.Decode(doubles, "F64", destination);
                if (beyond >= 0) throw BeyondRange(beyond, BinaryPrimitives.ReadDoubleLittleEndian(doubles.Slice(beyond * sizeof(double))), tensor, what, source);
                break;
            case TensorProto.Types.DataType.Float:
                for (int i = 0; i < destination.Length; i++) destination[i] = T.CreateTruncating(tensor.FloatData[i]);
                break;
            default:
                for (int i = 0; i < destination.Length; i++)
                {
                    double v = tensor.DoubleData[i];
                    destination[i] = T.CreateTruncating(v);
                    if (T.IsInfinity(destination[i]) && double.IsFinite(v)) throw BeyondRange(i, v, tensor, what, source);
                }
                break;
        }
    }

    /// <summary>Every value of a float or double tensor, however many its shape declares: the data is checked to hold them
    /// before the result is allocated, so a shape that declares more than the file holds costs nothing.</summary>
    public static T[] ReadAll<T>(TensorProto tensor, string what, OnnxSource source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var values = new T[FloatCount(tensor, what, source)];
        Read<T>(tensor, values, what, source);
        return values;
    }

    // The values of a FLOAT or DOUBLE tensor whose data holds them all; another element type is refused.
    private static long FloatCount(TensorProto tensor, string what, OnnxSource source)
    {
        var type = (TensorProto.Types.DataType)tensor.DataType;
        if (type is not (TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double))
            throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') has element type {type}; RnnGen reads FLOAT or DOUBLE weights.");
        return StoredCount(tensor, what, source);
    }

    /// <summary>The one value of a tensor of any integer or floating-point element type (an operator's count, such as
    /// OneHot's depth), as a double; a tensor of another size or type is refused.</summary>
    public static double ReadScalar(TensorProto tensor, string what, OnnxSource source) => ReadNumbers(tensor, 1, what, source)[0];

    /// <summary>The <paramref name="count"/> values of a small tensor of any integer or floating-point element type (an
    /// operator's settings: OneHot's values, Slice's starts), as doubles; a tensor of another size or type is refused.</summary>
    public static double[] ReadNumbers(TensorProto tensor, int count, string what, OnnxSource source)
    {
        if (ElementCount(tensor, what, source) != count)
            throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') has shape {Format(tensor.Dims)}; {count} value(s) were expected.");
        if (ReadIntegers(tensor, count, what, source) is { } integers)
            return [.. integers.Select(v => (double)v)];
        var values = new double[count];
        Read<double>(tensor, values, what, source);
        return values;
    }

    /// <summary>The values of a small INT64 or INT32 tensor (an operator's axes, indices, starts or shape), exactly; a tensor
    /// of another type, or of more than 1,024 values, is refused.</summary>
    public static long[] ReadInt64s(TensorProto tensor, string what, OnnxSource source)
    {
        long count = ElementCount(tensor, what, source);
        if (count > 1024)
            throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') has shape {Format(tensor.Dims)}; a few integers were expected.");
        return ReadIntegers(tensor, (int)count, what, source)
            ?? throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') has element type {(TensorProto.Types.DataType)tensor.DataType}; INT64 or INT32 was expected.");
    }

    /// <summary>The <paramref name="count"/> values of an INT64 or INT32 tensor, raw or typed, exactly; null for another type.</summary>
    private static long[]? ReadIntegers(TensorProto tensor, int count, string what, OnnxSource source)
    {
        var type = (TensorProto.Types.DataType)tensor.DataType;
        if (type is not (TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32)) return null;
        if (StoredCount(tensor, what, source) != count)
            throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') has shape {Format(tensor.Dims)}; {count} value(s) were expected.");
        var values = new long[count];
        ReadOnlySpan<byte> raw = tensor.RawData.Span;
        for (int i = 0; i < count; i++)
            values[i] = (type, raw.IsEmpty) switch
            {
                (TensorProto.Types.DataType.Int64, false) => BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(i * sizeof(long))),
                (TensorProto.Types.DataType.Int64, true) => tensor.Int64Data[i],
                (_, false) => BinaryPrimitives.ReadInt32LittleEndian(raw.Slice(i * sizeof(int))),
                _ => tensor.Int32Data[i],
            };
        return values;
    }

    /// <summary>
    /// The number of values a FLOAT, DOUBLE, INT64 or INT32 tensor holds: its shape's element count, which its data — the bytes
    /// of <c>raw_data</c>, or the typed field of its element type — must hold exactly (data in another file, missing or of
    /// another length, is refused). Nothing is allocated from a shape before this check.
    /// </summary>
    private static long StoredCount(TensorProto tensor, string what, OnnxSource source)
    {
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            throw Unreadable(source, tensor,
                $"{what} ('{tensor.Name}') is stored in an external data file; RnnGen reads ONNX files whose weights are inside the model file.");
        long count = ElementCount(tensor, what, source);
        var type = (TensorProto.Types.DataType)tensor.DataType;
        if (!tensor.RawData.IsEmpty)
        {
            int size = type is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Int32 ? 4 : 8;
            if (tensor.RawData.Length != count * size)
                throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') has {tensor.RawData.Length} bytes of raw data; {count} × {size} were expected.");
            return count;
        }
        int stored = type switch
        {
            TensorProto.Types.DataType.Float => tensor.FloatData.Count,
            TensorProto.Types.DataType.Double => tensor.DoubleData.Count,
            TensorProto.Types.DataType.Int64 => tensor.Int64Data.Count,
            _ => tensor.Int32Data.Count,
        };
        if (stored != count)
            throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') holds {stored} values; {count} were expected.");
        return count;
    }

    /// <summary>
    /// The number of elements of <paramref name="tensor"/>'s shape; a negative dimension or a product beyond
    /// <see cref="int.MaxValue"/> is refused (nothing is allocated from a shape before this check).
    /// </summary>
    public static long ElementCount(TensorProto tensor, string what, OnnxSource source)
    {
        long count = 1;
        foreach (long d in tensor.Dims)
        {
            if (d < 0 || (d > 0 && count > int.MaxValue / d))
                throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') has shape {Format(tensor.Dims)}: a dimension is negative or the tensor is too large.");
            count *= d;
        }
        return count;
    }

    // A finite double that would become infinite in T (a float model) is refused, as loading safetensors does.
    private static ModelFileException BeyondRange(int index, double value, TensorProto tensor, string what, OnnxSource source) =>
        Unreadable(source, tensor, $"{what} ('{tensor.Name}'): element {index} ({value}) is beyond the range of float; " +
                                   "this DOUBLE tensor cannot be loaded into a float model.");

    private static ModelFileException Unreadable(OnnxSource source, TensorProto tensor, string detail) =>
        source.Fail($"the weights cannot be read: {detail}", tensor.Name);
}
