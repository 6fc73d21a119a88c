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
        if (tensor.DataLocation == TensorProto.Types.DataLocation.External)
            throw Unreadable(source, tensor, 
                $"{what} ('{tensor.Name}') is stored in an external data file; RnnGen reads ONNX files whose weights are inside the model file.");
        long count = ElementCount(tensor, what, source);
        if (count != destination.Length)
            throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') has {count} elements; {destination.Length} were expected.");

        var type = (TensorProto.Types.DataType)tensor.DataType;
        bool raw = !tensor.RawData.IsEmpty;
        switch (type)
        {
            case TensorProto.Types.DataType.Float when raw:
                ReadOnlySpan<byte> floats = CheckedRaw(tensor, destination.Length, sizeof(float), what, source);
                for (int i = 0; i < destination.Length; i++)
                    destination[i] = T.CreateTruncating(BinaryPrimitives.ReadSingleLittleEndian(floats.Slice(i * sizeof(float))));
                break;
            case TensorProto.Types.DataType.Double when raw:
                ReadOnlySpan<byte> doubles = CheckedRaw(tensor, destination.Length, sizeof(double), what, source);
                int beyond = ScalarCodec.Decode(doubles, "F64", destination);
                if (beyond >= 0) throw BeyondRange(beyond, BinaryPrimitives.ReadDoubleLittleEndian(doubles.Slice(beyond * sizeof(double))), tensor, what, source);
                break;
            case TensorProto.Types.DataType.Float:
                CheckedCount(tensor.FloatData.Count, destination.Length, tensor, what, source);
                for (int i = 0; i < destination.Length; i++) destination[i] = T.CreateTruncating(tensor.FloatData[i]);
                break;
            case TensorProto.Types.DataType.Double:
                CheckedCount(tensor.DoubleData.Count, destination.Length, tensor, what, source);
                for (int i = 0; i < destination.Length; i++)
                {
                    double v = tensor.DoubleData[i];
                    destination[i] = T.CreateTruncating(v);
                    if (T.IsInfinity(destination[i]) && double.IsFinite(v)) throw BeyondRange(i, v, tensor, what, source);
                }
                break;
            default:
                throw Unreadable(source, tensor, 
                    $"{what} ('{tensor.Name}') has element type {type}; RnnGen reads FLOAT or DOUBLE weights.");
        }
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
        var values = new long[count];
        bool raw = !tensor.RawData.IsEmpty;
        switch ((TensorProto.Types.DataType)tensor.DataType)
        {
            case TensorProto.Types.DataType.Int64 when raw:
                ReadOnlySpan<byte> longs = CheckedRaw(tensor, count, sizeof(long), what, source);
                for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadInt64LittleEndian(longs.Slice(i * sizeof(long)));
                return values;
            case TensorProto.Types.DataType.Int32 when raw:
                ReadOnlySpan<byte> ints = CheckedRaw(tensor, count, sizeof(int), what, source);
                for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadInt32LittleEndian(ints.Slice(i * sizeof(int)));
                return values;
            case TensorProto.Types.DataType.Int64:
                CheckedCount(tensor.Int64Data.Count, count, tensor, what, source);
                for (int i = 0; i < count; i++) values[i] = tensor.Int64Data[i];
                return values;
            case TensorProto.Types.DataType.Int32:
                CheckedCount(tensor.Int32Data.Count, count, tensor, what, source);
                for (int i = 0; i < count; i++) values[i] = tensor.Int32Data[i];
                return values;
            default:
                return null;
        }
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

    private static ReadOnlySpan<byte> CheckedRaw(TensorProto tensor, int count, int size, string what, OnnxSource source)
    {
        ReadOnlySpan<byte> raw = tensor.RawData.Span;
        if (raw.Length != (long)count * size)
            throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') has {raw.Length} bytes of raw data; {count} × {size} were expected.");
        return raw;
    }

    private static void CheckedCount(int actual, int expected, TensorProto tensor, string what, OnnxSource source)
    {
        if (actual != expected)
            throw Unreadable(source, tensor, $"{what} ('{tensor.Name}') holds {actual} values; {expected} were expected.");
    }
}
