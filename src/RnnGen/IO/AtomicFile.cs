namespace RnnGen;

/// <summary>
/// Writes a file so that a crash or an exception never leaves a half-written file in its place: the
/// content goes to a temporary file in the same folder, is flushed to disk, and then replaces the target
/// with one rename (atomic on POSIX file systems and NTFS). On failure the temporary file is deleted and
/// the previous file, if any, is left as it was. A target that is a symbolic link is written through (the link's
/// final target is replaced, the link stays), and a replaced file keeps its Unix permissions. The read side of the
/// same files, <see cref="OpenRead"/>, says plainly when a path is a folder.
/// </summary>
internal static class AtomicFile
{
    private const int MaxFileNameLength = 255; // bytes (UTF-8) on most file systems

    internal static void Write(string path, Action<Stream> write)
    {
        string target = Path.GetFullPath(path);
        if (new FileInfo(target).LinkTarget is not null && File.ResolveLinkTarget(target, returnFinalTarget: true) is { } link)
            target = link.FullName; // replace what the link points at, not the link
        string folder = Path.GetDirectoryName(target)
            ?? throw new ArgumentException($"'{path}' is not a file path.", nameof(path));
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot save '{path}': the folder '{folder}' does not exist.");
        if (Directory.Exists(target))
            throw new IOException($"Cannot save '{path}': it is a folder.");

        // Hidden, recognisable, unique: ".model.safetensors.k3j2x1qa.tmp" (just ".k3j2x1qa.tmp" beside a very long name).
        string name = "." + Path.GetFileName(target) + "." + Path.GetRandomFileName() + ".tmp";
        if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxFileNameLength) name = "." + Path.GetRandomFileName() + ".tmp";
        string temporary = Path.Combine(folder, name);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 64 * 1024))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows() && File.Exists(target))
                File.SetUnixFileMode(temporary, File.GetUnixFileMode(target)); // a 0600 checkpoint stays 0600
            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Opens a model file for reading; a folder is refused with a message that says so (not "access denied").</summary>
    internal static FileStream OpenRead(string path, int bufferSize = 4096, FileOptions options = FileOptions.None)
    {
        if (Directory.Exists(path))
            throw new IOException($"Cannot load '{path}': it is a folder, not a file.");
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize, options);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
