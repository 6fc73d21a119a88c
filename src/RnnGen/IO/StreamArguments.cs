using System.Runtime.CompilerServices;

namespace RnnGen;

/// <summary>
/// The checks every model-file API makes of a caller's stream (<see cref="SafeTensors"/>, <see cref="TrainingCheckpoint"/>,
/// <see cref="OnnxFile"/>), in one place: null, or unable to do what the call needs, is the caller's argument, refused
/// before anything is read, written or changed, and named as the caller's parameter.
/// </summary>
internal static class StreamArguments
{
    /// <summary><paramref name="stream"/>, checked to be readable.</summary>
    public static Stream Readable(Stream stream, [CallerArgumentExpression(nameof(stream))] string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream, name);
        if (!stream.CanRead) throw new ArgumentException("The stream is not readable.", name);
        return stream;
    }

    /// <summary><paramref name="stream"/>, checked to be writable.</summary>
    public static Stream Writable(Stream stream, [CallerArgumentExpression(nameof(stream))] string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream, name);
        if (!stream.CanWrite) throw new ArgumentException("The stream is not writable.", name);
        return stream;
    }

    /// <summary>The bytes from the stream's position to its end, if it can tell (null for a pipe).</summary>
    public static long? Remaining(Stream stream) => stream.CanSeek ? Math.Max(0, stream.Length - stream.Position) : null;
}
