using Forecast;

namespace RnnGen.Tests.Samples;

/// <summary>Forecast's --out: checked before training, written without ever leaving half a PNG, and its command line.</summary>
public sealed class ForecastPlotFileTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "forecast-plot-" + Guid.NewGuid().ToString("N"));

    public ForecastPlotFileTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // an unwritable plot path crashed after the training with an unhandled exception; now it is refused before: /proc (which
    // even root cannot create files in), a folder, a path below a file
    [Fact]
    public void AnUnwritablePlotPath_IsRefusedBeforeTraining()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test uses /proc, which Linux has");
        var e = Assert.Throws<PlotFileException>(() => PlotFile.CheckWritable("/proc/plot.png"));
        Assert.Contains("the folder /proc is not writable", e.Message);
    }

    // a device is never replaced by the plot (run as root, a move over /dev/full replaced it with a regular file)
    [Fact]
    public void ADevice_IsNotReplaced()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test uses /dev/full, which Linux has");
        var e = Assert.Throws<PlotFileException>(() => PlotFile.Save("/dev/full", () => [1, 2, 3]));
        Assert.Contains("it is a device, not a regular file", e.Message);
        Assert.Equal("device", RnnGen.AtomicFile.SpecialFileKind("/dev/full"));
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

    // the PNG is written atomically: a failed save leaves the earlier plot and no debris
    [Fact]
    public void AFailedSave_LeavesTheEarlierFileAndNoTemporaryFile()
    {
        string target = Path.Combine(_folder, "forecast.png");
        File.WriteAllText(target, "earlier");
        var e = Assert.Throws<PlotFileException>(() => PlotFile.Save(target, () => throw new IOException("No space left on device")));
        Assert.Contains("No space left on device", e.Message);
        Assert.Equal("earlier", File.ReadAllText(target));
        Assert.Equal([target], Directory.GetFileSystemEntries(_folder));

        PlotFile.Save(target, () => "new"u8.ToArray());
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
