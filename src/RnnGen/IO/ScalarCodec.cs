using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen;

/// <summary>
/// Model scalars (float or double) to and from little-endian F32 / F64 bytes, and from F16 (IEEE half) and BF16 (bfloat16,
/// the upper half of an F32) bytes, which both widen exactly. On little-endian machines a tensor of the model's own
/// precision is copied as raw bytes; otherwise values go through <see cref="BinaryPrimitives"/> one by one (big-endian
/// machines, precision conversion).
/// </summary>
internal static class ScalarCodec
{
    /// <summary>Size of the scratch buffer for element-wise paths (a multiple of 8).</summary>
    internal const int ChunkBytes = 64 * 1024;

    /// <summary>The safetensors dtype of <typeparamref name="T"/>: F32 for float, F64 for double.</summary>
    internal static string DTypeOf<T>() =>
        typeof(T) == typeof(float) ? "F32"
        : typeof(T) == typeof(double) ? "F64"
        : throw new NotSupportedException($"Model files hold float or double parameters; {typeof(T).Name} is not supported.");

    /// <summary>
    /// Writes <paramref name="values"/> as little-endian bytes of <typeparamref name="T"/>'s dtype.
    /// <c>allowRawCopy</c> false forces the element-wise path (tests use it to check that path on little-endian machines).
    /// </summary>
    internal static void Write<T>(Stream stream, ReadOnlySpan<T> values, ref byte[]? scratch, bool allowRawCopy = true)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (allowRawCopy && BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        int size = Unsafe.SizeOf<T>();
        scratch ??= new byte[ChunkBytes];
        int perChunk = scratch.Length / size;
        for (int start = 0; start < values.Length; start += perChunk)
        {
            int n = Math.Min(perChunk, values.Length - start);
            Span<byte> bytes = scratch.AsSpan(0, n * size);
            for (int i = 0; i < n; i++)
            {
                if (size == 4) BinaryPrimitives.WriteSingleLittleEndian(bytes[(4 * i)..], float.CreateTruncating(values[start + i]));
                else BinaryPrimitives.WriteDoubleLittleEndian(bytes[(8 * i)..], double.CreateTruncating(values[start + i]));
            }
            stream.Write(bytes);
        }
    }

    /// <summary>Whether bytes of <paramref name="dtype"/> can be copied into a span of <typeparamref name="T"/> as they are.</summary>
    internal static bool CanCopyRaw<T>(string dtype) =>
        BitConverter.IsLittleEndian && dtype == DTypeOf<T>();

    /// <summary>Whether a model loads tensors of <paramref name="dtype"/>: the floating-point ones.</summary>
    internal static bool IsFloat(string dtype) => dtype is "F64" or "F32" or "F16" or "BF16";

    /// <summary>Bytes per element of a floating-point <paramref name="dtype"/>.</summary>
    internal static int SizeOf(string dtype) => dtype switch { "F64" => 8, "F32" => 4, _ => 2 };

    /// <summary>
    /// Converts little-endian bytes of a floating-point <paramref name="dtype"/> into <paramref name="destination"/>.
    /// Returns the index of the first finite value that does not fit <typeparamref name="T"/> (it would become
    /// infinite: F64 into float), or −1 when every value fits.
    /// </summary>
    internal static int Decode<T>(ReadOnlySpan<byte> source, string dtype, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (dtype == "F16")
        {
            for (int i = 0; i < destination.Length; i++)
                destination[i] = T.CreateTruncating((float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..])));
        }
        else if (dtype == "BF16")
        {
            for (int i = 0; i < destination.Length; i++)
                destination[i] = T.CreateTruncating(BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) << 16));
        }
        else if (dtype == "F64")
        {
            for (int i = 0; i < destination.Length; i++)
            {
                double v = BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]);
                T x = T.CreateTruncating(v);
                if (T.IsInfinity(x) && double.IsFinite(v)) return i;
                destination[i] = x;
            }
        }
        else
        {
            for (int i = 0; i < destination.Length; i++)
                destination[i] = T.CreateTruncating(BinaryPrimitives.ReadSingleLittleEndian(source[(4 * i)..]));
        }
        return -1;
    }
}
