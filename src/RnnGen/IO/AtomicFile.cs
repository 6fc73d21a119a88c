namespace RnnGen;

/// <summary>
/// Writes a file so that a crash or an exception never leaves a half-written file in its place: the
/// content goes to a temporary file in the same folder, is flushed to disk, and then replaces the target
/// with one rename (atomic on POSIX file systems and NTFS). On failure the temporary file is deleted and
/// the previous file, if any, is left as it was.
/// </summary>
internal static class AtomicFile
{
    internal static void Write(string path, Action<Stream> write)
    {
        string target = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(target)
            ?? throw new ArgumentException($"'{path}' is not a file path.", nameof(path));
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot save '{path}': the folder '{folder}' does not exist.");
        if (Directory.Exists(target))
            throw new IOException($"Cannot save '{path}': it is a folder.");

        // Hidden, recognisable, unique: ".model.safetensors.k3j2x1qa.tmp".
        string temporary = Path.Combine(folder, "." + Path.GetFileName(target) + "." + Path.GetRandomFileName() + ".tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 64 * 1024))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
