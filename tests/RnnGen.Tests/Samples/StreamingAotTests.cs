using System.Globalization;
using System.Text;
using StreamingAot;

namespace RnnGen.Tests.Samples;

/// <summary>
/// samples/StreamingAot in process (App.Run over memory streams): its command line, its input reader and its messages.
/// The NativeAOT binary itself is published and run by RnnGen.IntegrationTests/StreamingAotTests.
/// </summary>
public sealed class StreamingAotTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "streaming-aot-" + Guid.NewGuid().ToString("N"));

    public StreamingAotTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void InitThenStream_WritesOneOutputPerValue_AndTheStatisticsToStandardError()
    {
        string model = InitModel();
        var (code, output, error) = Run([model], "0.5\n-0.25, 1;2\t3\n");
        Assert.True(code == 0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, line => Assert.True(float.IsFinite(float.Parse(line, CultureInfo.InvariantCulture)), line));
        Assert.Contains("steps: 5 ", error);
        Assert.DoesNotContain("error", error);
    }

    [Fact]
    public void ABadNumber_StopsTheStream_WithItsLine_AfterTheOutputsBeforeIt()
    {
        string model = InitModel();
        var (code, output, error) = Run([model], "0.5\n1.5\nabc\n");
        Assert.Equal(1, code);
        Assert.Equal(2, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.StartsWith("error: line 3", error);
        Assert.Contains("'abc' is not a finite number", error);
    }

    private string InitModel(int seed = 1)
    {
        string model = Path.Combine(_folder, $"model-{seed}.safetensors");
        var (code, _, error) = Run(["--init", model, "--seed", seed.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(code == 0 && File.Exists(model), error);
        return model;
    }

    private static (int Code, string Output, string Error) Run(string[] args, string input = "") =>
        Run(args, Encoding.UTF8.GetBytes(input));

    private static (int Code, string Output, string Error) Run(string[] args, byte[] input)
    {
        var output = new MemoryStream();
        var error = new StringWriter();
        int code = App.Run(args, new MemoryStream(input), output, error);
        return (code, Encoding.UTF8.GetString(output.ToArray()), error.ToString());
    }
}
