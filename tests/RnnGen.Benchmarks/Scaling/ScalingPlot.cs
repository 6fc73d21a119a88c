using System.Diagnostics;
using RnnGen.Benchmarks.Streaming;
using ScottPlot;

namespace RnnGen.Benchmarks.Scaling;

// LSTMs of growing width, input = hidden, one layer: how the step time grows with the work (4·H·2H weights).
[LstmModel(hidden: 16)] internal partial class ScaleLstm16 { }
[LstmModel(hidden: 32)] internal partial class ScaleLstm32 { }
[LstmModel(hidden: 64)] internal partial class ScaleLstm64 { }
[LstmModel(hidden: 128)] internal partial class ScaleLstm128 { }
[LstmModel(hidden: 256)] internal partial class ScaleLstm256 { }
[LstmModel(hidden: 512)] internal partial class ScaleLstm512 { }
[LstmModel(hidden: 1024)] internal partial class ScaleLstm1024 { }

/// <summary>
/// <c>--scaling</c>: step time and efficiency (floor / step) of an LSTM H→H×1 for H = 16 … 1024, measured back to back
/// with the weight-streaming floor (best of repeated stopwatch rounds, not BenchmarkDotNet: a quick look), written as a
/// two-panel PNG (docs/images/scaling.png by default) and printed as a table.
/// </summary>
internal static class ScalingPlot
{
    private record struct Point(int Hidden, long Weights, double StepNs, double FloorNs)
    {
        public double Efficiency => FloorNs / StepNs;
    }

    public static void Run(string path)
    {
        var points = new List<Point>
        {
            Measure<ScaleLstm16>(), Measure<ScaleLstm32>(), Measure<ScaleLstm64>(), Measure<ScaleLstm128>(),
            Measure<ScaleLstm256>(), Measure<ScaleLstm512>(), Measure<ScaleLstm1024>(),
        };
        Console.WriteLine("hidden   weights      step         floor        efficiency");
        foreach (var p in points)
            Console.WriteLine($"{p.Hidden,6} {p.Weights,10:N0} {p.StepNs,10:F0} ns {p.FloorNs,10:F0} ns   {p.Efficiency:F2}");

        double[] xs = points.Select(p => Math.Log2(p.Hidden)).ToArray();
        var time = new Plot();
        var step = time.Add.Scatter(xs, points.Select(p => Math.Log10(p.StepNs)).ToArray());
        step.LegendText = "RnnGen Step";
        var floor = time.Add.Scatter(xs, points.Select(p => Math.Log10(p.FloorNs)).ToArray());
        floor.LegendText = "floor (read every weight once)";
        floor.LinePattern = LinePattern.Dashed;
        time.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = v => $"10^{v:F0} ns",
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        };
        time.Title("LSTM H→H×1, one step at batch 1");
        time.YLabel("time per step (log scale)");
        time.ShowLegend(Alignment.UpperLeft);

        var efficiency = new Plot();
        efficiency.Add.Scatter(xs, points.Select(p => p.Efficiency).ToArray());
        efficiency.Axes.SetLimitsY(0, 1.05);
        efficiency.Title("efficiency = floor / step");
        efficiency.YLabel("efficiency");

        foreach (var plot in new[] { time, efficiency })
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1)
            {
                LabelFormatter = v => Math.Pow(2, v).ToString("F0"),
            };
            plot.XLabel("hidden size H");
        }
        // ScottPlot's default family can resolve to a serif font on Linux: use an installed sans one when there is one
        string? sans = new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Noto Sans" }
            .FirstOrDefault(name => SkiaSharp.SKFontManager.Default.FontFamilies.Contains(name));
        if (sans is not null)
        {
            time.Font.Set(sans);
            efficiency.Font.Set(sans);
        }
        var figure = new Multiplot(time);
        figure.AddPlot(efficiency);
        figure.Layout = new ScottPlot.MultiplotLayouts.Columns();
        figure.SavePng(path, 1200, 500);
        Console.WriteLine($"Wrote {path}");
    }

    private static Point Measure<TModel>() where TModel : class, IRecurrentModel<TModel, float>
    {
        var model = TModel.Create();
        model.InitializeParameters(1);
        var state = model.CreateState();
        var x = new float[TModel.Info.InputSize];
        var y = new float[TModel.Info.OutputWidth];
        for (int i = 0; i < x.Length; i++) x[i] = MathF.Sin(i);
        using var floor = new WeightFloor(WeightFloor.StreamedBy(TModel.Info, model.Parameters));
        int n = Math.Max(50, 50_000_000 / TModel.Info.ParameterCount);
        double bestStep = double.MaxValue, bestFloor = double.MaxValue;
        float sink = 0;
        // warm up for half a second, so that tiered compilation has produced the optimised code before timing
        for (var warm = Stopwatch.StartNew(); warm.ElapsedMilliseconds < 500;)
        {
            for (int i = 0; i < n; i++) model.Step(x, state, y);
            sink += floor.Read();
        }
        for (int round = 0; round < 15; round++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) model.Step(x, state, y);
            bestStep = Math.Min(bestStep, clock.Elapsed.TotalNanoseconds / n);
            sink += y[0];
            clock.Restart();
            for (int i = 0; i < n; i++) sink += floor.Read();
            bestFloor = Math.Min(bestFloor, clock.Elapsed.TotalNanoseconds / n);
        }
        if (float.IsNaN(sink)) Console.WriteLine("(NaN)");
        return new Point(TModel.Info.HiddenSize, TModel.Info.ParameterCount, bestStep, bestFloor);
    }
}
