namespace QuickStart;

/// <summary>The command line: the sample takes no options; <c>-h</c> / <c>--help</c> prints the usage, anything else is refused.</summary>
public static class Arguments
{
    /// <summary>The usage line.</summary>
    public const string Usage = "usage: QuickStart   — an LSTM learns to repeat the token it saw three steps ago (no options)";

    /// <summary>Null when the sample should run; else the exit code, after printing the usage (0) or an error (2).</summary>
    public static int? Check(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0) return null;
        if (args is ["-h" or "--help"])
        {
            output.WriteLine(Usage);
            return 0;
        }
        error.WriteLine($"error: unexpected argument '{args[0]}'; this sample takes no options.");
        error.WriteLine(Usage);
        return 2;
    }
}
