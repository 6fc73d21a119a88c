// Many-to-many regression: an LSTM forecasts the next value of a noisy series with two seasonal cycles and a trend,
// at every step, and is compared with the naive forecast "the next value equals the last one".
// Usage: dotnet run -c Release --project samples/Forecast [-- --out FILE.png]   (default: forecast.png here)
using System.Diagnostics;
using Forecast;

string? outPath;
try
{
    outPath = Arguments.OutPath(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(Arguments.Usage);
    return 2;
}
if (outPath is null)
{
    Console.WriteLine(Arguments.Usage);
    return 0;
}

// checked before training, not when the plot is saved at the end
try
{
    PlotFile.CheckWritable(outPath);
}
catch (PlotFileException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

var options = ForecastOptions.Default with { PlotPath = outPath };
Console.WriteLine($"LSTM {ForecastModel.InputSize}→{ForecastModel.HiddenSize}→{ForecastModel.OutputSize}, {ForecastModel.ParameterCount:N0} parameters.");
Console.WriteLine($"Series: sin(2πt/{Series.LongPeriod}) + 0.5·sin(2πt/{Series.ShortPeriod} + 1) + 0.0005·t + noise σ = {options.Noise}, " +
                  $"{options.Length} steps; first 80 % train, last 20 % test.");
Console.WriteLine();
Console.WriteLine("epoch   training MSE (scaled changes)");

var clock = Stopwatch.StartNew();
ForecastResult result;
try
{
    result = ForecastRun.Run(options, e => { if (e.Epoch % 5 == 0 || e.Epoch == 1) Console.WriteLine($"{e.Epoch,5}   {e.Training.Loss,10:F4}"); });
}
catch (PlotFileException e)    // the folder changed during training (removed, made read-only, the disk filled)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

Console.WriteLine();
Console.WriteLine($"One-step forecasts on {result.TestSteps} held-out steps ({clock.Elapsed.TotalSeconds:F1} s):");
Console.WriteLine($"  LSTM RMSE          {result.ModelRmse:F4}");
Console.WriteLine($"  naive RMSE         {result.NaiveRmse:F4}   (repeat the last value)");
Console.WriteLine($"  ratio LSTM/naive   {result.Ratio:F3}");
Console.WriteLine($"  noise floor        {options.Noise:F4}   (σ of the noise: no forecast can do better on average)");
Console.WriteLine($"Plot: {result.PlotPath}");
return 0;
