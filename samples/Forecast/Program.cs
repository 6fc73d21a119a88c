// Many-to-many regression: an LSTM forecasts the next value of a noisy series with two seasonal cycles and a trend,
// at every step, and is compared with the naive forecast "the next value equals the last one".
// Usage: dotnet run -c Release --project samples/Forecast [-- --out FILE.png]   (default: forecast.png here)
using System.Diagnostics;
using Forecast;

string outPath = "forecast.png";
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--out" && i + 1 < args.Length) outPath = args[++i];
    else if (args[i] == "--out")
    {
        Console.Error.WriteLine("--out needs a file name, e.g. --out forecast.png");
        return 2;
    }
    else
    {
        Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: Forecast [--out FILE.png]");
        return 2;
    }
}

// checked before training, not when the plot is saved at the end
if (outPath.Length == 0 || Directory.Exists(outPath) || Path.GetDirectoryName(Path.GetFullPath(outPath)) is not { } folder || !Directory.Exists(folder))
{
    Console.Error.WriteLine($"--out '{outPath}' is not a file path in an existing folder; give one such as forecast.png.");
    return 2;
}

var options = ForecastOptions.Default with { PlotPath = outPath };
Console.WriteLine($"LSTM {ForecastModel.InputSize}→{ForecastModel.HiddenSize}→{ForecastModel.OutputSize}, {ForecastModel.ParameterCount:N0} parameters.");
Console.WriteLine($"Series: sin(2πt/{Series.LongPeriod}) + 0.5·sin(2πt/{Series.ShortPeriod} + 1) + 0.0005·t + noise σ = {options.Noise}, " +
                  $"{options.Length} steps; first 80 % train, last 20 % test.");
Console.WriteLine();
Console.WriteLine("epoch   training MSE (scaled changes)");

var clock = Stopwatch.StartNew();
var result = ForecastRun.Run(options, e => { if (e.Epoch % 5 == 0 || e.Epoch == 1) Console.WriteLine($"{e.Epoch,5}   {e.Training.Loss,10:F4}"); });

Console.WriteLine();
Console.WriteLine($"One-step forecasts on {result.TestSteps} held-out steps ({clock.Elapsed.TotalSeconds:F1} s):");
Console.WriteLine($"  LSTM RMSE          {result.ModelRmse:F4}");
Console.WriteLine($"  naive RMSE         {result.NaiveRmse:F4}   (repeat the last value)");
Console.WriteLine($"  ratio LSTM/naive   {result.Ratio:F3}");
Console.WriteLine($"  noise floor        {options.Noise:F4}   (σ of the noise: no forecast can do better on average)");
Console.WriteLine($"Plot: {result.PlotPath}");
return 0;
