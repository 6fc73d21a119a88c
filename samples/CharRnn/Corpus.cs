using System.Reflection;
using System.Text;

namespace CharRnn;

/// <summary>A problem with the training text, stated so that the user knows what to change.</summary>
public sealed class CorpusException(string message) : Exception(message);

/// <summary>The training text and where it came from.</summary>
/// <param name="Text">The text, line ends normalised to <c>\n</c>.</param>
/// <param name="Description">Where it came from, for the console.</param>
public sealed record Corpus(string Text, string Description)
{
    /// <summary>The file it was read from (its full path), or null for the repository's own text.</summary>
    public string? FilePath { get; init; }

    /// <summary>Fewest characters a corpus may have: the last 5 % must give the validation at least a few steps.</summary>
    public const int MinimumLength = 100;

    /// <summary>Largest corpus file read, in bytes (the token ids take four times as much memory).</summary>
    public const long MaximumBytes = 256L << 20;

    /// <summary>The folders of the repository whose C# and Markdown make the default corpus.</summary>
    public static IReadOnlyList<string> DefaultFolders { get; } = ["src", "generator", "docs"];

    /// <summary>
    /// Reads a UTF-8 text file. A missing, empty, binary or non-UTF-8 file is a <see cref="CorpusException"/> that says so.
    /// A byte-order mark is dropped and <c>\r\n</c> becomes <c>\n</c>.
    /// </summary>
    public static Corpus FromFile(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new CorpusException($"--corpus {path}: {full} is a folder; give a UTF-8 text file.");
        if (!File.Exists(full))
            throw new CorpusException($"--corpus {path}: there is no file {full}.");
        long length = new FileInfo(full).Length;
        if (length == 0)
            throw new CorpusException($"--corpus {path}: the file is empty; give a UTF-8 text file of at least {MinimumLength} characters.");
        if (length > MaximumBytes)
            throw new CorpusException($"--corpus {path}: the file has {length:N0} bytes; this sample reads at most {MaximumBytes:N0}. Train on a part of it.");

        byte[] bytes = File.ReadAllBytes(full);
        int nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0)
            throw new CorpusException($"--corpus {path}: the file looks binary (a NUL byte at offset {nul:N0}); give a UTF-8 text file.");
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            string where = e.Index >= 0 ? $" at offset {e.Index:N0}" : "";
            throw new CorpusException(
                $"--corpus {path}: the file is not UTF-8 text (an invalid byte sequence{where}); it may be binary or in another encoding " +
                "(convert it first, for example with iconv -f latin1 -t utf-8).");
        }
        return Checked(Normalize(text), $"{full} ({length:N0} bytes)", $"--corpus {path}") with { FilePath = full };
    }

    /// <summary>
    /// The default corpus: every <c>*.cs</c> and <c>*.md</c> file under <see cref="DefaultFolders"/> of the RnnGen repository
    /// (build output excluded), in path order, read at run time — "RnnGen learns to write C#". The repository is found by
    /// walking up from the current folder, then from the program's own folder, then from where it was built.
    /// </summary>
    public static Corpus RepositoryText()
    {
        string root = FindRepositoryRoot() ?? throw new CorpusException(
            "No default corpus: the RnnGen repository (a folder with src/RnnGen/RnnGen.csproj) was not found above the current folder " +
            "or the program. Run the sample from inside the repository, or train on your own text with --corpus FILE.");

        var files = DefaultFolders
            .Select(folder => Path.Combine(root, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            .Where(file => file.EndsWith(".cs", StringComparison.Ordinal) || file.EndsWith(".md", StringComparison.Ordinal))
            .Select(file => Path.GetRelativePath(root, file).Replace('\\', '/'))
            .Where(relative => !relative.Split('/').Any(part => part is "bin" or "obj"))
            .Order(StringComparer.Ordinal)
            .ToList();

        var text = new StringBuilder();
        foreach (string relative in files)
        {
            string content = Normalize(File.ReadAllText(Path.Combine(root, relative)));
            text.Append(content);
            if (!content.EndsWith('\n')) text.Append('\n');
        }
        string description = $"the repository's own C# and Markdown: {files.Count} files under {string.Join(", ", DefaultFolders.Select(f => f + "/"))} of {root}";
        return Checked(text.ToString(), description, "the default corpus");
    }

    /// <summary>The repository root above the current folder, the program, or the folder it was built from; null if none.</summary>
    public static string? FindRepositoryRoot()
    {
        string? builtFrom = typeof(Corpus).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "CharRnn.RepoRoot")?.Value;
        foreach (string? start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory, builtFrom })
        {
            for (var folder = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "src", "RnnGen", "RnnGen.csproj")) &&
                    Directory.Exists(Path.Combine(folder.FullName, "generator")))
                    return folder.FullName;
            }
        }
        return null;
    }

    private static string Normalize(string text) =>
        (text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text).Replace("\r\n", "\n", StringComparison.Ordinal);

    private static Corpus Checked(string text, string description, string name)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new CorpusException($"{name}: the text is only white space; give a text of at least {MinimumLength} characters.");
        int length = text.EnumerateRunes().Count();
        if (length < MinimumLength)
            throw new CorpusException($"{name}: the text has {length} characters; the sample needs at least {MinimumLength} (the last 5 % are kept apart for validation).");
        return new Corpus(text, description);
    }
}
