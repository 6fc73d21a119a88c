using TorchSharp;
using Xunit.Abstractions;

namespace RnnGen.Oracle.Tests;

public class SmokeTests(ITestOutputHelper output)
{
    [Fact]
    public void LibTorchLoads()
    {
        output.WriteLine(TorchRuntime.EnsureReady());
        using var t = torch.tensor(new float[] { 1, 2, 3 });
        Assert.Equal(6f, t.sum().item<float>());
    }
}
