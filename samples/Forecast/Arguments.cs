namespace Forecast;

/// <summary>The command line of the sample: <c>[--out FILE.png]</c>, or <c>-h</c> / <c>--help</c>.</summary>
public static class Arguments
{
    /// <summary>The usage line.</summary>
    public const string Usage = "usage: Forecast [--out FILE.png]   (the plot; default forecast.png in the current folder)";

    /// <summary>The plot path the arguments ask for, or null for help.</summary>
    /// <exception cref="ArgumentException">The arguments cannot be understood; the message says what to change.</exception>
    public static string? OutPath(string[] args)
    {
        string? outPath = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-h" or "--help":
                    return null;
                case "--out" when outPath is not null:
                    throw new ArgumentException("--out is given twice; give it once.");
                case "--out" when i + 1 < args.Length:
                    outPath = args[++i];
                    break;
                case "--out":
                    throw new ArgumentException("--out needs a file name, e.g. --out forecast.png.");
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        return outPath ?? "forecast.png";
    }
}
