using System.Runtime.Intrinsics;
using RnnGen.Kernels;

namespace RnnGen.Tests.Kernels;

/// <summary>
/// The width the kernels run at: this machine's widest accelerated vectors, or the one that RNNGEN_EXPECT_FLOATS names
/// (floats per vector) when the integration tests run this suite again with the wider instruction sets turned off
/// (RnnGen.IntegrationTests, NarrowerVectorsTests), so that such a run proves it ran where it meant to.
/// </summary>
public class VectorWidthTests
{
    [Fact]
    public void TheKernelsRunAtTheWidestAcceleratedWidth_OrTheOneAskedFor()
    {
        int widest = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;
        int expected = Environment.GetEnvironmentVariable("RNNGEN_EXPECT_FLOATS") is { Length: > 0 } asked ? int.Parse(asked) : widest;
        Assert.Equal(expected, Simd.Width<float>());
        Assert.Equal(expected * 4, PackedMatrix<float>.BlockRowsOf);
        Assert.Equal(expected, Lanes<float>.Count);
    }
}
