using System.Globalization;
using System.Text;

namespace StreamingAot;

/// <summary>
/// Reads numbers separated by whitespace, commas or semicolons from a UTF-8 stream, a byte-order mark allowed (one value
/// per line, a CSV column, a row of values...). Blank lines and spaces around separators are allowed; an empty field
/// (<c>1,,2</c>, a line that starts or ends with ',' or ';') is refused, as a token that is not a number is. One line
/// separates its values in one way — by ',', by ';' or by whitespace alone — so that a decimal comma (<c>0,5;1,5</c> or
/// <c>0,5 1,5</c>, which would read as four values) is refused instead of shifting every later value. Reads blocks into
/// one buffer and parses in place: nothing is allocated after construction.
/// </summary>
public sealed class NumberReader
{
    private readonly Stream _stream;
    private readonly byte[] _buffer;
    private int _start;   // first unread byte
    private int _end;     // end of the bytes read so far
    private bool _endOfStream;
    private readonly Action? _beforeRead;
    private bool _bomChecked;
    private byte _delimiter;   // the ',' or ';' after the last value of the line while no value has followed it; else 0
    private byte _lineDelimiter;  // the ',' or ';' this line separates its values with; 0 while it has used none
    private bool _lineSpaced;     // whether two values of this line were separated by whitespace alone

    /// <summary>Creates a reader over <paramref name="stream"/> with a buffer of <paramref name="bufferSize"/> bytes.</summary>
    /// <param name="stream">UTF-8 (or ASCII) text.</param>
    /// <param name="beforeRead">
    /// Called before each read from <paramref name="stream"/>, which may wait for more input: the place to flush the
    /// outputs of the values read so far, so that a live pipe (a sensor, a microphone) sees every result promptly
    /// without a flush per value.
    /// </param>
    /// <param name="bufferSize">Bytes read at a time; also the longest accepted token.</param>
    public NumberReader(Stream stream, Action? beforeRead = null, int bufferSize = 64 * 1024)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 64);
        _stream = stream;
        _beforeRead = beforeRead;
        _buffer = new byte[bufferSize];
    }

    /// <summary>The line of the value read last (1-based), for error messages.</summary>
    public long Line { get; private set; } = 1;

    /// <summary>The place of the value read last on its line (1-based), for error messages.</summary>
    public long Field { get; private set; }

    /// <summary>Reads the next value; false at the end of the stream.</summary>
    /// <exception cref="FormatException">A token is not a finite number, or a field is empty.</exception>
    public bool TryRead(out float value)
    {
        while (true)
        {
            if (!_bomChecked)
            {
                // a UTF-8 byte-order mark (EF BB BF: files saved "UTF-8 with BOM") starts no number; more input is awaited
                // only while what came so far could still be one (a live source's first value is not held back)
                int n = _end - _start;
                bool bomSoFar = (n < 1 || _buffer[_start] == 0xEF) && (n < 2 || _buffer[_start + 1] == 0xBB) && (n < 3 || _buffer[_start + 2] == 0xBF);
                if (bomSoFar && n < 3 && !_endOfStream && Fill()) continue;
                _bomChecked = true;
                if (bomSoFar && n >= 3)
                    _start += 3;
            }
            while (_start < _end && IsSeparator(_buffer[_start]))
            {
                byte separator = _buffer[_start];
                if (separator == (byte)'\n')
                {
                    if (_delimiter != 0) throw EmptyField($"'{(char)_delimiter}' at the end of the line");
                    Line++;
                    Field = 0;
                    _lineDelimiter = 0;
                    _lineSpaced = false;
                }
                else if (separator is (byte)',' or (byte)';')
                {
                    if (_delimiter != 0) throw EmptyField($"no number between '{(char)_delimiter}' and '{(char)separator}'");
                    if (Field == 0) throw EmptyField($"'{(char)separator}' at the start of the line");
                    if (_lineDelimiter != 0 && _lineDelimiter != separator || _lineSpaced) throw MixedSeparators(separator);
                    _delimiter = _lineDelimiter = separator;
                }
                _start++;
            }
            if (_start == _end)
            {
                if (Fill()) continue;
                if (_delimiter != 0) throw EmptyField($"'{(char)_delimiter}' at the end of the input");
                value = 0;
                return false;
            }

            int tokenEnd = _start;
            while (tokenEnd < _end && !IsSeparator(_buffer[tokenEnd])) tokenEnd++;
            if (tokenEnd == _end && !_endOfStream)
            {
                Fill();     // the token may continue in the next block: read more, then scan it again
                continue;
            }

            var token = _buffer.AsSpan(_start, tokenEnd - _start);
            _start = tokenEnd;
            if (Field > 0 && _delimiter == 0)
            {
                _lineSpaced = true; // this value follows the line's previous one after whitespace alone
                if (_lineDelimiter != 0) throw MixedSeparators((byte)' ');
            }
            Field++;
            _delimiter = 0;
            if (!float.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !float.IsFinite(value))
                throw NotANumber(token);
            return true;
        }
    }

    /// <summary>Moves the unread bytes to the front and reads more after them; false when nothing more came.</summary>
    private bool Fill()
    {
        if (_endOfStream) return false;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
            throw new FormatException($"line {Line}, field {Field + 1}: a value longer than {_buffer.Length} bytes; is this a text file of numbers?");
        _beforeRead?.Invoke();
        int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0)
        {
            _endOfStream = true;
            return false;
        }
        _end += read;
        return true;
    }

    // "1,,2" read as 1 2 would shift every later value to another place in its step: an empty field is an error
    private FormatException EmptyField(string what) =>
        new($"line {Line}, field {Field + 1} is empty: {what}. Every field between ',' or ';' needs a number; blank lines and spaces are allowed.");

    // "0,5;1,5" (a decimal comma) would be read as 0 5 1 5, shifting every later value: a line keeps one separator
    private FormatException MixedSeparators(byte separator)
    {
        string Name(byte b) => b == (byte)' ' ? "whitespace alone" : $"'{(char)b}'";
        string first = _lineSpaced && separator != (byte)' ' ? "whitespace alone" : Name(_lineDelimiter);
        return new($"line {Line}, field {Field + 1}: the line separates its values both by {first} and by {Name(separator)}. " +
            "Separate the values of a line in one way; a decimal mark is '.' (0.5;1.5 or 0.5 1.5, not 0,5;1,5).");
    }

    private FormatException NotANumber(ReadOnlySpan<byte> token)
    {
        string shown = Shown(token, out bool binary);
        string length = shown.EndsWith('…') ? $" ({token.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes)" : "";
        string end = binary ? "; is this a text file of numbers?" : ".";
        return new FormatException($"line {Line}, field {Field}: '{shown}'{length} is not a finite number (expected values like 0.25, -1, 3e-2, separated by spaces, tabs, commas, semicolons or new lines){end}");
    }

    /// <summary>Longest text a token is shown with in a message, escapes included, before it is cut with '…'.</summary>
    public const int MaxShownLength = 40;

    /// <summary>
    /// <paramref name="token"/> as readable text for a message: what cannot be seen or would garble a terminal is escaped —
    /// a NUL as <c>\0</c>, other control characters as <c>\x1B</c>, invisible or unassigned characters as <c>\u200B</c>,
    /// bytes that are not UTF-8 as <c>\uFFFD</c>, a backslash as <c>\\</c> — and the text is cut after
    /// <see cref="MaxShownLength"/> characters with '…'.
    /// </summary>
    /// <param name="token">UTF-8 bytes.</param>
    /// <param name="binary">Set when the token holds a control character or a byte that is not UTF-8: not text.</param>
    public static string Shown(ReadOnlySpan<byte> token, out bool binary)
    {
        var text = new StringBuilder();
        binary = false;
        while (!token.IsEmpty)
        {
            if (text.Length >= MaxShownLength)
                return text.Append('…').ToString();
            var status = Rune.DecodeFromUtf8(token, out Rune rune, out int consumed);   // not UTF-8: U+FFFD, consumed ≥ 1
            token = token[consumed..];
            if (status != System.Buffers.OperationStatus.Done) binary = true;
            switch (rune.Value)
            {
                case 0:
                    binary = true;
                    text.Append(@"\0");
                    break;
                case < 0x20 or 0x7F:
                    binary = true;
                    text.Append(@"\x").Append(rune.Value.ToString("X2", CultureInfo.InvariantCulture));
                    break;
                case '\\':
                    text.Append(@"\\");
                    break;
                default:
                    if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                        or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
                        or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator || rune == Rune.ReplacementChar)
                    {
                        if (Rune.IsControl(rune)) binary = true;
                        text.Append(rune.IsBmp ? @"\u" : @"\U").Append(rune.Value.ToString(rune.IsBmp ? "X4" : "X8", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(rune.ToString());
                    }
                    break;
            }
        }
        return text.ToString();
    }

    private static bool IsSeparator(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or (byte)',' or (byte)';';
}
