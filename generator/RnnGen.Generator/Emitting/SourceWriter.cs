using System;
using System.Text;

namespace RnnGen.Generator.Emitting;

/// <summary>An indenting text writer for generated source (four spaces, '\n' line endings).</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    private Func<string, string>? _rewrite;

    /// <summary>Runs <paramref name="body"/> with <paramref name="rewrite"/> applied to every line it writes.</summary>
    public void Rewriting(Func<string, string> rewrite, Action body)
    {
        _rewrite = rewrite;
        try
        {
            body();
        }
        finally
        {
            _rewrite = null;
        }
    }

    /// <summary>Writes one line at the current indentation (an empty line has no trailing spaces).</summary>
    public SourceWriter Line(string line = "")
    {
        if (_rewrite is not null) line = _rewrite(line);
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes several lines (split on '\n') at the current indentation.</summary>
    public SourceWriter Lines(string lines)
    {
        foreach (var line in lines.Replace("\r\n", "\n").Split('\n'))
            Line(line);
        return this;
    }

    /// <summary>Writes <c>{</c> and indents.</summary>
    public SourceWriter Open(string? header = null)
    {
        if (header is not null) Line(header);
        Line("{");
        _indent++;
        return this;
    }

    /// <summary>Unindents and writes <c>}</c> (plus an optional suffix such as <c>;</c>).</summary>
    public SourceWriter Close(string suffix = "")
    {
        if (_indent == 0) throw new InvalidOperationException("Unbalanced Close().");
        _indent--;
        Line("}" + suffix);
        return this;
    }

    public override string ToString() => _text.ToString();
}
