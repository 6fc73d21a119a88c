using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen;

/// <summary>
/// One optimizer update rule, written once over SIMD vectors of any width: <see cref="Elementwise.Run{T, TRule}"/> applies it to
/// every element of the parameter buffer. Unused state slots hold zeros and their results are discarded.
/// </summary>
internal interface IUpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Updates one vector of parameters <paramref name="p"/> from gradients <paramref name="g"/> and the state slots.</summary>
    void Apply<V>(ref V p, V g, ref V s0, ref V s1, ref V s2) where V : struct, IVector<V, T>;
}

/// <summary>
/// The SIMD operations the update rules and gradient transforms use, for one vector width (a struct type argument: the
/// JIT specialises and inlines every call). Every operation is exactly rounded (or exact), so a rule gives the same bits
/// at every width.
/// </summary>
internal interface IVector<TSelf, T>
    where TSelf : struct, IVector<TSelf, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract int Count { get; }
    static abstract TSelf Load(ref T source, nint offset);
    static abstract void Store(TSelf value, ref T destination, nint offset);
    static abstract TSelf Create(T value);
    static abstract TSelf Sqrt(TSelf x);
    /// <summary>IEEE 754 minimum: NaN if either is NaN, −0 below +0 (as <c>Math.Min</c> and <c>TensorPrimitives.Min</c>).</summary>
    static abstract TSelf Min(TSelf a, TSelf b);
    /// <summary>IEEE 754 maximum: NaN if either is NaN, +0 above −0 (as <c>Math.Max</c> and <c>TensorPrimitives.Max</c>).</summary>
    static abstract TSelf Max(TSelf a, TSelf b);
    static abstract TSelf operator +(TSelf a, TSelf b);
    static abstract TSelf operator -(TSelf a, TSelf b);
    static abstract TSelf operator *(TSelf a, TSelf b);
    static abstract TSelf operator /(TSelf a, TSelf b);
}

/// <summary>
/// What a fused optimizer step does to every gradient before the update rule reads it: clamp it to [−limit, limit]
/// (<see cref="GradientClipping.ClipByValue"/>), then multiply it by a scale (the rescale of
/// <see cref="GradientClipping.ClipByGlobalNorm"/>). The transformed gradient is also written back, so the gradients end up
/// exactly as the separate clipping calls would leave them. Element by element, in <typeparamref name="T"/>.
/// </summary>
internal readonly struct GradientTransform<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private GradientTransform(bool clamps, T limit, bool scales, T scale)
    {
        Clamps = clamps;
        Limit = limit;
        Scales = scales;
        Scale = scale;
    }

    /// <summary>Leaves the gradients as they are.</summary>
    public static GradientTransform<T> None => default;

    /// <summary>Whether gradients are clamped to [−<see cref="Limit"/>, <see cref="Limit"/>].</summary>
    public bool Clamps { get; }

    /// <summary>The clamp's limit (≥ 0).</summary>
    public T Limit { get; }

    /// <summary>Whether gradients are multiplied by <see cref="Scale"/> (after the clamp).</summary>
    public bool Scales { get; }

    /// <summary>The factor.</summary>
    public T Scale { get; }

    /// <summary>Whether the transform changes nothing.</summary>
    public bool IsIdentity => !Clamps && !Scales;

    /// <summary>A clamp to [−<paramref name="limit"/>, <paramref name="limit"/>] (≥ 0, not NaN: checked by the caller).</summary>
    public static GradientTransform<T> Clamp(T limit) => new(true, limit, false, default);

    /// <summary>This transform followed by a multiplication by <paramref name="scale"/> (on a transform that does not scale yet).</summary>
    public GradientTransform<T> ThenScale(T scale)
    {
        Debug.Assert(!Scales, "one scale per transform");
        return new(Clamps, Limit, true, scale);
    }

    /// <summary>Applies the transform to <paramref name="gradients"/> in place, in one pass.</summary>
    public void Apply(Span<T> gradients)
    {
        if (!IsIdentity)
            Elementwise.Transform(this, gradients);
    }

    /// <summary>The transform's constants broadcast to the width <typeparamref name="V"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Vectors<V> At<V>() where V : struct, IVector<V, T> =>
        new(V.Create(Clamps ? Limit : T.PositiveInfinity), V.Create(Clamps ? -Limit : T.NegativeInfinity), V.Create(Scales ? Scale : T.One));

    /// <summary>
    /// A transform at one width, without a branch: every vector is clamped and scaled, with ±∞ as the limits when the
    /// transform does not clamp and 1 as the factor when it does not scale — which change no value (NaN stays NaN, −0 stays −0).
    /// </summary>
    internal readonly struct Vectors<V>(V upper, V lower, V factor) where V : struct, IVector<V, T>
    {
        private readonly V _upper = upper, _lower = lower, _factor = factor;

        /// <summary>The transform of one vector: IEEE minimum with the limit, maximum with −limit (TensorPrimitives.Min then
        /// Max: NaN stays NaN), then the product with the scale.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public V Apply(V g) => V.Max(V.Min(g, _upper), _lower) * _factor;
    }
}

/// <summary>Drives an <see cref="IUpdateRule{T}"/> (and a <see cref="GradientTransform{T}"/>) over whole spans, allocation-free.</summary>
/// <remarks>
/// Runs on <see cref="Vector512{T}"/> where it is hardware-accelerated and on <see cref="Vector{T}"/> elsewhere: the update
/// rules are bound by square roots and divisions, which the wider vectors do twice as fast. The results do not depend on the
/// width. Stores are ordinary (cached): the parameters, gradients and state of a model fit in the caches between two steps,
/// where the streaming stores that library routines use on long spans would push them out to memory.
/// </remarks>
internal static class Elementwise
{
    /// <summary>
    /// Applies <paramref name="transform"/> and then <paramref name="rule"/> to all elements: full vectors straight from
    /// memory, then the remainder (fewer than one vector) through zero-padded stack copies, so the rule is never duplicated as
    /// scalar code. State spans are either empty (unused) or as long as <paramref name="p"/>. When the transform is not the
    /// identity, the transformed gradients are written to <paramref name="transformed"/> (as long as <paramref name="p"/>;
    /// usually the memory of <paramref name="g"/> itself). With <paramref name="checkFinite"/>, returns whether every updated
    /// parameter is finite, found in the same pass from the values in registers (x − x is 0 for finite x, NaN otherwise;
    /// for the layer pipeline and the trainer's one-core step, where a second pass over the parameters just written cost
    /// 0.15–0.17 µs per character on each core of the character model's batch-1 training);
    /// without it, returns true.
    /// </summary>
    public static bool Run<T, TRule>(in TRule rule, in GradientTransform<T> transform, Span<T> p, ReadOnlySpan<T> g, Span<T> transformed,
        Span<T> s0, Span<T> s1, Span<T> s2, bool checkFinite = false)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : struct, IUpdateRule<T>
    {
        if (Vector512.IsHardwareAccelerated)
            return Run<T, TRule, Wide<T>>(rule, transform, p, g, transformed, s0, s1, s2, checkFinite);
        else
            return Run<T, TRule, Portable<T>>(rule, transform, p, g, transformed, s0, s1, s2, checkFinite);
    }

    /// <summary>Applies <paramref name="transform"/> to <paramref name="gradients"/> in place.</summary>
    public static void Transform<T>(in GradientTransform<T> transform, Span<T> gradients) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Vector512.IsHardwareAccelerated)
            Transform<T, Wide<T>>(transform, gradients);
        else
            Transform<T, Portable<T>>(transform, gradients);
    }

    /// <summary>
    /// Σ t(g)² over <paramref name="g"/> for the transform t, in <typeparamref name="T"/>, without writing anything: the
    /// squared norm of the gradients as a step with that transform will read them (four vector accumulators, the remainder
    /// as a zero-padded vector, the lanes summed in order; without a transform, <c>TensorPrimitives.SumOfSquares</c>).
    /// </summary>
    public static T SumOfSquares<T>(in GradientTransform<T> transform, ReadOnlySpan<T> g) where T : unmanaged, IFloatingPointIeee754<T> =>
        transform.IsIdentity ? System.Numerics.Tensors.TensorPrimitives.SumOfSquares(g)
        : Vector512.IsHardwareAccelerated ? SumOfSquares<T, Wide<T>>(transform, g) : SumOfSquares<T, Portable<T>>(transform, g);

    internal static T SumOfSquares<T, V>(in GradientTransform<T> transform, ReadOnlySpan<T> g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where V : struct, IVector<V, T> =>
        Sums<T, V, Unchecked>(transform, g).Transformed;

    /// <summary>
    /// Σ t(g)² as <see cref="SumOfSquares{T}(in GradientTransform{T}, ReadOnlySpan{T})"/> computes it, and in the same pass
    /// Σ g², the squares of the values as they are (a NaN or ±∞ among them makes it NaN or ∞ even where the transform, a
    /// clamp, would have made them finite).
    /// </summary>
    public static (T Transformed, T Raw) SumsOfSquares<T>(in GradientTransform<T> transform, ReadOnlySpan<T> g) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector512.IsHardwareAccelerated ? Sums<T, Wide<T>, Checked>(transform, g) : Sums<T, Portable<T>, Checked>(transform, g);

    // Σ t(g)² — four vector accumulators, the remainder as a zero-padded vector, the lanes summed in order — and, when TRaw
    // checks, Σ g² beside it (the raw squares, whose sum is not finite exactly when a value is not; 0 otherwise)
    private static (T Transformed, T Raw) Sums<T, V, TRaw>(in GradientTransform<T> transform, ReadOnlySpan<T> g)
        where T : unmanaged, IFloatingPointIeee754<T>
        where V : struct, IVector<V, T>
        where TRaw : struct, IFiniteCheck
    {
        var t = transform.At<V>();
        int n = g.Length, width = V.Count, i = 0;
        ref T gr = ref MemoryMarshal.GetReference(g);
        V a0 = V.Create(T.Zero), a1 = a0, a2 = a0, a3 = a0, r0 = a0, r1 = a0;
        for (; i + 4 * width <= n; i += 4 * width)
        {
            V g0 = V.Load(ref gr, i), g1 = V.Load(ref gr, i + width), g2 = V.Load(ref gr, i + 2 * width), g3 = V.Load(ref gr, i + 3 * width);
            V x0 = t.Apply(g0), x1 = t.Apply(g1), x2 = t.Apply(g2), x3 = t.Apply(g3);
            a0 += x0 * x0; a1 += x1 * x1; a2 += x2 * x2; a3 += x3 * x3;
            if (TRaw.Checks) { r0 += g0 * g0 + g1 * g1; r1 += g2 * g2 + g3 * g3; }
        }
        for (; i + width <= n; i += width)
        {
            V gi = V.Load(ref gr, i), x = t.Apply(gi);
            a0 += x * x;
            if (TRaw.Checks) r0 += gi * gi;
        }
        Span<T> lanes = stackalloc T[width]; // zero-initialised
        if (i < n)
        {
            V gi = Pad<T, V>(g.Slice(i), lanes), x = t.Apply(gi); // the zeros past the end transform to 0
            a1 += x * x;
            if (TRaw.Checks) r1 += gi * gi;
        }
        V.Store((a0 + a1) + (a2 + a3), ref MemoryMarshal.GetReference(lanes), 0);
        T transformed = T.Zero;
        foreach (T lane in lanes) transformed += lane;
        if (!TRaw.Checks) return (transformed, T.Zero);
        V.Store(r0 + r1, ref MemoryMarshal.GetReference(lanes), 0);
        T raw = T.Zero;
        foreach (T lane in lanes) raw += lane;
        return (transformed, raw);
    }

    /// <summary>Whether every value of <paramref name="values"/> is finite, at the width <typeparamref name="V"/> (see <see cref="Finite.All{T}"/>).</summary>
    internal static bool AllFinite<T, V>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
        where V : struct, IVector<V, T>
    {
        int n = values.Length, width = V.Count, i = 0;
        ref T r = ref MemoryMarshal.GetReference(values);
        V a0 = V.Create(T.Zero), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 4 * width <= n; i += 4 * width)
        {
            V x0 = V.Load(ref r, i), x1 = V.Load(ref r, i + width), x2 = V.Load(ref r, i + 2 * width), x3 = V.Load(ref r, i + 3 * width);
            a0 += x0 - x0; a1 += x1 - x1; a2 += x2 - x2; a3 += x3 - x3;
        }
        for (; i + width <= n; i += width)
        {
            V x = V.Load(ref r, i);
            a0 += x - x;
        }
        if (i < n)
        {
            V x = Pad<T, V>(values.Slice(i), stackalloc T[width]); // the zeros past the end stay 0
            a1 += x - x;
        }
        return AllZero<T, V>((a0 + a1) + (a2 + a3));
    }

    /// <summary>Whether every lane of <paramref name="v"/> is 0 (a sum of x − x: NaN in a lane where some x was not finite).</summary>
    private static bool AllZero<T, V>(V v)
        where T : unmanaged, IFloatingPointIeee754<T>
        where V : struct, IVector<V, T>
    {
        Span<T> lanes = stackalloc T[V.Count];
        V.Store(v, ref MemoryMarshal.GetReference(lanes), 0);
        foreach (T lane in lanes)
            if (lane != T.Zero) return false;
        return true;
    }

    /// <summary><paramref name="sum"/> += <paramref name="addend"/>, element by element (cached stores).</summary>
    public static void Add<T>(Span<T> sum, ReadOnlySpan<T> addend) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (addend.Length != sum.Length)
            throw new ArgumentException($"addend has length {addend.Length}; expected {sum.Length}.", nameof(addend));
        if (Vector512.IsHardwareAccelerated)
            Add<T, Wide<T>>(sum, addend);
        else
            Add<T, Portable<T>>(sum, addend);
    }

    /// <summary>A value rounded to <typeparamref name="T"/>.</summary>
    public static T Round<T>(double value) where T : unmanaged, IFloatingPointIeee754<T> => T.CreateTruncating(value);

    /// <summary><see cref="Run{T, TRule}"/> at the width <typeparamref name="V"/> (internal for the tests of every width).</summary>
    internal static bool Run<T, TRule, V>(in TRule rule, in GradientTransform<T> transform, Span<T> p, ReadOnlySpan<T> g, Span<T> transformed,
        Span<T> s0, Span<T> s1, Span<T> s2, bool checkFinite = false)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : struct, IUpdateRule<T>
        where V : struct, IVector<V, T>
    {
        int n = p.Length, whole = n - n % V.Count;
        if (!transform.IsIdentity && transformed.Length != n)
            throw new ArgumentException($"transformed has length {transformed.Length}; expected {n}.", nameof(transformed));
        bool finite = (transform.IsIdentity, checkFinite) switch
        {
            (true, false) => Loop<T, TRule, V, Untransformed, Unchecked>(rule, transform, whole, p, g, transformed, s0, s1, s2),
            (true, true) => Loop<T, TRule, V, Untransformed, Checked>(rule, transform, whole, p, g, transformed, s0, s1, s2),
            (false, false) => Loop<T, TRule, V, Transformed, Unchecked>(rule, transform, whole, p, g, transformed, s0, s1, s2),
            (false, true) => Loop<T, TRule, V, Transformed, Checked>(rule, transform, whole, p, g, transformed, s0, s1, s2),
        };
        if (whole < n)
        {
            RunTail<T, TRule, V>(rule, transform, p.Slice(whole), g.Slice(whole), transform.IsIdentity ? default : transformed.Slice(whole),
                Tail(s0, whole), Tail(s1, whole), Tail(s2, whole));
            if (checkFinite)
                foreach (T x in p.Slice(whole)) finite &= T.IsFinite(x); // the written lanes only (a padding lane may be 0/0)
        }
        return finite;
    }

    // The first `whole` elements (a multiple of V.Count). Whether the gradients are transformed, and whether the updated
    // parameters are checked finite, are type arguments, so a loop has no trace of what it does not do and no branch for
    // what it does. Returns whether every updated parameter is finite (true when not checked).
    private static bool Loop<T, TRule, V, TRead, TCheck>(in TRule rule, in GradientTransform<T> transform, int whole, Span<T> p, ReadOnlySpan<T> g,
        Span<T> transformed, Span<T> s0, Span<T> s1, Span<T> s2)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : struct, IUpdateRule<T>
        where V : struct, IVector<V, T>
        where TRead : struct, IGradientRead
        where TCheck : struct, IFiniteCheck
    {
        // a local copy of the rule whose address is never taken: the JIT keeps its fields in registers
        TRule r = rule;
        GradientTransform<T>.Vectors<V> t = transform.At<V>();
        ref T pr = ref MemoryMarshal.GetReference(p);
        ref T gr = ref MemoryMarshal.GetReference(g);
        ref T tr = ref MemoryMarshal.GetReference(transformed);
        V nonFinite = V.Create(T.Zero); // Σ (p − p) over the updated parameters: 0 while all are finite, NaN after
        for (int i = 0; i < whole; i += V.Count)
        {
            V pv = V.Load(ref pr, i), gv = V.Load(ref gr, i);
            if (TRead.Transforms)
            {
                gv = t.Apply(gv);
                V.Store(gv, ref tr, i);
            }
            V v0 = Load<T, V>(s0, i), v1 = Load<T, V>(s1, i), v2 = Load<T, V>(s2, i);
            r.Apply(ref pv, gv, ref v0, ref v1, ref v2);
            V.Store(pv, ref pr, i);
            if (TCheck.Checks) nonFinite += pv - pv;
            Store(v0, s0, i);
            Store(v1, s1, i);
            Store(v2, s2, i);
        }
        return !TCheck.Checks || AllZero<T, V>(nonFinite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V Load<T, V>(Span<T> s, int i)
        where T : unmanaged, IFloatingPointIeee754<T>
        where V : struct, IVector<V, T>
        => s.IsEmpty ? default : V.Load(ref MemoryMarshal.GetReference(s), i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T, V>(V v, Span<T> s, int i)
        where T : unmanaged, IFloatingPointIeee754<T>
        where V : struct, IVector<V, T>
    {
        if (!s.IsEmpty) V.Store(v, ref MemoryMarshal.GetReference(s), i);
    }

    /// <summary>Whether a loop transforms the gradients (a JIT-time constant).</summary>
    private interface IGradientRead { static abstract bool Transforms { get; } }
    private readonly struct Untransformed : IGradientRead { public static bool Transforms => false; }
    private readonly struct Transformed : IGradientRead { public static bool Transforms => true; }

    /// <summary>Whether a loop checks the updated parameters finite (a JIT-time constant).</summary>
    private interface IFiniteCheck { static abstract bool Checks { get; } }
    private readonly struct Unchecked : IFiniteCheck { public static bool Checks => false; }
    private readonly struct Checked : IFiniteCheck { public static bool Checks => true; }

    private static void RunTail<T, TRule, V>(in TRule rule, in GradientTransform<T> transform, Span<T> p, ReadOnlySpan<T> g, Span<T> transformed,
        Span<T> s0, Span<T> s1, Span<T> s2)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TRule : struct, IUpdateRule<T>
        where V : struct, IVector<V, T>
    {
        Span<T> padded = stackalloc T[V.Count]; // zero-initialised
        V pv = Pad<T, V>(p, padded);
        V gv = Pad<T, V>(g, padded);
        if (!transform.IsIdentity) gv = transform.At<V>().Apply(gv);
        Unpad(gv, transformed, padded);
        V v0 = Pad<T, V>(s0, padded), v1 = Pad<T, V>(s1, padded), v2 = Pad<T, V>(s2, padded);
        rule.Apply(ref pv, gv, ref v0, ref v1, ref v2);
        Unpad(pv, p, padded);
        Unpad(v0, s0, padded);
        Unpad(v1, s1, padded);
        Unpad(v2, s2, padded);
    }

    /// <summary><see cref="Transform{T}(in GradientTransform{T}, Span{T})"/> at the width <typeparamref name="V"/>.</summary>
    internal static void Transform<T, V>(in GradientTransform<T> transform, Span<T> gradients)
        where T : unmanaged, IFloatingPointIeee754<T>
        where V : struct, IVector<V, T>
    {
        GradientTransform<T>.Vectors<V> t = transform.At<V>();
        int n = gradients.Length, width = V.Count, i = 0;
        ref T gr = ref MemoryMarshal.GetReference(gradients);
        for (; i + width <= n; i += width)
            V.Store(t.Apply(V.Load(ref gr, i)), ref gr, i);
        if (i < n)
        {
            Span<T> padded = stackalloc T[V.Count];
            Span<T> rest = gradients.Slice(i);
            Unpad(t.Apply(Pad<T, V>(rest, padded)), rest, padded);
        }
    }

    private static void Add<T, V>(Span<T> sum, ReadOnlySpan<T> addend)
        where T : unmanaged, IFloatingPointIeee754<T>
        where V : struct, IVector<V, T>
    {
        int n = sum.Length, width = V.Count, i = 0;
        ref T sr = ref MemoryMarshal.GetReference(sum);
        ref T ar = ref MemoryMarshal.GetReference(addend);
        for (; i + width <= n; i += width)
            V.Store(V.Load(ref sr, i) + V.Load(ref ar, i), ref sr, i);
        for (; i < n; i++)
            Unsafe.Add(ref sr, i) += Unsafe.Add(ref ar, i);
    }

    private static Span<T> Tail<T>(Span<T> s, int i) where T : unmanaged => s.IsEmpty ? s : s.Slice(i);

    /// <summary>A vector holding <paramref name="values"/> followed by zeros.</summary>
    private static V Pad<T, V>(ReadOnlySpan<T> values, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where V : struct, IVector<V, T>
    {
        scratch.Clear();
        values.CopyTo(scratch);
        return V.Load(ref MemoryMarshal.GetReference(scratch), 0);
    }

    /// <summary>Writes the first <c>destination.Length</c> lanes of <paramref name="v"/> to <paramref name="destination"/>.</summary>
    private static void Unpad<T, V>(V v, Span<T> destination, Span<T> scratch)
        where T : unmanaged, IFloatingPointIeee754<T>
        where V : struct, IVector<V, T>
    {
        if (destination.IsEmpty) return;
        V.Store(v, ref MemoryMarshal.GetReference(scratch), 0);
        scratch.Slice(0, destination.Length).CopyTo(destination);
    }

    /// <summary>Lanes of a <see cref="Vector512{T}"/>.</summary>
    internal readonly struct Wide<T> : IVector<Wide<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector512<T> _v;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] private Wide(Vector512<T> v) => _v = v;
        public static int Count => Vector512<T>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide<T> Load(ref T source, nint offset) => new(Vector512.LoadUnsafe(ref source, (nuint)offset));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Wide<T> value, ref T destination, nint offset) => value._v.StoreUnsafe(ref destination, (nuint)offset);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide<T> Create(T value) => new(Vector512.Create(value));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide<T> Sqrt(Wide<T> x) => new(Vector512.Sqrt(x._v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide<T> Min(Wide<T> a, Wide<T> b) => new(Vector512.Min(a._v, b._v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide<T> Max(Wide<T> a, Wide<T> b) => new(Vector512.Max(a._v, b._v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide<T> operator +(Wide<T> a, Wide<T> b) => new(a._v + b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide<T> operator -(Wide<T> a, Wide<T> b) => new(a._v - b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide<T> operator *(Wide<T> a, Wide<T> b) => new(a._v * b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Wide<T> operator /(Wide<T> a, Wide<T> b) => new(a._v / b._v);
    }

    /// <summary>Lanes of a <see cref="Vector{T}"/> (the widest accelerated width below 512 bits, or 128 bits).</summary>
    internal readonly struct Portable<T> : IVector<Portable<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Vector<T> _v;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] private Portable(Vector<T> v) => _v = v;
        public static int Count => Vector<T>.Count;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Portable<T> Load(ref T source, nint offset) => new(Vector.LoadUnsafe(ref source, (nuint)offset));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Portable<T> value, ref T destination, nint offset) => value._v.StoreUnsafe(ref destination, (nuint)offset);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Portable<T> Create(T value) => new(new Vector<T>(value));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Portable<T> Sqrt(Portable<T> x) => new(Vector.SquareRoot(x._v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Portable<T> Min(Portable<T> a, Portable<T> b) => new(Vector.Min(a._v, b._v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Portable<T> Max(Portable<T> a, Portable<T> b) => new(Vector.Max(a._v, b._v));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Portable<T> operator +(Portable<T> a, Portable<T> b) => new(a._v + b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Portable<T> operator -(Portable<T> a, Portable<T> b) => new(a._v - b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Portable<T> operator *(Portable<T> a, Portable<T> b) => new(a._v * b._v);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Portable<T> operator /(Portable<T> a, Portable<T> b) => new(a._v / b._v);
    }
}
