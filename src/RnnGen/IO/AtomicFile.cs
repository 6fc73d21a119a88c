namespace RnnGen;

/// <summary>
/// Writes a file so that a crash or an exception never leaves a half-written file in its place: the
/// content goes to a temporary file in the same folder, is flushed to disk, and then replaces the target
/// with one rename (atomic on POSIX file systems and NTFS). On failure the temporary file is deleted and
/// the previous file, if any, is left as it was. A target that is a symbolic link is written through (the link's
/// final target is replaced, the link stays), and a replaced file keeps its Unix permissions — the temporary file is
/// created with them, so the new content is never readable by more users than the old. (The rename is not followed by
/// an fsync of the folder: after a power loss the folder may still show the previous file, whole.) The read side of the
/// same files says plainly when a path is a folder. On Linux a target that is a device, a pipe or a socket is refused (the
/// rename would put a regular file in its place; asked through statx(2), so where that call is missing — musl before 1.2.5 —
/// it is not). Model files and checkpoints are written this way; so can your own files be —
/// the samples write their plots through it. A process killed while it writes (kill -9, a crash) leaves its hidden
/// temporary file behind, never the target half-written; the next write of the same target deletes such leftovers once
/// they have been untouched for a minute and no process holds them open (a writer holds its temporary file locked).
/// </summary>
public static class AtomicFile
{
    private const int MaxFileNameLength = 255; // bytes (UTF-8) on most file systems

    /// <summary>Writes <paramref name="path"/> atomically: <paramref name="write"/> fills a temporary file beside it, which
    /// then replaces the target in one rename; if anything fails, the target is left as it was and no temporary file stays.</summary>
    /// <param name="path">The file to create or replace (a symbolic link is written through).</param>
    /// <param name="write">Writes the whole content to the stream it is given.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="IOException">The path is a folder, or (on Linux) a device, a pipe or a socket; or writing failed.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder cannot be written to.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string target = Path.GetFullPath(path);
        if (new FileInfo(target).LinkTarget is not null && File.ResolveLinkTarget(target, returnFinalTarget: true) is { } link)
            target = link.FullName; // replace what the link points at, not the link
        string folder = Path.GetDirectoryName(target)
            ?? throw new ArgumentException($"'{path}' is not a file path.", nameof(path));
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException(File.Exists(folder)
                ? $"Cannot save '{path}': '{folder}' is a file, not a folder."
                : $"Cannot save '{path}': the folder '{folder}' does not exist.");
        if (Directory.Exists(target))
            throw new IOException($"Cannot save '{path}': it is a folder.");
        if (SpecialFileKind(target) is { } kind)
            throw new IOException($"Cannot save '{path}': it is a {kind}, not a regular file, and saving would replace it with one; save to a file.");

        DeleteOrphans(folder, Path.GetFileName(target));

        // Hidden, recognisable, unique: ".model.safetensors.k3j2x1qa.tmp" (just ".k3j2x1qa.tmp" beside a very long name).
        string name = "." + Path.GetFileName(target) + "." + Path.GetRandomFileName() + ".tmp";
        if (System.Text.Encoding.UTF8.GetByteCount(name) > MaxFileNameLength) name = "." + Path.GetRandomFileName() + ".tmp";
        string temporary = Path.Combine(folder, name);
        try
        {
            // a replaced file keeps its permissions, and the new content is never readable more widely than the old: the
            // temporary file is created with the target's mode (as the umask allows), and given it exactly before the rename
            UnixFileMode? mode = OperatingSystem.IsWindows() ? null : ModeOf(target);
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 64 * 1024,
            };
            if (mode is { } created && !OperatingSystem.IsWindows()) options.UnixCreateMode = created;
            using (var stream = Create(temporary, options, path, folder))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            if (mode is { } exact && !OperatingSystem.IsWindows())
                File.SetUnixFileMode(temporary, exact); // a 0600 checkpoint stays 0600, a 0664 one 0664 whatever the umask
            File.Move(temporary, target, overwrite: true);
        }
        catch (IOException e) when (e.Message.Contains(temporary, StringComparison.Ordinal))
        {
            // the system's error names the hidden temporary file ("No space left on device : '…/.m.safetensors.x1.tmp'"):
            // report it for the path the caller gave, and say that the earlier file is untouched
            TryDelete(temporary);
            throw new IOException($"Cannot save '{path}': {Reason(e)} (in '{folder}'); {(File.Exists(target) ? "the earlier file there is left as it was" : "nothing was written")}.", e);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>How long a temporary file must have been left unwritten before a later write of the same target may take it
    /// for a killed writer's: its writer holds it locked while it writes, and this covers the instants between creating it and
    /// locking it, and between closing it and the rename.</summary>
    internal static readonly TimeSpan OrphanAge = TimeSpan.FromMinutes(1);

    // The temporary files of this target that a killed process left (kill -9, a crash, a power loss during a save): each save
    // killed while it writes would otherwise leave one more hidden copy of the file beside it, for ever. One is deleted only
    // when its name is exactly this target's temporary name, it was last written more than OrphanAge ago, and no process
    // holds it (a writer keeps its temporary file open with FileShare.None, an exclusive lock, until it renames it; the
    // system releases the lock of a killed process). Best effort: whatever cannot be asked or deleted stays.
    private static void DeleteOrphans(string folder, string fileName)
    {
        string prefix = "." + fileName + ".";
        try
        {
            foreach (string candidate in Directory.EnumerateFiles(folder, prefix + "*.tmp"))
            {
                string name = Path.GetFileName(candidate);
                if (!name.StartsWith(prefix, StringComparison.Ordinal) || !IsRandomName(name.AsSpan(prefix.Length, name.Length - prefix.Length - 4))
                    || DateTime.UtcNow - File.GetLastWriteTimeUtc(candidate) < OrphanAge)
                    continue;
                try
                {
                    // fails while its writer lives; deleted when closed, still under our lock
                    using var orphan = new FileStream(candidate, FileMode.Open, FileAccess.Read, FileShare.None, 1, FileOptions.DeleteOnClose);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    // Path.GetRandomFileName's form: 8 characters, a dot, 3 characters, each a lower-case letter or a digit.
    private static bool IsRandomName(ReadOnlySpan<char> name)
    {
        if (name.Length != 12 || name[8] != '.') return false;
        for (int i = 0; i < name.Length; i++)
        {
            if (i != 8 && !char.IsAsciiLetterLower(name[i]) && !char.IsAsciiDigit(name[i])) return false;
        }
        return true;
    }

    // The target's Unix mode, or null when there is none (a new file, or one another process has just deleted).
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static UnixFileMode? ModeOf(string target)
    {
        try
        {
            return File.Exists(target) ? File.GetUnixFileMode(target) : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    // The temporary file; a failure to create it (a read-only file system, a full disk) is reported for the path the caller
    // gave, not for the hidden temporary name.
    private static FileStream Create(string temporary, FileStreamOptions options, string path, string folder)
    {
        try
        {
            return new FileStream(temporary, options);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UnauthorizedAccessException($"Cannot save '{path}': no file can be created in '{folder}' ({Reason(e)}).", e);
        }
        catch (IOException e) when (e is not PathTooLongException)
        {
            throw new IOException($"Cannot save '{path}': no file can be created in '{folder}' ({Reason(e)}).", e);
        }
    }

    // The system's reason without the path it names ("Read-only file system : '…/.m.safetensors.x1.tmp'"): the temporary
    // file is not the caller's.
    private static string Reason(Exception e)
    {
        string message = e.Message;
        int at = message.LastIndexOf(" : '", StringComparison.Ordinal);
        return at > 0 && message.EndsWith('\'') ? message[..at] : message;
    }

    /// <summary>Opens a model file for reading; a folder is refused with a message that says so (not "access denied").</summary>
    internal static FileStream OpenRead(string path, int bufferSize = 4096, FileOptions options = FileOptions.None)
    {
        if (Directory.Exists(path))
            throw new IOException($"Cannot load '{path}': it is a folder, not a file.");
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize, options);
    }

    /// <summary>
    /// The bytes a file opened by <see cref="OpenRead"/> holds, when it can tell: a regular file's length; null for a pipe
    /// or a device (<c>&lt;(zcat model.gz)</c>, <c>/dev/stdin</c>), which is then read as a stream is, up to the end of
    /// what it describes.
    /// </summary>
    internal static long? LengthOf(FileStream file) =>
        file.CanSeek && SpecialFileKind(file.Name) is null ? file.Length : null;

    /// <summary>
    /// What <paramref name="path"/> is when it exists and is neither a regular file nor a folder — "device", "pipe (FIFO)",
    /// "socket" — else null. The rename would put a regular file in its place (run as root, even over /dev/null). Asked
    /// of Linux through statx(2), whose record is the same on every architecture; elsewhere, or when the call is missing,
    /// nothing is known and null is returned.
    /// </summary>
    internal static string? SpecialFileKind(string path)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        var record = new byte[256];                  // struct statx
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxType, record) != 0)
                return null;                          // missing (a new file), or not to be asked: the write says why
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        int type = BitConverter.ToUInt16(record, 28) & 0xF000; // stx_mode's S_IFMT bits
        return type switch
        {
            0x2000 or 0x6000 => "device",
            0x1000 => "pipe (FIFO)",
            0xC000 => "socket",
            _ => null,                                 // a regular file, a folder (checked before), a link (followed)
        };
    }

    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int Statx(int directory, [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path,
        int flags, uint mask, byte[] record);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
