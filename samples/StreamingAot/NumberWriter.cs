using System.Globalization;

namespace StreamingAot;

/// <summary>
/// Writes numbers as UTF-8 text into a buffer and the buffer to a stream when it fills: nothing is allocated after
/// construction. Values are written in the shortest form that reads back to the same float.
/// </summary>
public sealed class NumberWriter
{
    private const int MaxNumberLength = 32;   // "-1.1754944E-38" is 14 bytes; leave room
    private readonly Stream _stream;
    private readonly byte[] _buffer;
    private int _length;

    /// <summary>Creates a writer to <paramref name="stream"/> with a buffer of <paramref name="bufferSize"/> bytes.</summary>
    public NumberWriter(Stream stream, int bufferSize = 64 * 1024)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, MaxNumberLength);
        _stream = stream;
        _buffer = new byte[bufferSize];
    }

    /// <summary>Writes <paramref name="value"/> (invariant culture, round-trip form).</summary>
    public void Write(float value)
    {
        if (_buffer.Length - _length < MaxNumberLength) Flush();
        if (!value.TryFormat(_buffer.AsSpan(_length), out int written, default, CultureInfo.InvariantCulture))
            throw new InvalidOperationException($"{MaxNumberLength} bytes were not enough to format a float.");
        _length += written;
    }

    /// <summary>Writes one ASCII character (a separator or a new line).</summary>
    public void Write(char ascii)
    {
        if (_length == _buffer.Length) Flush();
        _buffer[_length++] = checked((byte)ascii);
    }

    /// <summary>Writes the buffered bytes to the stream and flushes it (nothing when nothing is buffered).</summary>
    public void Flush()
    {
        if (_length == 0) return;
        _stream.Write(_buffer, 0, _length);
        _stream.Flush();
        _length = 0;
    }
}
