using System;
using System.Text;

namespace RnnGen.Generator.Emitting;

/// <summary>An indenting text writer for generated source (four spaces, '\n' line endings).</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    /// <summary>A rewrite applied to every line written while it is set (null: none).</summary>
    public Func<string, string>? Rewrite { get; set; }

    /// <summary>Writes one line at the current indentation (an empty line has no trailing spaces).</summary>
    public SourceWriter Line(string line = "")
    {
        if (Rewrite is not null) line = Rewrite(line);
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
