using Spectre.Console;
using Spectre.Console.Rendering;

namespace CharRnn;

/// <summary>One progress report: what the bar shows.</summary>
/// <param name="Step">Optimizer steps so far (all runs).</param>
/// <param name="Epoch">The epoch being trained (all runs).</param>
/// <param name="Loss">Training loss, nats per character, smoothed over the last steps.</param>
/// <param name="CharactersPerSecond">Training throughput of this run.</param>
/// <param name="Fraction">Share of the time budget (or of the epochs asked for) done.</param>
/// <param name="Remaining">Time left.</param>
public readonly record struct TrainingStatus(long Step, int Epoch, double Loss, double CharactersPerSecond, double Fraction, TimeSpan Remaining)
{
    /// <summary>The loss in bits per character: <c>Loss / ln 2</c>.</summary>
    public double BitsPerCharacter => Loss / Math.Log(2);

    /// <summary>"step 1,200 · loss 1.523 · 2.20 bpc · 91,000 char/s".</summary>
    public override string ToString() =>
        $"step {Step:N0} · loss {Loss:F3} · {BitsPerCharacter:F2} bpc · {CharactersPerSecond:N0} char/s";

    /// <summary>"step 1,200 · 2.20 bpc · 91,000 char/s", for a narrow terminal.</summary>
    public string ToShortString() => $"step {Step:N0} · {BitsPerCharacter:F2} bpc · {CharactersPerSecond:N0} char/s";
}

/// <summary>Where training shows its progress: a live Spectre.Console progress bar, or plain lines for logs and pipes.</summary>
public abstract class TrainingView
{
    /// <summary>The live bar on an interactive terminal, plain lines otherwise (or when <paramref name="plain"/>).</summary>
    public static TrainingView Create(bool plain) =>
        !plain && AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected ? new LiveView() : new PlainView();

    /// <summary>Runs <paramref name="training"/> with the view active (the live bar is drawn meanwhile).</summary>
    public abstract void Run(Action training);

    /// <summary>Shows the latest progress (called after every step).</summary>
    public abstract void Update(TrainingStatus status);

    /// <summary>Prints a line of text (above the bar in the live view). The line is cut to the terminal's width, never
    /// wrapped: a wrapped line written during the live display is partly overwritten by the bar.</summary>
    public void Line(string text)
    {
        int width = AnsiConsole.Profile.Width;
        if (text.Length >= width) text = text[..Math.Max(0, width - 2)] + "…";
        AnsiConsole.Write(new Text(text + "\n"));     // one write: in two, the live bar would be drawn between them
    }

    /// <summary>Prints a generated text sample with a title.</summary>
    public abstract void Sample(string title, string text);

    /// <summary>The time left as "m:ss", or "h:mm:ss" from an hour on; "—" when there is no telling.</summary>
    protected static string Eta(double seconds)
    {
        if (!double.IsFinite(seconds) || seconds > 1e8) return "—";
        TimeSpan left = TimeSpan.FromSeconds(Math.Ceiling(Math.Max(0, seconds)));
        return left.TotalHours >= 1 ? $"{(int)left.TotalHours}:{left:mm\\:ss}" : $"{left:m\\:ss}";
    }

    /// <summary>Generated text made safe to show: tabs as spaces, other control characters (but new lines) as '·'.</summary>
    protected static string Printable(string text) =>
        string.Create(text.Length, text, (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
                span[i] = source[i] == '\n' ? '\n' : source[i] == '\t' ? ' ' : char.IsControl(source[i]) ? '·' : source[i];
        });

    private sealed class LiveView : TrainingView
    {
        // The bar's row must fit the terminal: a wrapped row breaks the live redraw. The description takes at most
        // DescriptionWidth characters, the spinner, percentage, ETA and the spaces between columns about 26 more;
        // the bar gets what is left. Below 110 columns the description leaves out the loss in nats.
        private readonly bool _short = AnsiConsole.Profile.Width < 110;
        private ProgressTask? _task;

        private int DescriptionWidth => _short ? 40 : 54;

        public override void Run(Action training) =>
            AnsiConsole.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left },
                    new ProgressBarColumn { Width = Math.Clamp(AnsiConsole.Profile.Width - DescriptionWidth - 26, 5, 40) },
                    new PercentageColumn(), new EtaColumn())
                .Start(context =>
                {
                    _task = context.AddTask("starting", maxValue: 1.0);
                    try
                    {
                        training();
                    }
                    finally
                    {
                        _task.StopTask();
                    }
                });

        public override void Update(TrainingStatus status)
        {
            if (_task is null) return;
            _task.Description = Markup.Escape(_short ? status.ToShortString() : status.ToString());
            _task.Value = Math.Clamp(status.Fraction, 0, 1);
            _task.State.Update<double>(EtaColumn.Key, _ => status.Remaining.TotalSeconds);
        }

        public override void Sample(string title, string text) =>
            AnsiConsole.Write(new Panel(new Text(Printable(text))).Header(Markup.Escape(title)).Border(BoxBorder.Rounded).Expand());

        /// <summary>"ETA 1:23": the time left as the run computes it (the budget, or the epochs asked for).</summary>
        private sealed class EtaColumn : ProgressColumn
        {
            public const string Key = "eta";

            public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
            {
                double seconds = task.State.Get<double>(Key);
                return new Text($"ETA {Eta(seconds)}", new Style(Color.Blue));
            }
        }
    }

    private sealed class PlainView : TrainingView
    {
        private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
        private readonly System.Diagnostics.Stopwatch _sinceLine = new();

        public override void Run(Action training) => training();

        public override void Update(TrainingStatus status)
        {
            if (_sinceLine.IsRunning && _sinceLine.Elapsed < Interval) return;
            _sinceLine.Restart();
            Line($"{status} · epoch {status.Epoch} · {status.Fraction:P0} · ETA {Eta(status.Remaining.TotalSeconds)}");
        }

        public override void Sample(string title, string text)
        {
            Line($"---- {title} ----");
            AnsiConsole.Write(new Text(Printable(text) + "\n")); // whole: there is no live bar to overwrite a wrapped line
            Line("----");
        }
    }
}
