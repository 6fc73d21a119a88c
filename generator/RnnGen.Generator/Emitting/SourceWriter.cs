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

    /// <summary>The width (after the indentation) that <see cref="DocComment"/> wraps its text to.</summary>
    private const int DocWidth = 116;

    /// <summary>A doc comment up to this long (after the indentation) stays on one line: no line of a few words after it.</summary>
    private const int DocMaxLine = 150;

    /// <summary>
    /// Writes <paramref name="text"/> as a <c>///</c> line, or, when it is longer than <see cref="DocMaxLine"/>, as lines
    /// wrapped at spaces to <see cref="DocWidth"/> characters; an XML tag (<c>&lt;paramref name="x"/&gt;</c>) is never cut.
    /// </summary>
    public SourceWriter DocComment(string text)
    {
        if (4 + text.Length <= DocMaxLine)
            return Line("/// " + text);
        var line = new StringBuilder("///");
        int start = 0;
        while (start < text.Length)
        {
            // the next word: up to a space outside of a tag
            int end = start, depth = 0;
            while (end < text.Length && (text[end] != ' ' || depth > 0))
            {
                if (text[end] == '<') depth++;
                else if (text[end] == '>' && depth > 0) depth--;
                end++;
            }
            string word = text.Substring(start, end - start);
            if (line.Length > 3 && line.Length + 1 + word.Length > DocWidth)
            {
                Line(line.ToString());
                line.Clear().Append("///");
            }
            line.Append(' ').Append(word);
            start = end + 1;
        }
        return Line(line.ToString());
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

    /// <summary>The text, with the trailing comments of consecutive lines aligned (<see cref="AlignComments"/>).</summary>
    public override string ToString() => AlignComments(_text.ToString());

    /// <summary>Past this column, trailing comments are left where they are rather than pushed out to a long neighbour's end.</summary>
    private const int MaxCommentColumn = 120;

    /// <summary>Lines whose code lengths differ by more than this are not aligned with each other (a short line would trail
    /// a long gap to a long neighbour's comment column).</summary>
    private const int MaxSpread = 32;

    /// <summary>
    /// Aligns trailing comments: in every run of consecutive lines of one indentation that each end in a comment after code
    /// (<c>code;   // comment</c>, no quote in the code), cut where a line's code is more than <see cref="MaxSpread"/>
    /// characters longer or shorter than the others', the comments of each part of two or more lines start in one column,
    /// three spaces after its longest code, unless that column would pass <see cref="MaxCommentColumn"/>.
    /// </summary>
    internal static string AlignComments(string text)
    {
        string[] lines = text.Split('\n');
        int i = 0;
        while (i < lines.Length)
        {
            if (!TrailingComment(lines[i], out string first, out _))
            {
                i++;
                continue;
            }
            int indent = Indentation(lines[i]), end = i + 1, shortest = first.Length, longest = first.Length;
            while (end < lines.Length && Indentation(lines[end]) == indent && TrailingComment(lines[end], out string code, out _)
                   && Math.Max(longest, code.Length) - Math.Min(shortest, code.Length) <= MaxSpread)
            {
                shortest = Math.Min(shortest, code.Length);
                longest = Math.Max(longest, code.Length);
                end++;
            }
            if (end - i >= 2 && longest + 3 <= MaxCommentColumn)
            {
                for (int k = i; k < end; k++)
                {
                    TrailingComment(lines[k], out string code, out string comment);
                    lines[k] = code.PadRight(longest + 3) + comment;
                }
            }
            i = end;
        }
        return string.Join("\n", lines);
    }

    // A line of code followed by a comment: the code without its trailing spaces, and the comment from its "//".
    private static bool TrailingComment(string line, out string code, out string comment)
    {
        code = comment = "";
        int at = line.IndexOf(" //", StringComparison.Ordinal);
        if (at < 0) return false;
        string before = line.Substring(0, at).TrimEnd();
        if (before.Trim().Length == 0 || before.IndexOf('"') >= 0 || before.IndexOf('\'') >= 0 || before.TrimStart().StartsWith("//", StringComparison.Ordinal))
            return false;
        code = before;
        comment = line.Substring(at + 1);
        return true;
    }

    private static int Indentation(string line)
    {
        int n = 0;
        while (n < line.Length && line[n] == ' ') n++;
        return n;
    }
}
