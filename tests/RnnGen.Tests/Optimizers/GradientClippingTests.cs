using System.Numerics;
using System.Numerics.Tensors;

namespace RnnGen.Tests.Optimizers;

public class GradientClippingTests
{
    [Fact]
    public void Global_norm_above_the_limit_scales_by_maxNorm_over_norm_plus_1e_6()
    {
        double[] g = [3, 4]; // norm 5
        double norm = GradientClipping.ClipByGlobalNorm<double>(g, 1.0);
        Assert.Equal(5.0, norm);
        double scale = 1.0 / (5.0 + 1e-6);
        Assert.Equal(3 * scale, g[0], tolerance: 1e-16);
        Assert.Equal(4 * scale, g[1], tolerance: 1e-16);
    }

    [Fact]
    public void Global_norm_equal_to_the_limit_is_still_scaled_by_the_epsilon_as_in_PyTorch()
    {
        double[] g = [3, 4];
        GradientClipping.ClipByGlobalNorm<double>(g, 5.0);
        Assert.Equal(3 * 5.0 / 5.000001, g[0], tolerance: 1e-15);
        Assert.True(g[0] < 3);
    }

    [Fact]
    public void Global_norm_below_the_limit_leaves_gradients_unchanged()
    {
        float[] g = [0.3f, -0.4f, 1e-3f];
        float[] before = (float[])g.Clone();
        float norm = GradientClipping.ClipByGlobalNorm<float>(g, 1f);
        Assert.Equal(Math.Sqrt(0.09 + 0.16 + 1e-6), norm, tolerance: 1e-6);
        Assert.Equal(before, g);
    }

    [Theory]
    [InlineData(37)]
    [InlineData(1000)]
    public void Global_norm_of_a_long_float_vector_matches_a_double_reference(int n)
    {
        float[] g = Enumerable.Range(0, n).Select(i => (float)(Math.Sin(0.9 * i) * (1 + i % 7))).ToArray();
        double[] reference = g.Select(x => (double)x).ToArray();
        double expectedNorm = Math.Sqrt(reference.Sum(x => x * x));
        double maxNorm = expectedNorm / 3;
        float norm = GradientClipping.ClipByGlobalNorm(g, (float)maxNorm);
        Assert.Equal(expectedNorm, norm, tolerance: 2e-6 * expectedNorm);
        double scale = (float)maxNorm / (expectedNorm + 1e-6);
        for (int i = 0; i < n; i++)
            Assert.Equal(reference[i] * scale, g[i], tolerance: 2e-6 * Math.Max(1, Math.Abs(reference[i])));
        double clippedNorm = Math.Sqrt(g.Sum(x => (double)x * x));
        Assert.Equal(maxNorm, clippedNorm, tolerance: 1e-5 * maxNorm);
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Non_finite_norm_is_returned_and_gradients_are_left_unchanged(double bad)
    {
        double[] g = [1, 2, bad, 4, 5, 6, 7];
        double[] before = (double[])g.Clone();
        double norm = GradientClipping.ClipByGlobalNorm<double>(g, 1.0);
        Assert.False(double.IsFinite(norm));
        Assert.Equal(before, g);
    }

    // Finite float gradients whose squares overflow: the norm is measured without overflow and the gradients clipped by it
    // (PyTorch's float norm would be ∞ and scale them by 0; skipping the clip would apply them raw).
    [Fact]
    public void Finite_gradients_whose_squares_overflow_are_clipped_by_their_true_norm()
    {
        float[] g = [3e19f, -4e19f, 1e10f, 0f, 2e19f];
        Assert.Equal(float.PositiveInfinity, System.Numerics.Tensors.TensorPrimitives.Norm<float>(g));
        double reference = Math.Sqrt(g.Sum(x => (double)x * x));
        float[] before = (float[])g.Clone();
        float norm = GradientClipping.ClipByGlobalNorm<float>(g, 2f);
        Assert.Equal(reference, norm, tolerance: 1e-6 * reference);
        Assert.Equal(2.0, Math.Sqrt(g.Sum(x => (double)x * x)), tolerance: 1e-5);
        for (int i = 0; i < g.Length; i++)
            Assert.Equal(2.0 * before[i] / reference, g[i], tolerance: 1e-6);

        // a limit above the true norm, or +∞ (only measure), leaves them alone
        foreach (float limit in new[] { 1e30f, float.PositiveInfinity })
        {
            float[] h = [3e19f, -4e19f, 0f, 1f];
            float[] kept = (float[])h.Clone();
            Assert.Equal(5e19, GradientClipping.ClipByGlobalNorm<float>(h, limit), tolerance: 1e13);
            Assert.Equal(kept, h);
        }
        // double gradients whose norm itself is beyond double's range are still scaled, not zeroed
        double[] d = [1.5e308, -1.5e308, 1e300];
        GradientClipping.ClipByGlobalNorm<double>(d, 1.0);
        Assert.Equal(1.0, Math.Sqrt(d.Sum(x => x * x)), tolerance: 1e-9);
        Assert.Equal(-d[0], d[1]);
    }

    [Fact]
    public void Infinite_maxNorm_only_measures()
    {
        double[] g = [3, 4];
        Assert.Equal(5.0, GradientClipping.ClipByGlobalNorm<double>(g, double.PositiveInfinity));
        Assert.Equal([3.0, 4.0], g);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void Invalid_maxNorm_throws_before_modifying(double maxNorm)
    {
        double[] g = [30, 40];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm<double>(g, maxNorm));
        Assert.Equal("maxNorm", e.ParamName);
        Assert.Equal([30.0, 40.0], g);
    }

    [Fact]
    public void Clip_by_value_clamps_to_the_limit_and_keeps_NaN()
    {
        double[] g = [-7, -5, -1, 0, 2, 5, 6.5, double.NaN, double.NegativeInfinity];
        GradientClipping.ClipByValue<double>(g, 5);
        Assert.Equal([-5, -5, -1, 0, 2, 5, 5, double.NaN, -5], g);
    }

    [Fact]
    public void Clip_by_value_on_a_long_float_vector_matches_a_scalar_clamp()
    {
        float[] g = Enumerable.Range(0, 103).Select(i => (float)(9 * Math.Sin(1.3 * i))).ToArray();
        float[] expected = g.Select(x => Math.Clamp(x, -5f, 5f)).ToArray();
        GradientClipping.ClipByValue(g, 5f);
        Assert.Equal(expected, g);
    }

    /// <summary>
    /// clip_grad_value_ is torch.clamp: IEEE 754 minimum with the limit, then maximum with −limit (so a limit of 0 turns
    /// positive values into +0 and negative ones into −0, and NaN stays NaN). Every value through the vector loop and the
    /// remainder, float and double, against that definition element by element.
    /// </summary>
    [Theory]
    [InlineData(0.0)]
    [InlineData(5.0)]
    [InlineData(double.PositiveInfinity)]
    public void Clip_by_value_of_special_values_is_IEEE_minimum_then_maximum_bit_for_bit(double limit)
    {
        ClipSpecialValues<float>(limit);
        ClipSpecialValues<double>(limit);
    }

    private static void ClipSpecialValues<T>(double limit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] specials = [T.NaN, -T.NaN, T.PositiveInfinity, T.NegativeInfinity, T.Zero, T.NegativeZero, T.CreateTruncating(5),
            T.CreateTruncating(-5), T.CreateTruncating(5.5), T.CreateTruncating(-1e30), T.Epsilon, -T.Epsilon, T.CreateTruncating(0.75)];
        foreach (int n in new[] { specials.Length, 257 })
        {
            T[] g = Enumerable.Range(0, n).Select(i => specials[(i * 5) % specials.Length]).ToArray();
            T l = T.CreateTruncating(limit);
            T[] expected = g.Select(x => T.Max(T.Min(x, l), -l)).ToArray();
            GradientClipping.ClipByValue<T>(g, l);
            for (int i = 0; i < n; i++)
                Assert.True(SameBits(expected[i], g[i]), $"{typeof(T).Name}, limit {limit}: element {i} is {g[i]}, expected {expected[i]}.");
        }
    }

    /// <summary>The rescale is one multiplication per element by maxNorm / (‖g‖ + 1e-6), computed in T: bit for bit.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(1003)]
    public void Global_norm_rescale_is_one_multiplication_by_the_scale_in_T(int n)
    {
        float[] g = Enumerable.Range(0, n).Select(i => (float)(Math.Sin(0.9 * i) * (1 + i % 7))).ToArray();
        float norm = TensorPrimitives.Norm<float>(g);
        float scale = 0.5f / (norm + 1e-6f);
        float[] expected = g.Select(x => x * scale).ToArray();
        Assert.Equal(norm, GradientClipping.ClipByGlobalNorm<float>(g, 0.5f));
        Assert.Equal(expected, g);
    }

    private static bool SameBits<T>(T a, T b) where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float)
            ? BitConverter.SingleToInt32Bits(float.CreateTruncating(a)) == BitConverter.SingleToInt32Bits(float.CreateTruncating(b))
            : BitConverter.DoubleToInt64Bits(double.CreateTruncating(a)) == BitConverter.DoubleToInt64Bits(double.CreateTruncating(b));

    [Fact]
    public void Clip_by_value_rejects_a_negative_limit_before_modifying()
    {
        float[] g = [1, -2];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByValue(g, -1f));
        Assert.Equal("limit", e.ParamName);
        Assert.Equal([1f, -2f], g);
    }

    [Fact]
    public void Clipping_allocates_nothing()
    {
        float[] g = Enumerable.Range(0, 1003).Select(i => (float)Math.Cos(i)).ToArray();
        GradientClipping.ClipByGlobalNorm(g, 1f);
        GradientClipping.ClipByValue(g, 0.01f);
        Assert.Equal(0, SteadyAllocation.Fewest(() =>
        {
            GradientClipping.ClipByGlobalNorm(g, 0.5f);
            GradientClipping.ClipByValue(g, 0.01f);
        }));
    }
}
