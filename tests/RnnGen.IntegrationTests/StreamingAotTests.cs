using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RnnGen.IntegrationTests;

/// <summary>
/// samples/StreamingAot as a NativeAOT binary: publishes without warnings, writes a model file, streams values
/// through it with the outputs of an independent reference, allocates nothing per step, rejects bad input.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed partial class StreamingAotTests(IntegrationFixture fixture, ITestOutputHelper output)
{
    // The sample's model: [LstmModel(hidden: 32, Input = 1, Output = 1)], float.
    private const int Hidden = 32;

    [Fact]
    public void StreamingAot_PublishesWithNativeAot_WithoutWarnings()
    {
        var native = fixture.StreamingNative;
        output.WriteLine($"publish: {native.Publish.Elapsed.TotalSeconds:F1} s; native binary: {NativeAot.Size(native.Executable)}");
        NativeAot.AssertNoTrimOrAotWarnings(native.Publish);
    }

    [Fact]
    public void StreamingAot_InitWritesAModelFile_AndStreamingStdinGivesTheReferenceOutputs()
    {
        string folder = WorkFolder();
        string model = InitModel(folder, seed: 3);

        var tensors = SafeTensorsFile.Read(model);
        foreach (var (name, length) in ReferenceLstm.Tensors(1, Hidden, 1, 1))
        {
            Assert.True(tensors.ContainsKey(name), $"{model} has no tensor '{name}'; it has {string.Join(", ", tensors.Keys)}.");
            Assert.Equal("F32", tensors[name].DType);
            Assert.Equal(length, tensors[name].Values.Length);
        }
        Assert.Equal([4 * Hidden, Hidden], tensors["weight_hh_l0"].Shape);
        Assert.Equal([1, Hidden], tensors["head.weight"].Shape);
        Assert.Contains(tensors["weight_hh_l0"].Values, v => v != 0);   // initialised, not zeros

        // 300 values, as float round-trip text after a UTF-8 byte-order mark (a file saved "UTF-8 with BOM"): one per line,
        // then lines of five separated by commas, tabs, semicolons or spaces (one kind per line, as the reader requires)
        float[] values = Enumerable.Range(0, 300).Select(t => (float)(Math.Sin(0.1 * t) + 0.3 * Math.Cos(0.37 * t))).ToArray();
        string[] kinds = ["\n", ", ", "\t", "; ", " "];
        var input = new StringBuilder("\uFEFF");
        for (int t = 0; t < values.Length; t++)
            input.Append(values[t].ToString("R", CultureInfo.InvariantCulture)).Append(t % 5 == 4 ? "\n" : kinds[t / 5 % kinds.Length]);

        var run = ProcessRunner.Program(fixture.StreamingNative.Executable, [model], folder, input.ToString()).EnsureSuccess();
        output.WriteLine(run.StandardError);

        string[] lines = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(values.Length, lines.Length);
        var reference = new ReferenceLstm(name => tensors[name].Values, 1, Hidden, 1, 1);
        for (int t = 0; t < values.Length; t++)
        {
            double expected = reference.Step([values[t]])[0];
            float actual = float.Parse(lines[t], CultureInfo.InvariantCulture);
            // float arithmetic over 33-term dot products of values below 1: errors of a few 1e-7; 1e-5 leaves room.
            Assert.True(Math.Abs(actual - expected) <= 1e-5, $"step {t}: the binary printed {actual:R}, the reference LSTM gives {expected:R}.");
        }

        Assert.Contains($"steps: {values.Length} ", run.StandardError);
        Assert.Contains("allocated after the first step: 0 bytes", run.StandardError);
    }

    [Fact]
    public void StreamingAot_StreamsAFileWithoutAllocating_AndReportsMicrosecondsPerStep()
    {
        string folder = WorkFolder();
        string model = InitModel(folder, seed: 1);
        string input = Path.Combine(folder, "input.txt");
        File.WriteAllLines(input, Enumerable.Range(0, 50_000).Select(t => Math.Sin(0.01 * t).ToString("F6", CultureInfo.InvariantCulture)));

        var run = ProcessRunner.Program(fixture.StreamingNative.Executable, [model, input, "--quiet"], folder).EnsureSuccess();
        output.WriteLine(run.StandardError);

        Assert.Equal("", run.StandardOutput);
        Assert.Contains("steps: 50000 ", run.StandardError);
        Assert.Contains("allocated after the first step: 0 bytes", run.StandardError);
        var step = StepTime().Match(run.StandardError);
        Assert.True(step.Success, $"No 'Step: … µs per step' line:\n{run.StandardError}");
        Assert.True(double.Parse(step.Groups[1].Value, CultureInfo.InvariantCulture) > 0);
    }

    [Fact]
    public async Task StreamingAot_AnswersEachValueOfALivePipe_BeforeTheNextArrives()
    {
        string folder = WorkFolder();
        string model = InitModel(folder, seed: 2);
        var reference = new ReferenceLstm(name => SafeTensorsFile.Read(model)[name].Values, 1, Hidden, 1, 1);

        var info = new ProcessStartInfo(fixture.StreamingNative.Executable)
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(model);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            foreach (float value in new[] { 0.5f, -0.25f, 1f })
            {
                // The pipe stays open: the output must come now, not when the input ends.
                await process.StandardInput.WriteAsync(value.ToString("R", CultureInfo.InvariantCulture) + "\n");
                await process.StandardInput.FlushAsync();
                string? line = await Within(process.StandardOutput.ReadLineAsync(), $"the output for {value} while the input stays open");
                double expected = reference.Step([value])[0];
                Assert.True(line is not null && Math.Abs(float.Parse(line, CultureInfo.InvariantCulture) - expected) <= 1e-5,
                    $"value {value}: the binary printed '{line}', the reference LSTM gives {expected:R}.");
            }
            process.StandardInput.Close();
            string log = await Within(stderr, "the end of the program after its input was closed");
            await Within(process.WaitForExitAsync().ContinueWith(_ => true), "the exit of the program");
            Assert.True(process.ExitCode == 0, log);
            Assert.Contains("steps: 3 ", log);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    private static async Task<T> Within<T>(Task<T> task, string what)
    {
        try { return await task.WaitAsync(TimeSpan.FromSeconds(20)); }
        catch (TimeoutException) { throw new Xunit.Sdk.XunitException($"Waited 20 s for {what}."); }
    }

    [Theory]
    [InlineData("0.5\n1.5\nabc\n", "line 3, field 1: 'abc' is not a finite number")]
    [InlineData("0.5 NaN", "line 1, field 2: 'NaN' is not a finite number")]
    public void StreamingAot_RejectsBadInput_WithTheLineAndTheToken(string input, string message)
    {
        string folder = WorkFolder();
        string model = InitModel(folder, seed: 1);
        var run = ProcessRunner.Program(fixture.StreamingNative.Executable, [model], folder, input);
        Assert.True(run.ExitCode == 1, run.Describe());
        Assert.Contains(message, run.StandardError);
    }

    // What a tester met running the binary, in one test (each case is one short process): every message one line of
    // text with no stack trace, with the exit code of its kind (1: an error, 2: a usage error).
    [Fact]
    public void StreamingAot_ExplainsBadFilesInputAndCommandLines_WithoutStackTraces()
    {
        string folder = WorkFolder();
        string model = InitModel(folder, seed: 1);
        string binary = Path.Combine(folder, "input.bin");
        File.WriteAllBytes(binary, [.. "1 "u8, 0, 0, 0x1B, 0xFF, .. Enumerable.Repeat((byte)'A', 3000), .. " 2"u8]);
        string subfolder = Directory.CreateDirectory(Path.Combine(folder, "w")).FullName;
        var cases = new (string[] Args, string? Input, int Code, string Message)[]
        {
            ([model, subfolder], null, 1, $"error: cannot read '{subfolder}': it is a folder, not a file."),
            ([model, binary], null, 1, @"error: line 1, field 2: '\0\0\x1B\uFFFDAAAA"),
            ([model], "1,,2\n", 1, "error: line 1, field 2 is empty: no number between ',' and ','."),
            ([model, "--seed", "3"], "1\n", 2, "error: --seed applies to --init only"),
            (["--init", Path.Combine(folder, "other.safetensors"), "--quiet"], null, 2, "error: --quiet applies to streaming"),
            (["--init", Path.Combine(folder, "a"), "--init", Path.Combine(folder, "b")], null, 2, "error: --init is given twice"),
            ([model, "--force"], "1\n", 2, "error: --force applies to --init only"),
            // an existing file may be a trained model: kept (checked below) unless --force
            (["--init", model, "--seed", "2"], null, 1, $"error: {model} exists, and --init would replace it with an untrained model; give another file name, or add --force"),
        };
        foreach (var (args, input, code, message) in cases)
        {
            var run = ProcessRunner.Program(fixture.StreamingNative.Executable, args, folder, input);
            Assert.True(run.ExitCode == code, run.Describe());
            Assert.StartsWith(message, run.StandardError);
            Assert.DoesNotContain("   at ", run.StandardError);
            Assert.DoesNotContain(run.StandardError, c => c < ' ' && c is not '\n' and not '\r');
        }
        Assert.False(File.Exists(Path.Combine(folder, "other.safetensors")) || File.Exists(Path.Combine(folder, "a")) || File.Exists(Path.Combine(folder, "b")));
        byte[] seeded1 = File.ReadAllBytes(model);
        Assert.Equal(seeded1, File.ReadAllBytes(InitModel(Directory.CreateDirectory(Path.Combine(folder, "again")).FullName, seed: 1))); // --init is deterministic: the refusal kept seed 1's file
        ProcessRunner.Program(fixture.StreamingNative.Executable, ["--init", model, "--seed", "2", "--force"], folder).EnsureSuccess();
        Assert.NotEqual(seeded1, File.ReadAllBytes(model));

        foreach (string help in new[] { "-h", "--help" })
        {
            var run = ProcessRunner.Program(fixture.StreamingNative.Executable, ["--init", help], folder).EnsureSuccess();
            Assert.StartsWith("usage: StreamingAot", run.StandardOutput);
            Assert.Equal("", run.StandardError);
        }
    }

    [Fact]
    public void StreamingAot_ReportsAMissingModelFile()
    {
        string folder = WorkFolder();
        var run = ProcessRunner.Program(fixture.StreamingNative.Executable, [Path.Combine(folder, "missing.safetensors")], folder, "1\n");
        Assert.True(run.ExitCode == 1, run.Describe());
        Assert.Contains("missing.safetensors", run.StandardError);
    }

    private string WorkFolder()
    {
        string folder = Path.Combine(fixture.Root, "streaming-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private string InitModel(string folder, int seed)
    {
        string model = Path.Combine(folder, "model.safetensors");
        var init = ProcessRunner.Program(fixture.StreamingNative.Executable,
            ["--init", model, "--seed", seed.ToString(CultureInfo.InvariantCulture)], folder).EnsureSuccess();
        Assert.True(File.Exists(model), init.Describe());
        return model;
    }

    [GeneratedRegex(@"^Step: ([0-9.]+) µs per step", RegexOptions.Multiline)]
    private static partial Regex StepTime();
}
