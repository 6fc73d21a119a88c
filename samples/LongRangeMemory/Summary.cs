using System.Globalization;
using System.Text;

namespace LongRangeMemory;

/// <summary>The runs of one cell at one lag, over all seeds.</summary>
/// <param name="Cell">The cell kind.</param>
/// <param name="Parameters">Its parameter count.</param>
/// <param name="Lag">The lag L.</param>
/// <param name="Runs">The runs (one per seed, in seed order).</param>
public sealed record CellSummary(Cell Cell, int Parameters, int Lag, IReadOnlyList<CellRun> Runs)
{
    /// <summary>Runs that reached the solved accuracy.</summary>
    public int Solved => Runs.Count(r => r.Solved);

    /// <summary>Mean final validation accuracy.</summary>
    public double MeanAccuracy => Runs.Average(r => r.Accuracy);

    /// <summary>Lowest final validation accuracy.</summary>
    public double MinAccuracy => Runs.Min(r => r.Accuracy);

    /// <summary>Highest final validation accuracy.</summary>
    public double MaxAccuracy => Runs.Max(r => r.Accuracy);

    /// <summary>Mean final validation loss (nats).</summary>
    public double MeanLoss => Runs.Average(r => r.Loss);

    /// <summary>Mean number of optimizer updates used (a run that never solved the task used the whole budget).</summary>
    public double MeanSteps => Runs.Average(r => (double)r.Steps);

    /// <summary>‖∂E/∂h_{T−L}‖ / ‖∂E/∂h_T‖ at initialisation: the gradient reaching the state that holds the signal,
    /// relative to the gradient at the output (geometric mean over the seeds).</summary>
    public double InitialGradientAtLag => GeometricMean(Runs.Select(r => r.Initial.Hidden[Lag]));

    /// <summary>The same ratio after training.</summary>
    public double TrainedGradientAtLag => GeometricMean(Runs.Select(r => r.Trained.Hidden[Lag]));

    /// <summary>Groups runs by lag and cell, in the order of <see cref="Experiment.Cells"/> within each lag.</summary>
    public static IReadOnlyList<CellSummary> Of(IEnumerable<CellRun> runs) =>
        runs.GroupBy(r => (r.Lag, r.Cell))
            .OrderBy(g => g.Key.Lag).ThenBy(g => g.Key.Cell)
            .Select(g => new CellSummary(g.Key.Cell, g.First().Parameters, g.Key.Lag, g.OrderBy(r => r.Seed).ToArray()))
            .ToArray();

    /// <summary>exp(mean(ln x)); the average of ratios that span many orders of magnitude.</summary>
    public static double GeometricMean(IEnumerable<double> values) => Math.Exp(values.Average(v => Math.Log(Math.Max(v, 1e-300))));
}

/// <summary>The results table, as Markdown (readable on the console, pasted as is into docs).</summary>
public static class ResultsTable
{
    /// <summary>The column headers, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } =
        ["L", "cell", "parameters", "solved", "accuracy", "loss (nats)", "updates", "gradient ratio at d = L: init → trained"];

    /// <summary>Writes the table: one row per lag and cell.</summary>
    /// <param name="summaries">The summaries (<see cref="CellSummary.Of"/>).</param>
    /// <remarks>With several seeds, accuracy is "mean (min–max)", loss and updates are means, the gradient ratio a
    /// geometric mean; "solved" counts the seeds whose run reached the solved accuracy.</remarks>
    public static string Format(IReadOnlyList<CellSummary> summaries)
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", Columns).AppendLine(" |");
        text.AppendLine("|--:|---|--:|:-:|--:|--:|--:|:-:|");
        foreach (CellSummary s in summaries)
        {
            string accuracy = s.Runs.Count == 1
                ? Percent(s.MeanAccuracy)
                : $"{Percent(s.MeanAccuracy)} ({Percent(s.MinAccuracy, sign: false)}–{Percent(s.MaxAccuracy, sign: false)})";
            text.Append("| ").AppendJoin(" | ",
                s.Lag.ToString(CultureInfo.InvariantCulture),
                Experiment.Name(s.Cell),
                s.Parameters.ToString("N0", CultureInfo.InvariantCulture),
                $"{s.Solved}/{s.Runs.Count}",
                accuracy,
                s.MeanLoss.ToString("F3", CultureInfo.InvariantCulture),
                s.MeanSteps.ToString("N0", CultureInfo.InvariantCulture),
                $"{Scientific(s.InitialGradientAtLag)} → {Scientific(s.TrainedGradientAtLag)}").AppendLine(" |");
        }
        return text.ToString();
    }

    private static string Percent(double value, bool sign = true) =>
        (value * 100).ToString("F1", CultureInfo.InvariantCulture) + (sign ? " %" : "");

    private static string Scientific(double value) => value.ToString("0.0e+00", CultureInfo.InvariantCulture);
}
