namespace Forecast;

/// <summary>A plot path that cannot be written to, with what to do about it.</summary>
public sealed class PlotFileException(string message) : Exception(message);

/// <summary>
/// Where the plot goes: checked before training (not when the plot is saved at the end), and written to a temporary file
/// in the same folder that is then moved over the target, so that no half-written PNG is ever left.
/// </summary>
public static class PlotFile
{
    /// <summary>
    /// Refuses a path the plot cannot be saved to: a folder, a path in a missing folder or below a file, a folder that is not
    /// writable (tried: a temporary file is created there and deleted).
    /// </summary>
    /// <exception cref="PlotFileException">The path cannot be written to; the message says why.</exception>
    public static void CheckWritable(string path)
    {
        if (path.Length == 0 || Directory.Exists(path))
            throw new PlotFileException($"--out '{path}' is {(path.Length == 0 ? "empty" : "a folder")}; give a file path such as forecast.png.");
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new PlotFileException($"--out '{path}': {(File.Exists(folder) ? $"{folder} is a file, not a folder" : $"there is no folder {folder}")}; give a file path in an existing folder, such as forecast.png.");
        string probe = TemporaryPath(full);
        try
        {
            File.WriteAllBytes(probe, []);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PlotFileException($"--out '{path}': the folder {folder} is not writable ({e.Message}); give a path in a folder you can write to.");
        }
        finally
        {
            TryDelete(probe);
        }
    }

    /// <summary>Writes the PNG <paramref name="png"/> makes to <paramref name="path"/> through RnnGen's
    /// <see cref="RnnGen.AtomicFile"/>: a temporary file beside it, then one rename, so never half a PNG (and never over a
    /// device or a pipe).</summary>
    /// <exception cref="PlotFileException">The plot could not be written; nothing is left behind.</exception>
    public static void Save(string path, Func<byte[]> png)
    {
        string full = Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            byte[] bytes = png();
            RnnGen.AtomicFile.Write(full, stream => stream.Write(bytes));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PlotFileException($"the plot could not be written to {full} ({e.Message}).");
        }
    }

    private static string TemporaryPath(string full) =>
        Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
