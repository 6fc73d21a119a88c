using System.Globalization;
using System.Text;
using StreamingAot;

namespace RnnGen.Tests.Samples;

/// <summary>
/// samples/StreamingAot in process (App.Run over memory streams): its command line, its input reader and its messages.
/// The NativeAOT binary itself is published and run by RnnGen.IntegrationTests/StreamingAotTests.
/// </summary>
public sealed class StreamingAotTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "streaming-aot-" + Guid.NewGuid().ToString("N"));

    public StreamingAotTests() => Directory.CreateDirectory(_folder);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void InitThenStream_WritesOneOutputPerValue_AndTheStatisticsToStandardError()
    {
        string model = InitModel();
        var (code, output, error) = Run([model], "0.5\n-0.25, 1\n2\t3\n");
        Assert.True(code == 0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
        Assert.All(lines, line => Assert.True(float.IsFinite(float.Parse(line, CultureInfo.InvariantCulture)), line));
        Assert.Contains("steps: 5 ", error);
        Assert.DoesNotContain("error", error);
    }

    [Fact]
    public void ABadNumber_StopsTheStream_WithItsLine_AfterTheOutputsBeforeIt()
    {
        string model = InitModel();
        var (code, output, error) = Run([model], "0.5\n1.5\nabc\n");
        Assert.Equal(1, code);
        Assert.Equal(2, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.StartsWith("error: line 3, field 1: 'abc' is not a finite number", error);
    }

    // -h / --help print the usage wherever they stand: after an option that takes a value ("--init -h" wrote a model
    // file named -h) and beside arguments that are wrong (the error came first)
    [Theory]
    [InlineData("-h")]
    [InlineData("--help")]
    [InlineData("--init -h")]
    [InlineData("--init @m.safetensors --seed --help")]
    [InlineData("@model.safetensors --bogus -h")]
    [InlineData("--quiet --quiet --help")]
    public void Help_PrintsTheUsageOnStandardOutput_AndDoesNothingElse(string commandLine)
    {
        var (code, output, error) = Run(InFolder(commandLine.Split(' ')));
        Assert.True(code == 0, error);
        Assert.StartsWith("usage: StreamingAot --init MODEL", output);
        Assert.Equal("", error);
        Assert.Empty(Directory.GetFileSystemEntries(_folder));
        Assert.False(File.Exists("-h"));
    }

    // a folder as INPUT: "Access to the path '…/w' is denied."
    [Fact]
    public void AFolderAsInput_IsReportedAsAFolder()
    {
        string model = InitModel();
        string folder = Path.Combine(_folder, "w");
        Directory.CreateDirectory(folder);
        var (code, output, error) = Run([model, folder], "1\n");
        Assert.Equal(1, code);
        Assert.Equal($"error: cannot read '{folder}': it is a folder, not a file.\n", error.ReplaceLineEndings("\n"));
        Assert.Equal("", output);
    }

    [Fact]
    public void AFolderAsModel_OrAsTheFileOfInit_IsReportedAsAFolder()
    {
        var (code, _, error) = Run([_folder], "1\n");
        Assert.Equal(1, code);
        Assert.Contains($"'{_folder}': it is a folder", error);
        (code, _, error) = Run(["--init", _folder]);
        Assert.Equal(1, code);
        Assert.Contains($"'{_folder}': it is a folder", error);
    }

    // a model read from a pipe (StreamingAot <(gunzip -c model.safetensors.gz)) crashed: "Stream does not support seeking"
    [Fact]
    public async Task AModelFromAPipe_IsRead_AndABadOneIsReportedByItsName()
    {
        if (!OperatingSystem.IsLinux()) return;
        string model = InitModel();
        var (_, expected, _) = Run([model], "0.5 1\n");
        byte[] bytes = File.ReadAllBytes(model);
        foreach (var (content, good) in new[] { (bytes, true), (bytes[..100], false) })
        {
            string fifo = Path.Combine(_folder, "model.fifo");
            Assert.Equal(0, MakeFifo(fifo, 0x180));   // 0600
            var writer = Task.Run(() => { try { File.WriteAllBytes(fifo, content); } catch (IOException) { } });
            var (code, output, error) = Run([fifo], "0.5 1\n");
            // a writer the program never met waits to open the pipe: meet it, so it can finish. (Not after it finished: a reader
            // that opens a pipe no writer will open waits for ever, and IsCompleted can still be false just after it wrote.)
            if (await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(10))) != writer)
                using (File.OpenRead(fifo)) { }
            await writer.WaitAsync(TimeSpan.FromSeconds(20));
            File.Delete(fifo);
            if (good)
            {
                Assert.True(code == 0, error);
                Assert.Equal(expected, output);
            }
            else
            {
                Assert.Equal(1, code);
                Assert.StartsWith($"error: model file '{fifo}': ", error);
            }
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, uint mode);

    // a binary input: its raw bytes, NULs and escape characters included, were printed as the bad token
    [Fact]
    public void ABinaryToken_IsShownEscaped_AndShortened()
    {
        string model = InitModel();
        byte[] binary = [.. "1 "u8, 0, 0, 0x1B, 0xFF, (byte)'\\', 0xE2, 0x80, 0x8B, 0xC2, 0x85, .. Enumerable.Repeat((byte)'A', 5000), .. " 2"u8];
        var (code, _, error) = Run([model], binary);
        Assert.Equal(1, code);
        Assert.StartsWith(@"error: line 1, field 2: '\0\0\x1B\uFFFD\\\u200B\u0085AAAA", error);
        Assert.Contains("…' (5,010 bytes) is not a finite number", error);
        Assert.DoesNotContain(error, c => c < ' ' && c != '\n' && c != '\r' || c is '\uFFFD' or '\u200B' or '\u0085');
        Assert.True(error.Length < 400, $"{error.Length} characters: {error}");
        Assert.Contains("is this a text file of numbers?", error);
    }

    [Theory]
    [InlineData("−1", "−1", false)]                                   // U+2212, a minus sign that is not '-': visible
    [InlineData("2\u00A0", @"2\u00A0", false)]                       // a no-break space
    [InlineData("1\u202E0", @"1\u202E0", false)]                     // a right-to-left override would reverse the rest of the line
    [InlineData("\U000F0000x", @"\U000F0000x", false)]               // private use, outside the BMP
    [InlineData("😀", "😀", false)]
    [InlineData("a\u007F", @"a\x7F", true)]
    public void Shown_EscapesWhatCannotBeSeen(string token, string shown, bool binary)
    {
        Assert.Equal(shown, NumberReader.Shown(Encoding.UTF8.GetBytes(token), out bool isBinary));
        Assert.Equal(binary, isBinary);
    }

    [Fact]
    public void Shown_CutsALongToken()
    {
        Assert.Equal(new string('7', NumberReader.MaxShownLength), NumberReader.Shown(Encoding.UTF8.GetBytes(new string('7', NumberReader.MaxShownLength)), out _));
        Assert.Equal(new string('7', NumberReader.MaxShownLength) + "…", NumberReader.Shown(Encoding.UTF8.GetBytes(new string('7', NumberReader.MaxShownLength + 1)), out _));
    }

    [Fact]
    public void APrintableToken_IsShownAsItIs()
    {
        string model = InitModel();
        var (code, _, error) = Run([model], "1\n2 3e5x\n");
        Assert.Equal(1, code);
        Assert.StartsWith("error: line 2, field 2: '3e5x' is not a finite number (expected", error);
        Assert.DoesNotContain("text file", error);
    }

    // --seed without --init and --quiet with --init were ignored without a word
    [Theory]
    [InlineData(new[] { "@model.safetensors", "--seed", "3" }, "--seed applies to --init only")]
    [InlineData(new[] { "--seed", "3" }, "--seed applies to --init only")]
    [InlineData(new[] { "--init", "@new.safetensors", "--quiet" }, "--quiet applies to streaming (StreamingAot MODEL [INPUT]) only, not to --init")]
    public void AnOptionOfTheOtherCommand_IsRefused_WithWhatItAppliesTo(string[] args, string message) =>
        AssertUsageError(args, message);

    // "--init a --init b" kept b without a word
    [Theory]
    [InlineData(new[] { "--init", "@a.safetensors", "--init", "@b.safetensors" }, "--init is given twice")]
    [InlineData(new[] { "--init", "@a.safetensors", "--seed", "1", "--seed", "2" }, "--seed is given twice")]
    [InlineData(new[] { "@model.safetensors", "--quiet", "--quiet" }, "--quiet is given twice")]
    public void AnOptionGivenTwice_IsRefused(string[] args, string message) => AssertUsageError(args, message);

    // "--init --seed 3" wrote a model file named --seed
    [Theory]
    [InlineData(new[] { "--init" }, "--init needs a file name: --init MODEL.")]
    [InlineData(new[] { "--init", "--seed", "3" }, "--init needs a file name, not '--seed'")]
    [InlineData(new[] { "--init", "@a.safetensors", "--seed" }, "--seed needs an integer: --seed N.")]
    [InlineData(new[] { "--init", "@a.safetensors", "--seed", "x" }, "--seed needs an integer, not 'x'.")]
    [InlineData(new[] { "@model.safetensors", "-q" }, "unknown option '-q'.")]
    [InlineData(new[] { "@model.safetensors", "@in.txt", "@more.txt" }, "unexpected argument '")]
    [InlineData(new[] { "--init", "@a.safetensors", "@model.safetensors" }, "--init takes no MODEL or INPUT argument.")]
    [InlineData(new string[0], "no model file given.")]
    public void OtherUsageErrors_SayWhatIsWrong(string[] args, string message) => AssertUsageError(args, message);

    // "1,,2" was read as 1 2: the empty field was skipped without a word, and every later value shifted a field
    [Theory]
    [InlineData("1,,2\n", "line 1, field 2 is empty: no number between ',' and ','.")]
    [InlineData("1\n2 ; , 3\n", "line 2, field 2 is empty: no number between ';' and ','.")]
    [InlineData(",1\n", "line 1, field 1 is empty: ',' at the start of the line.")]
    [InlineData("1\n2\n  ;3\n", "line 3, field 1 is empty: ';' at the start of the line.")]
    [InlineData("1, 2,\n3\n", "line 1, field 3 is empty: ',' at the end of the line.")]
    [InlineData("1, 2,\r\n3\n", "line 1, field 3 is empty: ',' at the end of the line.")]
    [InlineData("1;2;", "line 1, field 3 is empty: ';' at the end of the input.")]
    public void AnEmptyField_IsRefused_WithItsLineAndField(string input, string message)
    {
        string model = InitModel();
        var (code, _, error) = Run([model], input);
        Assert.Equal(1, code);
        Assert.StartsWith("error: " + message, error);
    }

    [Fact]
    public void SpacesAroundSeparators_AndBlankLines_AreNotEmptyFields()
    {
        string model = InitModel();
        var (code, output, error) = Run([model], "\n1 , 2\t,3\r\n\r\n \n4 ;5\n\n6 7\n");
        Assert.True(code == 0, error);
        Assert.Equal(7, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    // "0,5;1,5" (a decimal comma) was read as 0 5 1 5: twice the values, each in the wrong place
    [Theory]
    [InlineData("0,5;1,5\n", "line 1, field 3: the line separates its values both by ',' and by ';'.")]
    [InlineData("1\n0,5 1,5\n", "line 2, field 3: the line separates its values both by ',' and by whitespace alone.")]
    [InlineData("1 2, 3\n", "line 1, field 3: the line separates its values both by whitespace alone and by ','.")]
    [InlineData("1;2\n3\t4;5\n", "line 2, field 3: the line separates its values both by whitespace alone and by ';'.")]
    public void ALineThatMixesSeparators_IsRefused_AsADecimalCommaWouldBe(string input, string message)
    {
        string model = InitModel();
        var (code, _, error) = Run([model], input);
        Assert.Equal(1, code);
        Assert.StartsWith("error: " + message, error);
        Assert.Contains("a decimal mark is '.'", error);
    }

    [Fact]
    public void TheReader_FindsEmptyFieldsAndValues_WhenTheInputComesOneByteAtATime()
    {
        var reader = new NumberReader(new OneByteAtATime("1, 2\n\n3 ;4\n5;\r\n6"u8.ToArray()), bufferSize: 64);
        var values = new List<float>();
        var error = Assert.Throws<FormatException>(() => { while (reader.TryRead(out float value)) values.Add(value); });
        Assert.Equal([1f, 2f, 3f, 4f, 5f], values);
        Assert.StartsWith("line 4, field 2 is empty: ';' at the end of the line.", error.Message);

        reader = new NumberReader(new OneByteAtATime("\uFEFF1, 2\n\n3 ;4\r\n5"u8.ToArray()), bufferSize: 64);
        values.Clear();
        while (reader.TryRead(out float value)) values.Add(value);
        Assert.Equal([1f, 2f, 3f, 4f, 5f], values);
    }

    private sealed class OneByteAtATime(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
    }

    private void AssertUsageError(string[] args, string message)
    {
        var (code, output, error) = Run(InFolder(args));
        Assert.True(code == 2, $"exit code {code}: {error}");
        Assert.StartsWith("error: " + message, error);
        Assert.Contains("usage: StreamingAot", error);
        Assert.Equal("", output);
        Assert.Empty(Directory.GetFileSystemEntries(_folder));   // no model file written
        Assert.False(File.Exists("--seed"));
    }

    // "@name": a file in this test's folder
    private string[] InFolder(string[] args) =>
        args.Select(arg => arg.StartsWith('@') ? Path.Combine(_folder, arg[1..]) : arg).ToArray();

    private string InitModel(int seed = 1)
    {
        string model = Path.Combine(_folder, $"model-{seed}.safetensors");
        var (code, _, error) = Run(["--init", model, "--seed", seed.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(code == 0 && File.Exists(model), error);
        return model;
    }

    private static (int Code, string Output, string Error) Run(string[] args, string input = "") =>
        Run(args, Encoding.UTF8.GetBytes(input));

    private static (int Code, string Output, string Error) Run(string[] args, byte[] input)
    {
        var output = new MemoryStream();
        var error = new StringWriter();
        int code = App.Run(args, new MemoryStream(input), output, error);
        Assert.DoesNotContain("   at ", error.ToString());   // no stack trace
        return (code, Encoding.UTF8.GetString(output.ToArray()), error.ToString());
    }
}
