using RnnGen.Generator.Emitting;

namespace RnnGen.Generator.Tests;

/// <summary>The writer's layout rules for generated code: aligned trailing comments and wrapped doc comments.</summary>
public class SourceWriterTests
{
    [Fact]
    public void TrailingCommentsOfConsecutiveLinesStartInOneColumn()
    {
        string text = string.Join("\n",
            "    int a = 1; // one",
            "    int bb = 22;    // two",
            "    int c = 3;",
            "    int d = 4; // alone: not aligned",
            "");
        Assert.Equal(string.Join("\n",
            "    int a = 1;     // one",
            "    int bb = 22;   // two",
            "    int c = 3;",
            "    int d = 4; // alone: not aligned",
            ""), SourceWriter.AlignComments(text));
    }

    [Fact]
    public void AlignmentStopsAtAnotherIndentation_ALongerSpread_QuotesAndCommentLines()
    {
        string[] unchanged =
        [
            // another indentation
            "    int a = 1; // one\n        int b = 2;    // two",
            // more than 32 characters between the shortest and the longest code
            "int a = 1; // one\nint someMuchLongerName = SomeMethodWithALongName(argumentOne, argumentTwo); // two",
            // a quote in the code: a "//" may be inside a string
            "var s = \"http://x\"; // one\nint b = 2;    // two",
            // a comment line, and a doc comment
            "// a comment // with slashes\n/// <summary>x</summary> // y",
        ];
        foreach (string text in unchanged)
            Assert.Equal(text, SourceWriter.AlignComments(text));
    }

    [Fact]
    public void AColumnPastTheLimitIsNotUsed()
    {
        string longCode = "int x = " + new string('1', 110) + ";";
        string text = $"{longCode} // one\n{longCode}1 // two";
        Assert.Equal(text, SourceWriter.AlignComments(text));
    }

    [Fact]
    public void ALongDocCommentIsWrappedWithoutCuttingATag()
    {
        var w = new SourceWriter();
        string text = "<exception cref=\"global::System.ArgumentException\">" + string.Join(" ", Enumerable.Repeat("<paramref name=\"state\"/> is wrong,", 8)) + " always.</exception>";
        w.DocComment(text);
        string[] lines = w.ToString().TrimEnd('\n').Split('\n');
        Assert.True(lines.Length > 1);
        Assert.All(lines, l => Assert.StartsWith("/// ", l));
        Assert.All(lines, l => Assert.True(l.Length <= 4 + 116 + 40, l));
        Assert.Equal(text, string.Join(" ", lines.Select(l => l.Substring(4))));   // the same words, in order, nothing cut

        var shortOne = new SourceWriter();
        shortOne.DocComment("<summary>Short.</summary>");
        Assert.Equal("/// <summary>Short.</summary>\n", shortOne.ToString());
    }
}
