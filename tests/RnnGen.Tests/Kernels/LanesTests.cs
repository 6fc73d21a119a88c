using RnnGen.Kernels;

namespace RnnGen.Tests.Kernels;

/// <summary>
/// The lane activations against System.Math over dense grids (both lane types: Wide runs emulated where Vector512 is not
/// accelerated), their special values, and partial loads and stores at every offset.
/// </summary>
public class LanesTests
{
    /// <summary>Every 509th float in [0, 11], both signs, and values around and beyond saturation.</summary>
    private static float[] DenseFloats()
    {
        var values = new List<float>();
        for (uint bits = 0; bits <= BitConverter.SingleToUInt32Bits(11f); bits += 509)
        {
            float x = BitConverter.UInt32BitsToSingle(bits);
            values.Add(x);
            values.Add(-x);
        }
        for (double x = -40; x <= 40; x += 0.0037) values.Add((float)x);
        values.AddRange([8.02f, 8.03f, 8.04f, 16.05f, 16.06f, 16.07f, 88f, -88f, 1e19f, -1e19f, 1e38f, -1e38f, float.MaxValue, float.MinValue]);
        return values.ToArray();
    }

    private static double[] DenseDoubles()
    {
        var values = new List<double>();
        for (double x = -40; x <= 40; x += 0.00137) values.Add(x);
        values.AddRange([0, 1e-300, -1e-300, 1e-8, -1e-8, 20, -20, 700, -700, 1e300, -1e300]);
        return values.ToArray();
    }

    /// <summary>f applied to every value through lanes of type L (the tail through a partial load and store).</summary>
    private static T[] Apply<L, T>(T[] values, Func<L, L> f)
        where L : struct, ILanes<L, T>
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var result = new T[values.Length];
        for (int j = 0; j < values.Length; j += L.Count)
            L.Store(f(L.Load(values, j)), result, j);
        return result;
    }

    private static double WorstError<T>(T[] x, T[] actual, Func<double, double> exact)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        double worst = 0;
        for (int i = 0; i < x.Length; i++)
            worst = Math.Max(worst, Math.Abs(double.CreateTruncating(actual[i]) - exact(double.CreateTruncating(x[i]))));
        return worst;
    }

    private static double Sigma(double x) => 1 / (1 + Math.Exp(-x));

    [Fact] public void Float_Wide_WithinDocumentedError() => FloatWithinDocumentedError<Lanes<float>.Wide>();
    [Fact] public void Float_Portable_WithinDocumentedError() => FloatWithinDocumentedError<Lanes<float>.Portable>();
    [Fact] public void Double_Wide_WithinDocumentedError() => DoubleWithinDocumentedError<Lanes<double>.Wide>();
    [Fact] public void Double_Portable_WithinDocumentedError() => DoubleWithinDocumentedError<Lanes<double>.Portable>();

    private static void FloatWithinDocumentedError<L>() where L : struct, ILanes<L, float>
    {
        var x = DenseFloats();
        double tanh = WorstError(x, Apply<L, float>(x, L.Tanh), Math.Tanh);
        double sigmoid = WorstError(x, Apply<L, float>(x, L.Sigmoid), Sigma);
        // MultiplyAddEstimate fuses where the CPU has FMA; without it (x86 below AVX2) every multiply-add rounds twice
        bool fused = System.Runtime.Intrinsics.X86.Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported;
        Assert.True(tanh <= (fused ? 3.5e-7 : 4e-7), $"tanh: {tanh:E2} (fused multiply-add: {fused})");
        Assert.True(sigmoid <= 2e-7, $"sigmoid: {sigmoid:E2}");
    }

    private static void DoubleWithinDocumentedError<L>() where L : struct, ILanes<L, double>
    {
        var x = DenseDoubles();
        double tanh = WorstError(x, Apply<L, double>(x, L.Tanh), Math.Tanh);
        double sigmoid = WorstError(x, Apply<L, double>(x, L.Sigmoid), Sigma);
        Assert.True(tanh < 4e-16, $"tanh: {tanh:E2}");
        Assert.True(sigmoid < 4e-16, $"sigmoid: {sigmoid:E2}");
        // relative error too, down to the smallest magnitudes (the exponential form alone lost it near 0: 2·10⁻⁵ at 10⁻¹¹)
        double[] small = [.. Enumerable.Range(0, 4000).Select(i => (i % 2 == 0 ? 1 : -1) * Math.Pow(10, -300 + i * 300.0 / 4000) * 0.7)];
        double[] tanhSmall = Apply<L, double>(small, L.Tanh);
        double relative = small.Select((v, i) => Math.Abs(tanhSmall[i] - Math.Tanh(v)) / Math.Abs(Math.Tanh(v))).Max();
        Assert.True(relative < 1e-15, $"tanh relative error near 0: {relative:E2}");
        // odd to the last bit below the exponential form's range, −0 included (it gave +0)
        double[] signed = [0.0, -0.0, 1e-300, -1e-300, 0.3, -0.3, 0.625, -0.625];
        double[] tanhSigned = Apply<L, double>(signed, L.Tanh);
        for (int i = 0; i < signed.Length; i += 2)
            Assert.Equal(BitConverter.DoubleToInt64Bits(tanhSigned[i]) ^ long.MinValue, BitConverter.DoubleToInt64Bits(tanhSigned[i + 1]));
    }

    // The derivatives the backward pass uses, for both lane types (a machine runs only one of them in the models): σ' = y(1 − y),
    // tanh' = 1 − y², ReLU' = [y > 0], against the formulas in double.
    [Fact] public void Slopes_Wide() => SlopesMatchTheirFormulas<Lanes<float>.Wide>();
    [Fact] public void Slopes_Portable() => SlopesMatchTheirFormulas<Lanes<float>.Portable>();

    private static void SlopesMatchTheirFormulas<L>() where L : struct, ILanes<L, float>
    {
        float[] y = [.. Enumerable.Range(0, 4 * L.Count).Select(i => (float)(-1.2 + 2.4 * i / (4 * L.Count - 1)))];
        float[] sigmoid = Apply<L, float>(y, L.SigmoidSlope), tanh = Apply<L, float>(y, L.TanhSlope), relu = Apply<L, float>(y, L.ReluSlope);
        for (int i = 0; i < y.Length; i++)
        {
            double v = y[i];
            Assert.Equal(v * (1 - v), sigmoid[i], 1e-6);
            Assert.Equal(1 - v * v, tanh[i], 1e-6);
            Assert.Equal(v > 0 ? 1f : 0f, relu[i]);
        }
    }

    [Fact] public void Float_Wide_SpecialValues() => FloatSpecialValues<Lanes<float>.Wide>();
    [Fact] public void Float_Portable_SpecialValues() => FloatSpecialValues<Lanes<float>.Portable>();

    /// <summary>Exact saturation, signed zeros and NaN, as documented on <see cref="Lanes{T}"/>.</summary>
    private static void FloatSpecialValues<L>() where L : struct, ILanes<L, float>
    {
        float[] x = [0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 8.5f, -8.5f, 100f, -100f, 16.5f, -16.5f, 1e30f, -1e30f];
        var tanh = Apply<L, float>(x, L.Tanh);
        var sigmoid = Apply<L, float>(x, L.Sigmoid);
        Assert.Equal(BitConverter.SingleToUInt32Bits(0f), BitConverter.SingleToUInt32Bits(tanh[0]));    // +0 → +0
        Assert.Equal(BitConverter.SingleToUInt32Bits(-0f), BitConverter.SingleToUInt32Bits(tanh[1]));   // −0 → −0
        Assert.True(float.IsNaN(tanh[2]));
        Assert.True(float.IsNaN(sigmoid[2]));
        Assert.Equal([1f, -1f, 1f, -1f, 1f, -1f], new[] { tanh[3], tanh[4], tanh[5], tanh[6], tanh[7], tanh[8] });
        Assert.Equal([0.5f, 0.5f], new[] { sigmoid[0], sigmoid[1] });
        Assert.Equal([1f, 0f, 1f, 0f, 1f, 0f], new[] { sigmoid[3], sigmoid[4], sigmoid[9], sigmoid[10], sigmoid[11], sigmoid[12] });
        // never outside the range of the function (the slopes 1 − y² and y(1 − y) stay non-negative)
        var dense = DenseFloats();
        Assert.All(Apply<L, float>(dense, L.Tanh), y => Assert.InRange(y, -1f, 1f));
        Assert.All(Apply<L, float>(dense, L.Sigmoid), y => Assert.InRange(y, 0f, 1f));
    }

    [Fact]
    public void Widths_AreThoseOfTheVectors()
    {
        Assert.Equal(System.Runtime.Intrinsics.Vector512<float>.Count, Lanes<float>.Wide.Count);
        Assert.Equal(System.Numerics.Vector<float>.Count, Lanes<float>.Portable.Count);
        Assert.Equal(Lanes<float>.IsWide ? Lanes<float>.Wide.Count : Lanes<float>.Portable.Count, Lanes<float>.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    [InlineData(16)]
    [InlineData(33)]
    public void PartialLoadAndStore(int length)
    {
        LoadAndStore<Lanes<float>.Wide>(length);
        LoadAndStore<Lanes<float>.Portable>(length);
    }

    private static void LoadAndStore<L>(int length) where L : struct, ILanes<L, float>
    {
        var source = Enumerable.Range(1, length).Select(i => (float)i).ToArray();
        var target = new float[length + 3];
        target[length] = target[length + 1] = target[length + 2] = -7;
        for (int j = 0; j < length; j += L.Count)
            L.Store(L.Load(source, j) * L.Create(2), target.AsSpan(0, length), j);
        for (int i = 0; i < length; i++) Assert.Equal(2f * (i + 1), target[i]);
        Assert.All(target[length..], v => Assert.Equal(-7f, v));   // nothing written past the span
        // the padding of a partial load is zero
        var padded = new float[L.Count];
        L.Store(L.Load(source.AsSpan(0, Math.Min(length, L.Count - 1)), 0), padded, 0);
        Assert.All(padded[Math.Min(length, L.Count - 1)..], v => Assert.Equal(0f, v));
    }

    // The checked accessors refuse offsets outside the span — negative, or so large that offset + Count wraps — instead of
    // reading or writing the memory around it; the sums buffer refuses a negative unit likewise.
    [Fact]
    public void CheckedLoadAndStore_RefuseOffsetsOutsideTheSpan()
    {
        var array = new float[96];
        Array.Fill(array, 7f);
        Assert.Throws<ArgumentOutOfRangeException>(() => Lanes<float>.Portable.Load(array.AsSpan(32, 32), -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Lanes<float>.Wide.Load(array.AsSpan(32, 32), -3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Lanes<float>.Portable.Load(array.AsSpan(32, 32), int.MaxValue - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Lanes<float>.Wide.Load(array.AsSpan(32, 32), int.MaxValue - 1));
        var v = Lanes<float>.Portable.Load(array, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => Lanes<float>.Portable.Store(v, array.AsSpan(32, 32), -2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Lanes<float>.Wide.Store(Lanes<float>.Wide.Load(array, 0), array.AsSpan(32, 32), -2));
        Assert.All(array, x => Assert.Equal(7f, x));
        int n = Lanes<float>.Portable.Count;
        Assert.Throws<ArgumentException>(() => GateSums.Load<Lanes<float>.Portable, float>(array.AsSpan(64), -n));
        Assert.Throws<ArgumentException>(() => GateSums.Load<Lanes<float>.Portable, float>(array.AsSpan(64), (1 << 30) - n / 2));
    }

    [Fact]
    public void UncheckedLoadAndStore_MoveWholeVectorsAtAnyOffset()
    {
        UncheckedLoadAndStore<Lanes<float>.Wide>();
        UncheckedLoadAndStore<Lanes<float>.Portable>();
    }

    private static void UncheckedLoadAndStore<L>() where L : struct, ILanes<L, float>
    {
        // a span that starts anywhere (not only on a vector boundary) and vectors at every offset that fits
        var source = Enumerable.Range(1, 3 * L.Count + 5).Select(i => (float)i).ToArray();
        for (int start = 0; start < 3; start++)
        {
            ReadOnlySpan<float> span = source.AsSpan(start, 2 * L.Count + 3);
            var target = new float[span.Length + 2];
            target.AsSpan().Fill(-7);
            for (int offset = 0; offset + L.Count <= span.Length; offset++)
            {
                L.StoreUnchecked(L.LoadUnchecked(span, offset) + L.Create(0.5f), target.AsSpan(0, span.Length), offset);
                for (int i = 0; i < L.Count; i++) Assert.Equal(span[offset + i] + 0.5f, target[offset + i]);
            }
            Assert.All(target[span.Length..], v => Assert.Equal(-7f, v));   // nothing written past the last whole vector's end
        }
    }
}
