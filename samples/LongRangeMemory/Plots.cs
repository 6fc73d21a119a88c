using System.Globalization;
using ScottPlot;

namespace LongRangeMemory;

/// <summary>The two figures of the experiment, drawn with ScottPlot and saved as PNG (headless, through SkiaSharp).</summary>
public static class Plots
{
    private static readonly Dictionary<Cell, Color> CellColors = new()
    {
        [Cell.Rnn] = Color.FromHex("#d62728"),
        [Cell.Gru] = Color.FromHex("#2ca02c"),
        [Cell.Lstm] = Color.FromHex("#1f77b4"),
    };

    private static readonly Dictionary<Cell, MarkerShape> CellMarkers = new()
    {
        [Cell.Rnn] = MarkerShape.FilledCircle,
        [Cell.Gru] = MarkerShape.FilledSquare,
        [Cell.Lstm] = MarkerShape.FilledTriangleUp,
    };

    /// <summary>A sans-serif font present on this machine (ScottPlot's own choice can be a serif one), or null.</summary>
    private static readonly string? SansFont = new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans" }
        .FirstOrDefault(name => SkiaSharp.SKFontManager.Default.FontFamilies.Contains(name));

    /// <summary>
    /// Accuracy against lag, one line per cell through the mean over the seeds, one small dot per seed, and the chance
    /// level. The lags are evenly spaced on the horizontal axis. Returns the PNG.
    /// </summary>
    public static byte[] Accuracy(IReadOnlyList<CellSummary> summaries, ExperimentOptions options)
    {
        int[] lags = summaries.Select(s => s.Lag).Distinct().Order().ToArray();
        var plot = NewPlot();
        var chance = plot.Add.HorizontalLine(RecallTask.ChanceAccuracy * 100, 1.5f, Colors.Gray, LinePattern.Dashed);
        chance.LegendText = "chance (1/8)";
        foreach (Cell cell in Experiment.Cells)
        {
            CellSummary[] rows = lags.Select(l => summaries.Single(s => s.Cell == cell && s.Lag == l)).ToArray();
            double offset = ((int)cell - 1) * 0.05;   // the cells side by side, so that equal values stay visible
            double[] xs = Enumerable.Range(0, lags.Length).Select(i => i + offset).ToArray();
            var mean = plot.Add.Scatter(xs, rows.Select(r => r.MeanAccuracy * 100).ToArray(), CellColors[cell]);
            mean.LineWidth = 2.5f;
            mean.MarkerSize = 11;
            mean.MarkerShape = CellMarkers[cell];
            mean.LegendText = $"{Experiment.Name(cell)}, {Experiment.ParameterCount(cell):N0} parameters";
            if (options.Seeds.Count > 1)
            {
                var dots = plot.Add.ScatterPoints(
                    rows.SelectMany((r, i) => r.Runs.Select(_ => i + offset)).ToArray(),
                    rows.SelectMany(r => r.Runs.Select(run => run.Accuracy * 100)).ToArray(),
                    CellColors[cell].WithAlpha(0.7));
                dots.MarkerSize = 8;
                dots.MarkerShape = MarkerShape.OpenCircle;
            }
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, lags.Length).Select(i => (double)i).ToArray(),
            lags.Select(l => l.ToString(CultureInfo.InvariantCulture)).ToArray());
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(10);
        plot.Axes.SetLimits(-0.3, lags.Length - 0.7, 0, 105);
        string seeds = options.Seeds.Count == 1 ? $"seed {options.Seeds[0]}" : $"mean of {options.Seeds.Count} seeds (circles: single seeds)";
        plot.Title($"Recall the first token after L distractors: accuracy after ≤ {options.MaxSteps:N0} updates");
        plot.XLabel("lag L (steps between the signal and the answer)");
        plot.YLabel($"validation accuracy, % — {seeds}");
        plot.Legend.Alignment = Alignment.LowerLeft;
        plot.ShowLegend();
        UseSansFont(plot);
        return plot.GetImage(900, 560).GetImageBytes();
    }

    /// <summary>
    /// Two panels, at initialisation and after training at the longest lag: ‖∂E/∂h_{T−d}‖ / ‖∂E/∂h_T‖ against the
    /// distance d, log scale, one line per cell (geometric mean over the seeds), plus the LSTM's cell state
    /// ‖∂E/∂c_{T−d}‖ / ‖∂E/∂h_T‖. Returns the PNG.
    /// </summary>
    public static byte[] GradientFlow(IReadOnlyList<CellSummary> summaries)
    {
        int lag = summaries.Max(s => s.Lag);
        CellSummary[] rows = Experiment.Cells.Select(c => summaries.Single(s => s.Cell == c && s.Lag == lag)).ToArray();
        var panels = new[] { ("at initialisation", (Func<CellRun, GradientCurve>)(r => r.Initial)), ("after training", r => r.Trained) }
            .Select(panel => GradientPanel(rows, panel.Item2, $"{panel.Item1} (L = {lag})"))
            .ToArray();

        // both panels on the same vertical range (whole decades), so that the change through training is visible
        double[] exponents = rows.SelectMany(r => r.Runs)
            .SelectMany(run => new[] { run.Initial, run.Trained })
            .SelectMany(c => c.Hidden.Concat(c.CellState ?? []))
            .Where(v => !double.IsNaN(v))
            .Select(v => Math.Log10(Math.Max(v, 1e-300)))
            .ToArray();
        double bottom = Math.Floor(exponents.Min()), top = Math.Max(1, Math.Ceiling(exponents.Max()));
        foreach (Plot panel in panels)
        {
            panel.Axes.SetLimits(0, lag, bottom, top);
            UseSansFont(panel);
        }

        var figure = new Multiplot(panels[0]);
        figure.AddPlot(panels[1]);
        figure.Layout = new ScottPlot.MultiplotLayouts.Columns();
        return figure.Render(1300, 600).GetImageBytes();
    }

    private static Plot GradientPanel(CellSummary[] rows, Func<CellRun, GradientCurve> select, string title)
    {
        var plot = NewPlot();
        foreach (CellSummary row in rows)
        {
            GradientCurve[] curves = row.Runs.Select(select).ToArray();
            AddCurve(plot, curves.Select(c => c.Hidden).ToArray(), CellColors[row.Cell], LinePattern.Solid,
                $"{Experiment.Name(row.Cell)}: hidden state h");
            if (curves[0].CellState is not null)
                AddCurve(plot, curves.Select(c => c.CellState!).ToArray(), CellColors[row.Cell], LinePattern.Dotted,
                    $"{Experiment.Name(row.Cell)}: cell state c");
        }
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            IntegerTicksOnly = true,
            LabelFormatter = PowerOfTen,
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        };
        plot.Title(title);
        plot.XLabel("distance d = T − k (steps back from the loss at the last step T)");
        plot.YLabel("‖∂E/∂(state at T − d)‖ / ‖∂E/∂h_T‖ (log scale)");
        plot.Legend.Alignment = Alignment.LowerLeft;
        plot.ShowLegend();
        return plot;
    }

    /// <summary>Adds log10 of the geometric mean over <paramref name="curves"/>, from the first distance they measure.</summary>
    private static void AddCurve(Plot plot, double[][] curves, Color color, LinePattern pattern, string label)
    {
        int first = double.IsNaN(curves[0][0]) ? 1 : 0;
        double[] xs = Enumerable.Range(first, curves[0].Length - first).Select(d => (double)d).ToArray();
        double[] ys = xs.Select(d => Math.Log10(CellSummary.GeometricMean(curves.Select(c => c[(int)d])))).ToArray();
        var line = plot.Add.ScatterLine(xs, ys, color);
        line.LineWidth = 2.5f;
        line.LinePattern = pattern;
        line.LegendText = label;
    }

    private static string PowerOfTen(double exponent)
    {
        const string superscripts = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        string digits = Math.Abs((int)Math.Round(exponent)).ToString(CultureInfo.InvariantCulture);
        return "10" + (exponent < 0 ? "⁻" : "") + string.Concat(digits.Select(c => superscripts[c - '0']));
    }

    private static Plot NewPlot() => new();

    /// <summary>Sets every text of <paramref name="plot"/> (call after adding everything) to <see cref="SansFont"/>.</summary>
    private static void UseSansFont(Plot plot)
    {
        if (SansFont is not null) plot.Font.Set(SansFont);
    }
}
