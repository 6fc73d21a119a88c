using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen;

/// <summary>
/// One optimizer update rule, written once over SIMD vectors: <see cref="Elementwise.Run"/> applies it to every
/// lane of the parameter buffer. Unused state slots hold zeros and their results are discarded.
/// </summary>
internal interface IUpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Updates one vector of parameters <paramref name="p"/> from gradients <paramref name="g"/> and the state slots.</summary>
    void Apply(ref Vector<T> p, Vector<T> g, ref Vector<T> s0, ref Vector<T> s1, ref Vector<T> s2);
}

/// <summary>Drives an <see cref="IUpdateRule{T}"/> over whole spans, allocation-free.</summary>
internal static class Elementwise
{
    /// <summary>
    /// Applies <paramref name="rule"/> to all elements: full vectors straight from memory, then the remainder
    /// (fewer than <see cref="Vector{T}.Count"/> elements) through zero-padded stack copies, so the rule is never
    /// duplicated as scalar code. State spans are either empty (unused) or as long as <paramref name="p"/>.
    /// </summary>
    public static void Run<T, TRule>(in TRule rule, Span<T> p, ReadOnlySpan<T> g, Span<T> s0, Span<T> s1, Span<T> s2)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : struct, IUpdateRule<T>
    {
        int n = p.Length, width = Vector<T>.Count;
        ref T pr = ref MemoryMarshal.GetReference(p);
        ref T gr = ref MemoryMarshal.GetReference(g);
        int i = 0;
        for (; i + width <= n; i += width)
        {
            var pv = Vector.LoadUnsafe(ref pr, (nuint)i);
            var gv = Vector.LoadUnsafe(ref gr, (nuint)i);
            var v0 = Load(s0, i);
            var v1 = Load(s1, i);
            var v2 = Load(s2, i);
            rule.Apply(ref pv, gv, ref v0, ref v1, ref v2);
            pv.StoreUnsafe(ref pr, (nuint)i);
            Store(v0, s0, i);
            Store(v1, s1, i);
            Store(v2, s2, i);
        }
        if (i < n)
            RunTail(rule, p.Slice(i), g.Slice(i), Tail(s0, i), Tail(s1, i), Tail(s2, i));
    }

    /// <summary>A vector with every lane = <paramref name="value"/> rounded to <typeparamref name="T"/>.</summary>
    public static Vector<T> Broadcast<T>(double value) where T : unmanaged, IFloatingPointIeee754<T>
        => new(T.CreateTruncating(value));

    private static void RunTail<T, TRule>(in TRule rule, Span<T> p, ReadOnlySpan<T> g, Span<T> s0, Span<T> s1, Span<T> s2)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : struct, IUpdateRule<T>
    {
        int width = Vector<T>.Count;
        Span<T> padded = stackalloc T[width]; // zero-initialised
        var pv = Pad(p, padded);
        var gv = Pad(g, padded);
        var v0 = Pad(s0, padded);
        var v1 = Pad(s1, padded);
        var v2 = Pad(s2, padded);
        rule.Apply(ref pv, gv, ref v0, ref v1, ref v2);
        Unpad(pv, p, padded);
        Unpad(v0, s0, padded);
        Unpad(v1, s1, padded);
        Unpad(v2, s2, padded);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Load<T>(Span<T> s, int i) where T : unmanaged
        => s.IsEmpty ? default : Vector.LoadUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(Vector<T> v, Span<T> s, int i) where T : unmanaged
    {
        if (!s.IsEmpty) v.StoreUnsafe(ref MemoryMarshal.GetReference(s), (nuint)i);
    }

    private static Span<T> Tail<T>(Span<T> s, int i) where T : unmanaged => s.IsEmpty ? s : s.Slice(i);

    /// <summary>A vector holding <paramref name="values"/> followed by zeros.</summary>
    private static Vector<T> Pad<T>(ReadOnlySpan<T> values, Span<T> scratch) where T : unmanaged
    {
        scratch.Clear();
        values.CopyTo(scratch);
        return new Vector<T>(scratch);
    }

    /// <summary>Writes the first <c>destination.Length</c> lanes of <paramref name="v"/> to <paramref name="destination"/>.</summary>
    private static void Unpad<T>(Vector<T> v, Span<T> destination, Span<T> scratch) where T : unmanaged
    {
        if (destination.IsEmpty) return;
        v.CopyTo(scratch);
        scratch.Slice(0, destination.Length).CopyTo(destination);
    }
}
