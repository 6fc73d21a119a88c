namespace RnnGen.Tests.Samples;

/// <summary>QuickStart and SequenceClassifier take no options: --help ran the whole training; now it prints the usage, and
/// anything else is refused.</summary>
public sealed class SampleArgumentsTests
{
    public static TheoryData<string> Samples => new() { "QuickStart", "SequenceClassifier" };

    [Theory]
    [MemberData(nameof(Samples))]
    public void HelpPrintsTheUsage_AnUnknownArgumentIsRefused_NoneRuns(string sample)
    {
        Func<string[], TextWriter, TextWriter, int?> check = sample == "QuickStart" ? QuickStart.Arguments.Check : SequenceClassifier.Arguments.Check;
        foreach (string help in new[] { "-h", "--help" })
        {
            var output = new StringWriter();
            Assert.Equal(0, check([help], output, TextWriter.Null));
            Assert.StartsWith($"usage: {sample}", output.ToString());
        }
        var error = new StringWriter();
        Assert.Equal(2, check(["--epochs", "3"], TextWriter.Null, error));
        Assert.Contains("unexpected argument '--epochs'", error.ToString());
        Assert.Null(check([], TextWriter.Null, TextWriter.Null));
    }
}
