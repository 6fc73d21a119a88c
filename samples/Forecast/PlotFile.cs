using System.Runtime.InteropServices;

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
    /// Refuses a path the plot cannot be saved to: a folder, a path in a missing folder or below a file, a device or pipe,
    /// a folder that is not writable (tried: a temporary file is created there and deleted).
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
        if (SpecialFileKind(full) is string kind)
            throw new PlotFileException($"--out '{path}' is a {kind}, not a file; give a file path such as forecast.png.");
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

    /// <summary>Saves with <paramref name="save"/> (which writes the PNG to the path it is given) and moves the result to <paramref name="path"/>.</summary>
    /// <exception cref="PlotFileException">The plot could not be written; nothing is left behind.</exception>
    public static void Save(string path, Action<string> save)
    {
        string full = Path.GetFullPath(path);
        string temporary = TemporaryPath(full);
        try
        {
            if (SpecialFileKind(full) is string kind)
                throw new IOException($"it is a {kind}, not a file");
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            save(temporary);
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PlotFileException($"the plot could not be written to {full} ({e.Message}).");
        }
        finally
        {
            TryDelete(temporary);
        }
    }

    // ends in .png: the image library picks the format by the extension
    private static string TemporaryPath(string full) =>
        Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp.png");

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// "device", "pipe (FIFO)" or "socket" when <paramref name="path"/> exists as one, else null: moving a file over it would
    /// replace it (as root, even /dev/full). Asked of Linux through statx(2), whose record is the same on every
    /// architecture; elsewhere nothing is known and null is returned.
    /// </summary>
    private static string? SpecialFileKind(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var record = new byte[256];                  // struct statx
        try
        {
            if (Statx(-100 /* AT_FDCWD */, path, 0, 0x1 /* STATX_TYPE */, record) != 0) return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        return (BitConverter.ToUInt16(record, 28) & 0xF000) switch  // stx_mode's S_IFMT bits
        {
            0x2000 or 0x6000 => "device",
            0x1000 => "pipe (FIFO)",
            0xC000 => "socket",
            _ => null,
        };
    }

    [DllImport("libc", EntryPoint = "statx")]
    private static extern int Statx(int directory, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] record);
}
