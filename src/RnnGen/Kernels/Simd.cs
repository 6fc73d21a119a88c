using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.Kernels;

/// <summary>
/// One SIMD width as a type, so a kernel is written once and specialised by the JIT for Vector512, Vector256 or
/// Vector128 (a struct type argument: every call is static and inlined, no indirection at run time).
/// </summary>
internal interface ISimdWidth<T, TV> where T : unmanaged where TV : struct
{
    static abstract int Count { get; }
    static abstract TV Load(ref T source, nint offset);
    static abstract void Store(TV value, ref T destination, nint offset);
    static abstract TV Broadcast(T value);
    /// <summary>a·b + c: fused where the hardware has FMA, a multiply and an add otherwise (never a slow emulated FMA).</summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);
    static abstract TV Add(TV a, TV b);
}

internal readonly struct Width512<T> : ISimdWidth<T, Vector512<T>> where T : unmanaged, INumber<T>
{
    public static int Count => Vector512<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Load(ref T s, nint o) => Vector512.LoadUnsafe(ref s, (nuint)o);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<T> v, ref T d, nint o) => v.StoreUnsafe(ref d, (nuint)o);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Broadcast(T value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MultiplyAdd(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float))
            return Vector512.MultiplyAddEstimate(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector512.MultiplyAddEstimate(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        return a * b + c;
    }
}

internal readonly struct Width256<T> : ISimdWidth<T, Vector256<T>> where T : unmanaged, INumber<T>
{
    public static int Count => Vector256<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Load(ref T s, nint o) => Vector256.LoadUnsafe(ref s, (nuint)o);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<T> v, ref T d, nint o) => v.StoreUnsafe(ref d, (nuint)o);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Broadcast(T value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MultiplyAdd(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(float))
            return Vector256.MultiplyAddEstimate(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.MultiplyAddEstimate(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        return a * b + c;
    }
}

internal readonly struct Width128<T> : ISimdWidth<T, Vector128<T>> where T : unmanaged, INumber<T>
{
    public static int Count => Vector128<T>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Load(ref T s, nint o) => Vector128.LoadUnsafe(ref s, (nuint)o);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<T> v, ref T d, nint o) => v.StoreUnsafe(ref d, (nuint)o);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Broadcast(T value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<T> Add(Vector128<T> a, Vector128<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MultiplyAdd(Vector128<T> a, Vector128<T> b, Vector128<T> c)
    {
        if (typeof(T) == typeof(float))
            return Vector128.MultiplyAddEstimate(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector128.MultiplyAddEstimate(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
        return a * b + c;
    }
}

/// <summary>Which width this machine runs (a JIT-time constant).</summary>
internal static class Simd
{
    public static int Width<T>() where T : unmanaged, INumber<T> =>
        Vector512.IsHardwareAccelerated ? Vector512<T>.Count
        : Vector256.IsHardwareAccelerated ? Vector256<T>.Count
        : Vector128<T>.Count;

    /// <summary>
    /// Whether kernels on vectors of <typeparamref name="TV"/> have 32 vector registers (AVX-512, the only way Vector512 is
    /// accelerated on x64; or Arm64, whose NEON has 32, not measured) rather than x64's 16 (AVX2, AVX, SSE): a register
    /// tile of 4 × 4 accumulators plus its 4 loaded vectors fits the 32, and spills from the 16. A JIT-time constant.
    /// </summary>
    public static bool HasManyRegisters<TV, T>() where TV : struct =>
        typeof(TV) == typeof(Vector512<T>) || System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported;

    /// <summary>One cache line, and one Vector512: where a packed weight stream starts.</summary>
    public const int Alignment = 64;

    /// <summary>
    /// A pinned, zeroed array with at least <paramref name="length"/> elements from <paramref name="offset"/> on, where
    /// element <paramref name="offset"/> starts on a 64-byte boundary (pinned, so the alignment computed once stays true).
    /// Vector loads of a stream that starts there never straddle two cache lines, which otherwise halves their rate.
    /// </summary>
    public static T[] AllocateAligned<T>(int length, out int offset) where T : unmanaged
    {
        int slack = Alignment / Unsafe.SizeOf<T>();
        T[] array = GC.AllocateArray<T>(checked(slack + length), pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        offset = (int)((Alignment - address % Alignment) % Alignment) / Unsafe.SizeOf<T>();
        return array;
    }
}

/// <summary>A small count as a type (a JIT-time constant): the lanes or column vectors of a register tile.</summary>
internal interface ICount { static abstract int Count { get; } }
internal readonly struct One : ICount { public static int Count => 1; }
internal readonly struct Two : ICount { public static int Count => 2; }
internal readonly struct Three : ICount { public static int Count => 3; }
internal readonly struct Four : ICount { public static int Count => 4; }

/// <summary>
/// TQ.Count (1 … 4) consecutive SIMD vectors held in registers: one row's (or one lane's) share of a register tile, in
/// <see cref="PackedMatrix{T}"/>'s and <see cref="Gemm"/>'s kernels. The counts are JIT-time constants, so the unused
/// vectors cost nothing.
/// </summary>
internal struct VectorQuad<TV, TW, T, TQ> where TV : struct where TW : struct, ISimdWidth<T, TV> where T : unmanaged, INumber<T> where TQ : struct, ICount
{
    private TV _v0, _v1, _v2, _v3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VectorQuad<TV, TW, T, TQ> Load(ref T source)
    {
        int p = TW.Count;
        VectorQuad<TV, TW, T, TQ> q = default;
        q._v0 = TW.Load(ref source, 0);
        if (TQ.Count > 1) q._v1 = TW.Load(ref source, p);
        if (TQ.Count > 2) q._v2 = TW.Load(ref source, 2 * p);
        if (TQ.Count > 3) q._v3 = TW.Load(ref source, 3 * p);
        return q;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(ref T destination)
    {
        int p = TW.Count;
        TW.Store(_v0, ref destination, 0);
        if (TQ.Count > 1) TW.Store(_v1, ref destination, p);
        if (TQ.Count > 2) TW.Store(_v2, ref destination, 2 * p);
        if (TQ.Count > 3) TW.Store(_v3, ref destination, 3 * p);
    }

    /// <summary>this += w · x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MultiplyAdd(in VectorQuad<TV, TW, T, TQ> w, TV x)
    {
        _v0 = TW.MultiplyAdd(w._v0, x, _v0);
        if (TQ.Count > 1) _v1 = TW.MultiplyAdd(w._v1, x, _v1);
        if (TQ.Count > 2) _v2 = TW.MultiplyAdd(w._v2, x, _v2);
        if (TQ.Count > 3) _v3 = TW.MultiplyAdd(w._v3, x, _v3);
    }

    /// <summary>this += w · x, w read from memory (the operands of the multiply-adds: one lane needs no registers for them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void MultiplyAdd(ref T w, TV x)
    {
        int p = TW.Count;
        _v0 = TW.MultiplyAdd(TW.Load(ref w, 0), x, _v0);
        if (TQ.Count > 1) _v1 = TW.MultiplyAdd(TW.Load(ref w, p), x, _v1);
        if (TQ.Count > 2) _v2 = TW.MultiplyAdd(TW.Load(ref w, 2 * p), x, _v2);
        if (TQ.Count > 3) _v3 = TW.MultiplyAdd(TW.Load(ref w, 3 * p), x, _v3);
    }
}
