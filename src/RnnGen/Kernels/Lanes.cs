using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace RnnGen.Kernels;

/// <summary>
/// One SIMD vector of <typeparamref name="T"/> as generated cell code sees it: the values of <see cref="Count"/>
/// consecutive hidden units, with element-wise arithmetic, loads and stores of H-wide spans and the activations.
/// Generated models write each cell loop once, generic over this interface, and run it with
/// <see cref="Lanes{T}.Wide"/> (<see cref="Vector512{T}"/>) where the machine accelerates it, else with
/// <see cref="Lanes{T}.Portable"/> (<see cref="Vector{T}"/>: AVX2, SSE, Arm NEON).
/// </summary>
/// <remarks>
/// <see cref="Load"/> zero-pads the last, partial vector of a span and <see cref="Store"/> writes only its valid
/// lanes, so any hidden size works. The activations' accuracy is documented on <see cref="Lanes{T}"/>.
/// </remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
public interface ILanes<TSelf, T>
    where TSelf : struct, ILanes<TSelf, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Units per vector.</summary>
    static abstract int Count { get; }

    /// <summary>The vector of <paramref name="span"/> starting at <paramref name="offset"/> (zero-padded past the end).</summary>
    static abstract TSelf Load(ReadOnlySpan<T> span, int offset);

    /// <summary>Stores the lanes of <paramref name="value"/> that fall inside <paramref name="span"/>, from <paramref name="offset"/>.</summary>
    static abstract void Store(TSelf value, Span<T> span, int offset);

    /// <summary>
    /// The vector of <paramref name="span"/> starting at <paramref name="offset"/>, unchecked: the caller guarantees that it
    /// lies wholly inside (offset + Count ≤ span.Length). Generated loops read whole vectors with it and keep
    /// <see cref="Load"/>, whose padded path is an out-of-line call, for a partial last vector after the loop: a call inside
    /// a loop makes the JIT save the loop's vector registers around it.
    /// </summary>
    static abstract TSelf LoadUnchecked(ReadOnlySpan<T> span, int offset);

    /// <summary>Stores <paramref name="value"/> into <paramref name="span"/> from <paramref name="offset"/>, unchecked (as <see cref="LoadUnchecked"/>).</summary>
    static abstract void StoreUnchecked(TSelf value, Span<T> span, int offset);

    /// <summary>The vector at <paramref name="source"/> + <paramref name="offset"/> elements, unchecked (for kernels that own the memory).</summary>
    static abstract TSelf LoadUnsafe(ref T source, nint offset);

    /// <summary>Stores <paramref name="value"/> at <paramref name="destination"/> + <paramref name="offset"/> elements, unchecked.</summary>
    static abstract void StoreUnsafe(TSelf value, ref T destination, nint offset);

    /// <summary>Every lane set to <paramref name="value"/>.</summary>
    static abstract TSelf Create(T value);

    /// <summary>a·b + c: one fused multiply–add where the hardware has it, else a multiply and an add.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>σ(x) = 1 / (1 + e^−x).</summary>
    static abstract TSelf Sigmoid(TSelf x);

    /// <summary>tanh(x).</summary>
    static abstract TSelf Tanh(TSelf x);

    /// <summary>max(x, 0).</summary>
    static abstract TSelf Relu(TSelf x);

    /// <summary>σ′ from σ's output: y ⊙ (1 − y).</summary>
    static abstract TSelf SigmoidSlope(TSelf y);

    /// <summary>tanh′ from tanh's output: 1 − y².</summary>
    static abstract TSelf TanhSlope(TSelf y);

    /// <summary>ReLU′ from ReLU's output: 1 where y &gt; 0, else 0.</summary>
    static abstract TSelf ReluSlope(TSelf y);

    /// <summary>Element-wise sum.</summary>
    static abstract TSelf operator +(TSelf a, TSelf b);

    /// <summary>Element-wise difference.</summary>
    static abstract TSelf operator -(TSelf a, TSelf b);

    /// <summary>Element-wise product.</summary>
    static abstract TSelf operator *(TSelf a, TSelf b);

    /// <summary>Element-wise quotient.</summary>
    static abstract TSelf operator /(TSelf a, TSelf b);
}

/// <summary>
/// The two lane types of <see cref="ILanes{TSelf, T}"/> and the choice between them: <see cref="Wide"/> when
/// <see cref="IsWide"/>, else <see cref="Portable"/>. Generated code dispatches once per cell call on
/// <c>Vector512.IsHardwareAccelerated</c> (what <see cref="IsWide"/> returns), a JIT-time constant that the JIT folds as it
/// reads the method, so only one of the two branches is compiled (a property call is folded only after inlining, when the
/// dead branch has already taken the inliner's budget).
/// </summary>
/// <remarks>
/// <para><b>Activations, single precision.</b> tanh(x) = x·P(x²)/Q(x²) with P and Q of degree 4 in x² (a rational
/// approximation fitted for the least maximum absolute error on [0, 9], positive coefficients, no poles), and
/// σ(x) = ½ + ½·tanh(x/2), the same fit with its coefficients rescaled; beyond |x| = 8.03 (tanh) and |x| = 16.06 (σ)
/// the result is exactly ±1, 1 or 0, so tanh stays within [−1, 1] and σ within [0, 1]. Absolute error against
/// <see cref="Math.Tanh"/> and 1/(1 + e^−x) in double, measured over every one of the 2³² floats (at each vector width:
/// their results are the same bits): at most 2.99·10⁻⁷ for tanh (at x = −6.05; in units in the last place at most 6.35,
/// at x = 0.25, and 4.3·10⁻⁷ relative: the rounding of the two polynomials, not the fit, which is within 1.8·10⁻⁸) and
/// 1.69·10⁻⁷ for σ (at x = 3.26); the tests hold them to 3.5·10⁻⁷ and 2·10⁻⁷ over their own dense grid. σ is accurate
/// in absolute terms only: ½ + ½·tanh(x/2) cancels for negative x, so σ is exactly 0 from x ≈ −16.02 (where the true
/// value is 1.1·10⁻⁷) and off by per cents in relative terms just above (6 % at x = −16), where PyTorch's sigmoid stays accurate
/// relative to its value; a gate that small scales sums of order 1, so the absolute error is what reaches the outputs. On a CPU without
/// fused multiply–add (x86 below AVX2) each multiply–add rounds twice and tanh's error grows to 3.51·10⁻⁷ (tested to
/// 4·10⁻⁷). tanh(±0) = ±0,
/// σ(±0) = ½, ±∞ saturates, NaN gives NaN. Each costs two polynomial evaluations and one division, with no exponential: a
/// short latency chain (about 30 cycles), which is what a
/// batch-1 step waits on.</para>
/// <para><b>Double precision.</b> σ(x) = 1 / (1 + e^−x) and, for |x| &gt; 0.625, tanh(x) = 1 − 2 / (e^{2x} + 1) from the
/// vectorised <c>Exp</c> of System.Runtime.Intrinsics; below that tanh is Cephes's rational x + x·z·P(z)/Q(z), z = x² (the
/// exponential form cancels near 0), odd to the last bit (tanh(−0) = −0): absolute error below 4·10⁻¹⁶ and relative below
/// 10⁻¹⁵ (tested; 3.3·10⁻¹⁶ and 5.5·10⁻¹⁶ measured). σ is 0 below x ≈ −709.8, where e^−x overflows (the true value is
/// subnormal there).</para>
/// </remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
public static class Lanes<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether generated code runs <see cref="Wide"/> (Vector512 is hardware-accelerated) rather than <see cref="Portable"/>.</summary>
    public static bool IsWide
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.IsHardwareAccelerated;
    }

    /// <summary>Units per vector of the lanes that generated code runs on this machine.</summary>
    public static int Count => Vector512.IsHardwareAccelerated ? Vector512<T>.Count : Vector<T>.Count;

    /// <summary>Lanes of a <see cref="Vector512{T}"/>: 16 floats or 8 doubles.</summary>
    public readonly struct Wide : ILanes<Wide, T>
    {
        private readonly Vector512<T> _v;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Wide(Vector512<T> v) => _v = v;

        /// <inheritdoc />
        public static int Count
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Vector512<T>.Count;
        }

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide Load(ReadOnlySpan<T> span, int offset) =>
            (ulong)(uint)offset + (uint)Vector512<T>.Count <= (uint)span.Length // also false for a negative offset
                ? new(Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset))
                : new(Padded.Load<Vector512<T>>(span, offset));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Wide value, Span<T> span, int offset)
        {
            if ((ulong)(uint)offset + (uint)Vector512<T>.Count <= (uint)span.Length)
                value._v.StoreUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset);
            else
                Padded.Store(value._v, span, offset);
        }

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide LoadUnchecked(ReadOnlySpan<T> span, int offset) => new(Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void StoreUnchecked(Wide value, Span<T> span, int offset) => value._v.StoreUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset);

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide LoadUnsafe(ref T source, nint offset) => new(Vector512.LoadUnsafe(ref Unsafe.Add(ref source, offset)));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void StoreUnsafe(Wide value, ref T destination, nint offset) => value._v.StoreUnsafe(ref Unsafe.Add(ref destination, offset));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide Create(T value) => new(Vector512.Create(value));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide MultiplyAdd(Wide a, Wide b, Wide c) => new(Math512<T>.MultiplyAdd(a._v, b._v, c._v));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide Sigmoid(Wide x) => new(Activation.Sigmoid<Vector512<T>, Math512<T>, T>(x._v));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide Tanh(Wide x) => new(Activation.Tanh<Vector512<T>, Math512<T>, T>(x._v));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide Relu(Wide x) => new(Vector512.Max(x._v, Vector512<T>.Zero));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide SigmoidSlope(Wide y) => new(y._v * (Vector512<T>.One - y._v));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide TanhSlope(Wide y) => new(Vector512<T>.One - y._v * y._v);

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide ReluSlope(Wide y) => new(Vector512.ConditionalSelect(Vector512.GreaterThan(y._v, Vector512<T>.Zero), Vector512<T>.One, Vector512<T>.Zero));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide operator +(Wide a, Wide b) => new(a._v + b._v);

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide operator -(Wide a, Wide b) => new(a._v - b._v);

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide operator *(Wide a, Wide b) => new(a._v * b._v);

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Wide operator /(Wide a, Wide b) => new(a._v / b._v);

        /// <summary>The lanes as a <see cref="Vector512{T}"/>.</summary>
        public Vector512<T> AsVector512() => _v;

    }

    /// <summary>Lanes of a <see cref="Vector{T}"/>, the platform's preferred width (256 bits on AVX2, 128 on SSE and Arm NEON).</summary>
    public readonly struct Portable : ILanes<Portable, T>
    {
        private readonly Vector<T> _v;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Portable(Vector<T> v) => _v = v;

        /// <inheritdoc />
        public static int Count
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Vector<T>.Count;
        }

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable Load(ReadOnlySpan<T> span, int offset) =>
            (ulong)(uint)offset + (uint)Vector<T>.Count <= (uint)span.Length // also false for a negative offset
                ? new(Vector.LoadUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset))
                : new(Padded.Load<Vector<T>>(span, offset));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Store(Portable value, Span<T> span, int offset)
        {
            if ((ulong)(uint)offset + (uint)Vector<T>.Count <= (uint)span.Length)
                value._v.StoreUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset);
            else
                Padded.Store(value._v, span, offset);
        }

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable LoadUnchecked(ReadOnlySpan<T> span, int offset) => new(Vector.LoadUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void StoreUnchecked(Portable value, Span<T> span, int offset) => value._v.StoreUnsafe(ref MemoryMarshal.GetReference(span), (nuint)offset);

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable LoadUnsafe(ref T source, nint offset) => new(Vector.LoadUnsafe(ref Unsafe.Add(ref source, offset)));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void StoreUnsafe(Portable value, ref T destination, nint offset) => value._v.StoreUnsafe(ref Unsafe.Add(ref destination, offset));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable Create(T value) => new(new Vector<T>(value));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable MultiplyAdd(Portable a, Portable b, Portable c) => new(MathVector<T>.MultiplyAdd(a._v, b._v, c._v));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable Sigmoid(Portable x) => new(Activation.Sigmoid<Vector<T>, MathVector<T>, T>(x._v));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable Tanh(Portable x) => new(Activation.Tanh<Vector<T>, MathVector<T>, T>(x._v));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable Relu(Portable x) => new(Vector.Max(x._v, Vector<T>.Zero));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable SigmoidSlope(Portable y) => new(y._v * (Vector<T>.One - y._v));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable TanhSlope(Portable y) => new(Vector<T>.One - y._v * y._v);

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable ReluSlope(Portable y) => new(Vector.ConditionalSelect(Vector.GreaterThan(y._v, Vector<T>.Zero), Vector<T>.One, Vector<T>.Zero));

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable operator +(Portable a, Portable b) => new(a._v + b._v);

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable operator -(Portable a, Portable b) => new(a._v - b._v);

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable operator *(Portable a, Portable b) => new(a._v * b._v);

        /// <inheritdoc />
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Portable operator /(Portable a, Portable b) => new(a._v / b._v);

        /// <summary>The lanes as a <see cref="Vector{T}"/>.</summary>
        public Vector<T> AsVector() => _v;

    }

    /// <summary>The last, partial vector of a span: loaded zero-padded and stored lane by lane, through a stack buffer.</summary>
    private static class Padded
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static TVector Load<TVector>(ReadOnlySpan<T> span, int offset) where TVector : struct
        {
            Span<T> buffer = stackalloc T[Vector512<T>.Count];   // as wide as the widest lane type
            buffer.Clear();
            span.Slice(offset).CopyTo(buffer);
            return Unsafe.ReadUnaligned<TVector>(ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(buffer)));
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Store<TVector>(TVector value, Span<T> span, int offset) where TVector : struct
        {
            Span<T> buffer = stackalloc T[Vector512<T>.Count];
            Unsafe.WriteUnaligned(ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(buffer)), value);
            buffer.Slice(0, span.Length - offset).CopyTo(span.Slice(offset));
        }
    }
}

/// <summary>
/// The operations the activations need, on a raw vector type <typeparamref name="TV"/> of one width (implemented by
/// <see cref="Math512{T}"/> and <see cref="MathVector{T}"/>). Raw vectors rather than the lane wrappers keep the
/// JIT's inlining cheap: each activation is a few dozen one-instruction inlinees, well inside the inliner's limits
/// even with four gates and two layers in one method.
/// </summary>
internal interface IVectorMath<TV, T> where TV : struct where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract TV Create(double value);
    static abstract TV Add(TV a, TV b);
    static abstract TV Subtract(TV a, TV b);
    static abstract TV Multiply(TV a, TV b);
    static abstract TV Divide(TV a, TV b);
    static abstract TV MultiplyAdd(TV a, TV b, TV c);
    /// <summary>|x| with its sign bit kept apart: returns |x| and sets <paramref name="sign"/> to x XOR |x| (−0 or +0).</summary>
    static abstract TV Abs(TV x, out TV sign);
    static abstract TV Or(TV a, TV b);
    /// <summary>Lane by lane: <paramref name="ifGreater"/> where <paramref name="value"/> &gt; <paramref name="bound"/>, else <paramref name="otherwise"/> (NaN compares false).</summary>
    static abstract TV SelectWhereGreater(TV value, TV bound, TV ifGreater, TV otherwise);
    static abstract TV Exp(TV x);
}

/// <summary><see cref="IVectorMath{TV, T}"/> on <see cref="Vector512{T}"/>.</summary>
internal readonly struct Math512<T> : IVectorMath<Vector512<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Create(double value) => Vector512.Create(Activation.Constant<T>(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Subtract(Vector512<T> a, Vector512<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Multiply(Vector512<T> a, Vector512<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Divide(Vector512<T> a, Vector512<T> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MultiplyAdd(Vector512<T> a, Vector512<T> b, Vector512<T> c) => Width512<T>.MultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Abs(Vector512<T> x, out Vector512<T> sign)
    {
        Vector512<T> abs = Vector512.Abs(x);
        sign = Vector512.Xor(x, abs);
        return abs;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<T> Or(Vector512<T> a, Vector512<T> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> SelectWhereGreater(Vector512<T> value, Vector512<T> bound, Vector512<T> ifGreater, Vector512<T> otherwise) =>
        Vector512.ConditionalSelect(Vector512.GreaterThan(value, bound), ifGreater, otherwise);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Exp(Vector512<T> x) =>
        typeof(T) == typeof(double) ? Vector512.Exp(x.As<T, double>()).As<double, T>() : Vector512.Exp(x.As<T, float>()).As<float, T>();
}

/// <summary><see cref="IVectorMath{TV, T}"/> on <see cref="Vector{T}"/>.</summary>
internal readonly struct MathVector<T> : IVectorMath<Vector<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<T> Create(double value) => new(Activation.Constant<T>(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<T> Add(Vector<T> a, Vector<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<T> Subtract(Vector<T> a, Vector<T> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<T> Multiply(Vector<T> a, Vector<T> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<T> Divide(Vector<T> a, Vector<T> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> MultiplyAdd(Vector<T> a, Vector<T> b, Vector<T> c) =>
        typeof(T) == typeof(float) ? Vector.MultiplyAddEstimate(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>()
        : typeof(T) == typeof(double) ? Vector.MultiplyAddEstimate(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>()
        : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Abs(Vector<T> x, out Vector<T> sign)
    {
        Vector<T> abs = Vector.Abs(x);
        sign = Vector.Xor(x, abs);
        return abs;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector<T> Or(Vector<T> a, Vector<T> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> SelectWhereGreater(Vector<T> value, Vector<T> bound, Vector<T> ifGreater, Vector<T> otherwise) =>
        Vector.ConditionalSelect(Vector.GreaterThan(value, bound), ifGreater, otherwise);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<T> Exp(Vector<T> x) =>
        typeof(T) == typeof(double) ? Vector.Exp(x.As<T, double>()).As<double, T>() : Vector.Exp(x.As<T, float>()).As<float, T>();
}

/// <summary>σ and tanh, written once for every width (accuracy: see <see cref="Lanes{T}"/>).</summary>
internal static class Activation
{
    // tanh(x) ≈ x·P(x²)/Q(x²) on [0, 9], fitted for the least maximum absolute error (Lawson-weighted linearised least
    // squares on 4000 points, in double; 1.8·10⁻⁸ before rounding to float). Both polynomials have positive coefficients.
    private const double P0 = 0.9999999064708406, P1 = 0.13373262865989782, P2 = 0.0034866589219891006, P3 = 2.047308629411598E-05, P4 = 1.3185948411102729E-08;
    private const double Q0 = 1.0, Q1 = 0.46706559770494177, Q2 = 0.025842273164807916, Q3 = 0.0003271510808073138, Q4 = 7.703372224422251E-07;

    /// <summary>
    /// Beyond this |x|, tanh(x) is taken as ±1 (it is within 2.2·10⁻⁷ of it): just below 8.0334, the smallest float at
    /// which the rational in float rounds to 1 or more (found by evaluating every float), so that |tanh| never exceeds 1.
    /// </summary>
    private const double TanhSaturation = 8.03;

    /// <summary>tanh(x); exactly ±1 beyond |x| = 8.03; NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Tanh<TV, TM, T>(TV x)
        where TV : struct
        where TM : struct, IVectorMath<TV, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TV one = TM.Create(1);
        if (typeof(T) != typeof(float))
            return TanhDouble<TV, TM, T>(x, one);
        TV t = TM.Multiply(x, x), t2 = TM.Multiply(t, t);
        TV xp = Odd<TV, TM, T>(x, t, t2, P0, P1, P2, P3, P4);
        TV q = Even<TV, TM, T>(t, t2, Q0, Q1, Q2, Q3, Q4);
        // the polynomials are evaluated on every lane (they overflow to NaN beyond ±10¹⁹); saturated lanes are replaced by ±1
        TV abs = TM.Abs(x, out TV sign);
        return TM.SelectWhereGreater(abs, TM.Create(TanhSaturation), TM.Or(sign, one), TM.Divide(xp, q));
    }

    /// <summary>
    /// tanh in double, as Cephes computes it: 1 − 2/(e^(2x) + 1) for |x| &gt; 0.625, and below that x + x·z·P(z)/Q(z) with
    /// z = x², Cephes's rational (relative error about 2.5·10⁻¹⁶). The exponential form alone cancels near 0: its relative
    /// error grew to 10⁻⁵ at |x| ~ 10⁻¹¹, worse than float.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV TanhDouble<TV, TM, T>(TV x, TV one)
        where TV : struct
        where TM : struct, IVectorMath<TV, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TV large = TM.Subtract(one, TM.Divide(TM.Create(2), TM.Add(TM.Exp(TM.Add(x, x)), one)));
        TV z = TM.Multiply(x, x);
        TV p = TM.MultiplyAdd(TM.MultiplyAdd(z, TM.Create(-9.64399179425052238628E-1), TM.Create(-9.92877231001918586564E1)), z, TM.Create(-1.61468768441708447952E3));
        TV q = TM.MultiplyAdd(TM.MultiplyAdd(TM.Add(z, TM.Create(1.12811678491632931402E2)), z, TM.Create(2.23548839060100448583E3)), z, TM.Create(4.84406305325125486048E3));
        // on |x|, the sign put back after: the same bits for every x (the rounding is symmetric) but −0, whose +0 · (p/q) + −0
        // rounds to +0; tanh is odd to the last bit, as in float
        TV abs = TM.Abs(x, out TV sign);
        TV small = TM.Or(TM.MultiplyAdd(TM.Multiply(abs, z), TM.Divide(p, q), abs), sign);
        return TM.SelectWhereGreater(abs, TM.Create(0.625), large, small);
    }

    /// <summary>σ(x) = ½ + ½·tanh(x/2), with tanh's fit rescaled to take x: exactly 1 or 0 beyond |x| = 16.06; NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Sigmoid<TV, TM, T>(TV x)
        where TV : struct
        where TM : struct, IVectorMath<TV, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TV one = TM.Create(1), zero = TM.Create(0);
        if (typeof(T) != typeof(float))
            return TM.Divide(one, TM.Add(one, TM.Exp(TM.Subtract(zero, x))));
        // ½·tanh(x/2) = ½·(x/2)·P(x²/4)/Q(x²/4) = x·P'(x²)/Q'(x²) with P'_k = P_k/4^(k+1), Q'_k = Q_k/4^k
        TV t = TM.Multiply(x, x), t2 = TM.Multiply(t, t);
        TV xp = Odd<TV, TM, T>(x, t, t2, P0 / 4, P1 / 16, P2 / 64, P3 / 256, P4 / 1024);
        TV q = Even<TV, TM, T>(t, t2, Q0, Q1 / 4, Q2 / 16, Q3 / 64, Q4 / 256);
        TV abs = TM.Abs(x, out _);
        TV saturated = TM.SelectWhereGreater(x, zero, one, zero);
        return TM.SelectWhereGreater(abs, TM.Create(2 * TanhSaturation), saturated, TM.Add(TM.Divide(xp, q), TM.Create(0.5)));
    }

    /// <summary>
    /// <paramref name="value"/> as a T. Not <c>T.CreateTruncating</c>: its generic conversion code is large enough to
    /// exhaust the JIT's inlining budget of a cell loop, after which the lane operations stop being inlined.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Constant<T>(double value) where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float) ? (T)(object)(float)value : (T)(object)value;

    /// <summary>
    /// x·(c0 + c1·t + c2·t² + c3·t³ + c4·t⁴) with t = x², as (x·t²)·(c2 + c3·t + c4·t²) + x·(c0 + c1·t): the factor x is
    /// applied to the two halves while they are computed, so the numerator is ready as soon as <see cref="Even"/>'s
    /// denominator (one multiply shorter than multiplying x in at the end: the activations sit on a step's critical path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Odd<TV, TM, T>(TV x, TV t, TV t2, double c0, double c1, double c2, double c3, double c4)
        where TV : struct
        where TM : struct, IVectorMath<TV, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TV high = TM.MultiplyAdd(t2, TM.Create(c4), TM.MultiplyAdd(t, TM.Create(c3), TM.Create(c2)));
        TV low = TM.Multiply(x, TM.MultiplyAdd(t, TM.Create(c1), TM.Create(c0)));
        return TM.MultiplyAdd(TM.Multiply(x, t2), high, low);
    }

    /// <summary>c0 + c1·t + c2·t² + c3·t³ + c4·t⁴ by Estrin's scheme: three multiply–adds deep after t and t².</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Even<TV, TM, T>(TV t, TV t2, double c0, double c1, double c2, double c3, double c4)
        where TV : struct
        where TM : struct, IVectorMath<TV, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TV high = TM.MultiplyAdd(t2, TM.Create(c4), TM.MultiplyAdd(t, TM.Create(c3), TM.Create(c2)));
        return TM.MultiplyAdd(t2, high, TM.MultiplyAdd(t, TM.Create(c1), TM.Create(c0)));
    }
}
