using Forecast;

namespace RnnGen.Tests.Samples;

/// <summary>Forecast's --out: checked before training, written without ever leaving half a PNG, and its command line.</summary>
public sealed class ForecastPlotFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "forecast-plot-" + Guid.NewGuid().ToString("N"));

    public ForecastPlotFileTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // an unwritable plot path crashed after the training with an unhandled exception; now it is refused before: /proc (which
    // even root cannot create files in), /dev/full (a device: as root the move would replace it), a folder, a path below a file
    [Theory]
    [InlineData("/proc/plot.png", "the folder /proc is not writable")]
    [InlineData("/dev/full", "is a device, not a file")]
    public void AnUnwritablePlotPath_IsRefusedBeforeTraining(string path, string message)
    {
        Assert.True(OperatingSystem.IsLinux(), "this test uses /proc and /dev/full, which Linux has");
        var e = Assert.Throws<PlotFileException>(() => PlotFile.CheckWritable(path));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AFolder_OrAPathBelowAFile_IsRefused_AndTheCheckLeavesNothing()
    {
        Assert.Contains("is a folder", Assert.Throws<PlotFileException>(() => PlotFile.CheckWritable(_folder)).Message);
        string file = Path.Combine(_folder, "forecast.png");
        File.WriteAllText(file, "x");
        Assert.Contains("is a file, not a folder", Assert.Throws<PlotFileException>(() => PlotFile.CheckWritable(Path.Combine(file, "sub.png"))).Message);

        PlotFile.CheckWritable(Path.Combine(_folder, "new.png"));
        Assert.Equal([file], Directory.GetFileSystemEntries(_folder));
    }

    // the PNG goes to a temporary file that is moved over the target: a failed write leaves the earlier plot and no debris
    [Fact]
    public void AFailedSave_LeavesTheEarlierFileAndNoTemporaryFile()
    {
        string target = Path.Combine(_folder, "forecast.png");
        File.WriteAllText(target, "earlier");
        var e = Assert.Throws<PlotFileException>(() => PlotFile.Save(target, temporary =>
        {
            File.WriteAllText(temporary, "half");
            throw new IOException("No space left on device");
        }));
        Assert.Contains("No space left on device", e.Message);
        Assert.Equal("earlier", File.ReadAllText(target));
        Assert.Equal([target], Directory.GetFileSystemEntries(_folder));

        PlotFile.Save(target, temporary => File.WriteAllText(temporary, "new"));
        Assert.Equal("new", File.ReadAllText(target));
        Assert.Equal([target], Directory.GetFileSystemEntries(_folder));
    }

    // `--out a --out b` kept the last silently
    [Fact]
    public void Arguments_RepeatedOutIsRefused_HelpIsHelp()
    {
        Assert.Contains("--out is given twice", Assert.Throws<ArgumentException>(() => Arguments.OutPath(["--out", "a.png", "--out", "b.png"])).Message);
        Assert.Null(Arguments.OutPath(["-h"]));
        Assert.Equal("forecast.png", Arguments.OutPath([]));
        Assert.Equal("a.png", Arguments.OutPath(["--out", "a.png"]));
    }
}
