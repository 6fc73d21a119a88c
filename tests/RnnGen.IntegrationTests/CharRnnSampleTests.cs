using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace RnnGen.IntegrationTests;

/// <summary>
/// samples/CharRnn end to end, as a user runs it: trains for a few seconds on a tiny corpus written here, saves a
/// checkpoint with the vocabulary, generates text from it (checked against an independent LSTM), stops cleanly on
/// Ctrl+C and resumes, and refuses corpora it cannot use.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed partial class CharRnnSampleTests(IntegrationFixture fixture, ITestOutputHelper output)
{
    // The sample's default model: [LstmModel(hidden: 128, Input = 128, Output = 128, Tokens = true)].
    private const int Hidden = 128, Capacity = 128;

    // One build of the sample per test run (per fixture), shared by the tests of this class.
    private static readonly ConcurrentDictionary<string, Lazy<string>> Builds = new();

    [Fact]
    public void CharRnn_TrainsOnATinyCorpusForSeconds_AndGenerateWritesItsCharactersOnly()
    {
        string folder = WorkFolder();
        string corpus = TinyCorpus();
        string corpusFile = Path.Combine(folder, "tiny.txt");
        File.WriteAllText(corpusFile, corpus);
        string checkpoint = Path.Combine(folder, "out", "tiny.safetensors");

        // a fixed number of epochs, so that what it learns does not depend on the machine's speed
        var train = RunSample(folder, "--corpus", corpusFile, "--epochs", "40", "--checkpoint", checkpoint, "--sample-every", "100").EnsureSuccess();
        output.WriteLine($"training run: {train.Elapsed.TotalSeconds:F1} s\n{train.StandardOutput}");
        Assert.Contains("Done: all 40 epochs done.", train.StandardOutput);

        // It learned: on the held-out end of the text it beats a model that knows every character's frequency.
        var final = FinalValidation().Match(train.StandardOutput);
        Assert.True(final.Success, $"No 'Validation (…): X bits per character' line:\n{train.StandardOutput}");
        double bits = double.Parse(final.Groups[1].Value, CultureInfo.InvariantCulture);
        double unigram = Entropy(corpus);
        Assert.True(bits < unigram, $"validation: {bits} bits per character; the corpus's character entropy is {unigram:F3} bits.");

        // The checkpoint: PyTorch's tensor names and shapes, the vocabulary (the corpus's characters in code-point order) in the metadata.
        var tensors = SafeTensorsFile.Read(checkpoint);
        Assert.Equal([4 * Hidden, Capacity], tensors["weight_ih_l0"].Shape);
        Assert.Equal([4 * Hidden, Hidden], tensors["weight_hh_l0"].Shape);
        Assert.Equal([Capacity, Hidden], tensors["head.weight"].Shape);
        var metadata = ReadMetadata(checkpoint);
        string vocabulary = string.Concat(corpus.Distinct().Order());
        Assert.Equal(vocabulary, metadata["charrnn.vocabulary"]);
        Assert.Equal("small", metadata["charrnn.model"]);

        // generate: only the corpus's characters, the same text for the same seed.
        string[] sampling = ["generate", "--checkpoint", checkpoint, "--length", "400", "--seed", "5"];
        var generated = RunSample(folder, sampling).EnsureSuccess();
        output.WriteLine($"generated:\n{generated.StandardOutput}");
        string text = generated.StandardOutput;
        Assert.True(text.Length >= 400, $"generate --length 400 wrote {text.Length} characters:\n{text}");
        var foreign = text.Where(c => !vocabulary.Contains(c)).Distinct().ToArray();
        Assert.True(foreign.Length == 0, $"characters that are not in the corpus: {string.Join(" ", foreign.Select(c => $"U+{(int)c:X4}"))}");
        Assert.Equal(text, RunSample(folder, sampling).EnsureSuccess().StandardOutput);
    }

    // The time budget ends a run cleanly, with its checkpoint (a budget of 0.6 s, whatever the machine's speed)
    [Fact]
    public void CharRnn_TheTimeBudget_EndsTheRunWithACheckpoint()
    {
        string folder = WorkFolder();
        string corpusFile = Path.Combine(folder, "tiny.txt");
        File.WriteAllText(corpusFile, TinyCorpus());
        string checkpoint = Path.Combine(folder, "budget.safetensors");
        var run = RunSample(folder, "--corpus", corpusFile, "--minutes", "0.01", "--checkpoint", checkpoint, "--sample-every", "0").EnsureSuccess();
        Assert.Contains("Done: the time budget of 0.01 min is up.", run.StandardOutput);
        Assert.True(File.Exists(checkpoint), run.StandardOutput);
    }

    [Fact]
    public void CharRnn_GreedyGeneration_IsTheArgMaxContinuationOfAnIndependentLstm()
    {
        string folder = WorkFolder();
        string corpusFile = Path.Combine(folder, "tiny.txt");
        File.WriteAllText(corpusFile, TinyCorpus());
        string checkpoint = Path.Combine(folder, "model.safetensors");
        RunSample(folder, "--corpus", corpusFile, "--epochs", "60", "--checkpoint", checkpoint, "--sample-every", "0").EnsureSuccess();

        const string prime = "the cat ";
        const int length = 80;
        var generated = RunSample(folder, "generate", "--checkpoint", checkpoint, "--prime", prime, "--temperature", "0", "--length", length.ToString(CultureInfo.InvariantCulture))
            .EnsureSuccess().StandardOutput;
        Assert.StartsWith(prime, generated);

        // The reference: the checkpoint's tensors in a double-precision LSTM fed one-hot vectors; the id of a character is
        // its position in the vocabulary of the metadata.
        var tensors = SafeTensorsFile.Read(checkpoint);
        string vocabulary = ReadMetadata(checkpoint)["charrnn.vocabulary"];
        var lstm = new ReferenceLstm(name => tensors[name].Values, Capacity, Hidden, 1, Capacity);
        double[] logits = [];
        foreach (char c in prime) logits = lstm.Step(OneHot(vocabulary.IndexOf(c)));
        int compared = 0;
        for (; compared < length; compared++)
        {
            var ranked = logits.Select((value, id) => (value, id)).OrderByDescending(p => p.value).ThenBy(p => p.id).ToArray();
            // float (sample) and double (reference) may order two nearly equal logits differently: compare up to such a tie.
            if (ranked[0].value - ranked[1].value < 1e-3) break;
            char expected = vocabulary[ranked[0].id];
            Assert.True(expected == generated[prime.Length + compared],
                $"character {compared} after the prime: the reference LSTM's most likely character is '{expected}', generate wrote:\n{generated}");
            logits = lstm.Step(OneHot(ranked[0].id));
        }
        output.WriteLine($"{compared} of {length} greedy characters compared:\n{generated}");
        Assert.True(compared >= 20, $"only {compared} characters before a near-tie of the two best logits.");
    }

    [Fact]
    public async Task CharRnn_CtrlC_StopsCleanly_KeepsTheCheckpoint_AndResumeContinuesFromIt()
    {
        if (OperatingSystem.IsWindows()) return;    // SIGINT is sent with kill(1)

        string folder = WorkFolder();
        string corpusFile = Path.Combine(folder, "tiny.txt");
        File.WriteAllText(corpusFile, TinyCorpus());
        string checkpoint = Path.Combine(folder, "model.safetensors");

        var (exitCode, log, stderr) = await RunUntilSignal(folder, corpusFile, checkpoint, "INT");
        // 128 + SIGINT, the shell's code for a run stopped by Ctrl+C, after the checkpoint was saved
        Assert.True(exitCode == 130, $"exit code {exitCode}\n{log}\n{stderr}");
        Assert.Contains("Done: stopped by Ctrl+C.", log);
        long stoppedAt = long.Parse(ReadMetadata(checkpoint)["charrnn.steps"], CultureInfo.InvariantCulture);
        Assert.True(stoppedAt > 0);
        Assert.True(HasTensor(checkpoint, "optimizer.state"), "RMSProp's state is not in the checkpoint"); // a training checkpoint

        var resumed = RunSample(folder, "--resume", "--corpus", corpusFile, "--epochs", "2", "--checkpoint", checkpoint, "--sample-every", "0").EnsureSuccess();
        output.WriteLine(resumed.StandardOutput);
        Assert.Contains($"after {stoppedAt:N0} steps", resumed.StandardOutput);
        Assert.Contains("optimizer state restored", resumed.StandardOutput);
        Assert.Contains("Done: all 2 epochs done.", resumed.StandardOutput);
        Assert.True(long.Parse(ReadMetadata(checkpoint)["charrnn.steps"], CultureInfo.InvariantCulture) > stoppedAt);

        // --lr overrides the checkpoint's learning rate; options that only set up a new model are refused
        var withRate = RunSample(folder, "--resume", "--lr", "0.0007", "--corpus", corpusFile, "--epochs", "1", "--checkpoint", checkpoint, "--sample-every", "0").EnsureSuccess();
        Assert.Contains("Optimizer:  RMSProp lr 0.0007,", withRate.StandardOutput);
        Assert.Contains("learning rate 0.0007 from --lr", withRate.StandardOutput);
        var init = RunSample(folder, "--resume", "--forget-bias", "2", "--corpus", corpusFile, "--checkpoint", checkpoint);
        Assert.True(init.ExitCode == 2, init.Describe());
        Assert.Contains("--init-uniform and --forget-bias set up a new model", init.StandardError);
    }

    // SIGTERM (timeout, docker stop) killed the run with no checkpoint when it came within the first 30 s; it now stops the
    // run as Ctrl+C does, with the checkpoint and exit code 143 (128 + SIGTERM)
    [Fact]
    public async Task CharRnn_SigTerm_StopsCleanly_AndKeepsTheCheckpoint()
    {
        if (OperatingSystem.IsWindows()) return;    // SIGTERM is sent with kill(1)

        string folder = WorkFolder();
        string corpusFile = Path.Combine(folder, "tiny.txt");
        File.WriteAllText(corpusFile, TinyCorpus());
        string checkpoint = Path.Combine(folder, "model.safetensors");

        var (exitCode, log, stderr) = await RunUntilSignal(folder, corpusFile, checkpoint, "TERM");
        Assert.True(exitCode == 143, $"exit code {exitCode}\n{log}\n{stderr}");
        Assert.Contains("Done: stopped by SIGTERM.", log);
        Assert.True(long.Parse(ReadMetadata(checkpoint)["charrnn.steps"], CultureInfo.InvariantCulture) > 0);
        Assert.False(File.Exists(checkpoint + ".lock"));
    }

    // --lr 10 without a clamp: the run diverges; it ended with an unhandled InvalidOperationException (exit 134, a stack
    // trace) when an update made the parameters NaN; now an error line that says what to change, and the best checkpoint
    [Fact]
    public void CharRnn_ADivergingRun_EndsWithAnErrorLine_AndKeepsTheBestCheckpoint()
    {
        var (run, checkpoint) = TrainOnATinyCorpus("--lr", "10", "--clip", "0", "--alpha", "0", "--epochs", "20");
        Assert.True(run.ExitCode == 1, run.Describe());
        Assert.Contains("error: training diverged at epoch ", run.StandardError);
        Assert.Contains($"The best checkpoint so far is kept in {checkpoint}", run.StandardError);
        Assert.Contains("Train again with a lower --lr (now 10) or --clip 5", run.StandardError);
        Assert.DoesNotContain("Unhandled", run.StandardError);
        Assert.DoesNotContain("   at ", run.StandardError);
        Assert.True(double.IsFinite(double.Parse(ReadMetadata(checkpoint)["charrnn.validation-loss"], CultureInfo.InvariantCulture)));
    }

    // --lr 10 without a clamp, RMSProp's default α: the loss explodes but stays finite (thousands of bits per character), so
    // no NaN check fires; the run used to end "Done" with exit 0. Even the best score being worse than a uniform guess is
    // now an error with what to change.
    [Fact]
    public void CharRnn_ARunWhoseLossExplodesButStaysFinite_EndsWithAnErrorLine()
    {
        var (run, _) = TrainOnATinyCorpus("--lr", "10", "--clip", "0", "--epochs", "5");
        Assert.True(run.ExitCode == 1, run.Describe());
        Assert.Contains("error: training diverged: the best validation score, ", run.StandardError);
        Assert.Contains("bits per character, is worse than a uniform guess over the ", run.StandardError);
        Assert.Contains("Train again with a lower --lr (now 10) or --clip 5", run.StandardError);
        Assert.DoesNotContain("NaN", run.StandardError);
    }

    // generate into a pipe whose reader goes away (generate … | head): it stops at once with exit code 0, instead of
    // generating for nobody until --length is done (.NET's console stream ignores EPIPE; the crash probe of 2026-12-01
    // found `generate --length 100000000 | head -c 100` still running after minutes)
    [Fact]
    public async Task CharRnn_GenerateIntoAPipeWhoseReaderHasGone_StopsAtOnce()
    {
        var (train, checkpoint) = TrainOnATinyCorpus("--epochs", "1");
        train.EnsureSuccess();
        var info = new ProcessStartInfo(DotNetHost())
        {
            WorkingDirectory = Path.GetDirectoryName(checkpoint)!, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string argument in new[] { BuildSample(), "generate", "--checkpoint", checkpoint, "--length", "100000000" })
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var start = new char[100];
            await process.StandardOutput.ReadBlockAsync(start);
            process.StandardOutput.Close();                     // the reader goes, as head does
            await Within(process.WaitForExitAsync(), TimeSpan.FromSeconds(30), () => "generate still runs 30 s after its reader went");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}: {await stderr}");
        Assert.DoesNotContain("error", await stderr);
    }

    /// <summary>Starts a training run, sends it SIG<paramref name="signal"/> after its first epoch line, and waits for its end.</summary>
    private async Task<(int ExitCode, string StandardOutput, string StandardError)> RunUntilSignal(string folder, string corpusFile, string checkpoint, string signal)
    {
        var info = new ProcessStartInfo(DotNetHost())
        {
            WorkingDirectory = folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (string argument in new[] { BuildSample(), "--corpus", corpusFile, "--minutes", "10", "--checkpoint", checkpoint })
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var stdout = new StringBuilder();
        var firstEpoch = new TaskCompletionSource();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stdout) stdout.AppendLine(e.Data);
            if (e.Data.StartsWith("epoch", StringComparison.Ordinal)) firstEpoch.TrySetResult();
        };
        var stderr = process.StandardError.ReadToEndAsync();
        process.BeginOutputReadLine();
        try
        {
            await Within(firstEpoch.Task, TimeSpan.FromSeconds(60), () => $"No epoch line within 60 s:\n{stdout}");
            ProcessRunner.Program("kill", [$"-{signal}", process.Id.ToString(CultureInfo.InvariantCulture)], folder).EnsureSuccess();
            await Within(process.WaitForExitAsync(), TimeSpan.FromSeconds(30), () => $"Still running 30 s after SIG{signal}:\n{stdout}");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        string log = stdout.ToString();
        output.WriteLine(log);
        return (process.ExitCode, log, await stderr);
    }

    private static async Task Within(Task task, TimeSpan timeout, Func<string> failure)
    {
        try { await task.WaitAsync(timeout); }
        catch (TimeoutException) { throw new XunitException(failure()); }
    }

    public static TheoryData<string, byte[]?, string> BadCorpora => new()
    {
        { "missing.txt", null, "there is no file" },
        { "empty.txt", [], "the file is empty" },
        { "binary.bin", [0x7F, (byte)'E', (byte)'L', (byte)'F', 0, 1, 2, 3], "the file looks binary (a NUL byte at offset 4)" },
        { "latin1.txt", Encoding.Latin1.GetBytes("caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, " + new string('x', 200)), "the file is not UTF-8 text" },
        { "short.txt", Encoding.UTF8.GetBytes("hello"), "the text has 5 characters; the sample needs at least 100" },
    };

    [Theory]
    [MemberData(nameof(BadCorpora))]
    public void CharRnn_RefusesACorpusItCannotUse_WithoutWritingACheckpoint(string name, byte[]? content, string message)
    {
        string folder = WorkFolder();
        string file = Path.Combine(folder, name);
        if (content is not null) File.WriteAllBytes(file, content);
        string checkpoint = Path.Combine(folder, "model.safetensors");

        var run = RunSample(folder, "--corpus", file, "--checkpoint", checkpoint);
        Assert.True(run.ExitCode == 1, run.Describe());
        Assert.Contains($"--corpus {file}: {message}", run.StandardError);
        Assert.False(File.Exists(checkpoint));
    }

    [Fact]
    public void CharRnn_ReportsAMistypedOption_AndAMissingCheckpoint()
    {
        string folder = WorkFolder();
        var model = RunSample(folder, "--model", "huge");
        Assert.True(model.ExitCode == 2, model.Describe());
        Assert.Contains("--model must be one of small, medium, large; got 'huge'.", model.StandardError);

        var generate = RunSample(folder, "generate", "--checkpoint", Path.Combine(folder, "none.safetensors"));
        Assert.True(generate.ExitCode == 1, generate.Describe());
        Assert.Contains("There is no checkpoint", generate.StandardError);
    }

    /// <summary>
    /// Lines of words from a short list, each ending with a full stop: 16 distinct characters with structure a model can learn
    /// within seconds. Deterministic.
    /// </summary>
    private static string TinyCorpus(int length = 3000)
    {
        string[] words = "the cat sat on a mat and dog ran to log while bird sang".Split(' ');
        var random = new Random(7);
        var text = new StringBuilder();
        while (text.Length < length)
        {
            int count = random.Next(3, 9);
            for (int w = 0; w < count; w++) text.Append(w == 0 ? "" : " ").Append(words[random.Next(words.Length)]);
            text.Append(".\n");
        }
        return text.ToString();
    }

    /// <summary>Entropy in bits of the character distribution of <paramref name="text"/>: what a model that knows only how often
    /// each character occurs scores.</summary>
    private static double Entropy(string text) =>
        -text.GroupBy(c => c).Sum(g => (double)g.Count() / text.Length * Math.Log2((double)g.Count() / text.Length));

    private static double[] OneHot(int id)
    {
        Assert.True(id >= 0, "a prime character is not in the vocabulary");
        var x = new double[Capacity];
        x[id] = 1;
        return x;
    }

    /// <summary>The <c>__metadata__</c> strings of a safetensors file, read from the format's description (not with RnnGen).</summary>
    private static Dictionary<string, string> ReadMetadata(string path)
    {
        using var header = ReadHeader(path);
        return header.RootElement.GetProperty("__metadata__").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    private static bool HasTensor(string path, string name)
    {
        using var header = ReadHeader(path);
        return header.RootElement.TryGetProperty(name, out _);
    }

    private static JsonDocument ReadHeader(string path)
    {
        byte[] file = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(file);
        return JsonDocument.Parse(file.AsMemory(8, checked((int)headerLength)));
    }

    // A corpus that gained characters since the checkpoint was written: --resume is refused with what to do, the
    // checkpoint untouched (the crash probe of 2026-12-01 got "The text has 2 character(s) …", naming neither file)
    [Fact]
    public void CharRnn_ResumingOnACorpusWithNewCharacters_IsRefusedWithWhatToDo()
    {
        var (first, checkpoint) = TrainOnATinyCorpus("--epochs", "1");
        first.EnsureSuccess();
        string folder = Path.GetDirectoryName(checkpoint)!, corpusFile = Path.Combine(folder, "tiny.txt");
        byte[] saved = File.ReadAllBytes(checkpoint);
        File.AppendAllText(corpusFile, "Zé\n");

        var resumed = RunSample(folder, "--checkpoint", checkpoint, "--resume", "--epochs", "1", "--sample-every", "0", "--plain");

        Assert.Equal(1, resumed.ExitCode);
        Assert.Contains($"error: The corpus, {corpusFile} (", resumed.StandardError);
        Assert.Contains("has 2 character(s) that are not in the model's vocabulary: 'Z' 'é'. --resume keeps the vocabulary of " +
            $"{checkpoint}: resume on the text it was trained on, or train afresh on this one", resumed.StandardError);
        Assert.Equal(saved, File.ReadAllBytes(checkpoint));
    }

    // A training run on a corpus of 16,000 characters in a folder of its own, with `options`: its result and checkpoint path.
    private (ProcessResult Run, string Checkpoint) TrainOnATinyCorpus(params string[] options)
    {
        string folder = WorkFolder();
        string corpusFile = Path.Combine(folder, "tiny.txt");
        File.WriteAllText(corpusFile, TinyCorpus(16_000));
        string checkpoint = Path.Combine(folder, "model.safetensors");
        return (RunSample(folder, ["--corpus", corpusFile, "--checkpoint", checkpoint, .. options, "--sample-every", "0", "--plain"]), checkpoint);
    }

    private ProcessResult RunSample(string folder, params string[] arguments) =>
        ProcessRunner.DotNet(folder, [BuildSample(), .. arguments]);

    /// <summary>Builds samples/CharRnn (Release) into the fixture's artifacts folder once; returns the path of CharRnn.dll.</summary>
    private string BuildSample() => Builds.GetOrAdd(fixture.Root, _ => new Lazy<string>(() =>
    {
        string project = Path.Combine(TestEnvironment.RepoRoot, "samples", "CharRnn", "CharRnn.csproj");
        var build = ProcessRunner.DotNet(Path.GetDirectoryName(project)!,
            "build", project, "-c", "Release", "--tl:off", "--artifacts-path", fixture.ArtifactsPath, $"-p:Version={fixture.Version}").EnsureSuccess();
        output.WriteLine($"build of samples/CharRnn: {build.Elapsed.TotalSeconds:F1} s");
        string dll = Path.Combine(fixture.ArtifactsPath, "bin", "CharRnn", "release", "CharRnn.dll");
        if (!File.Exists(dll)) throw new XunitException($"The build produced no {dll}.\n{build.Describe()}");
        return dll;
    })).Value;

    private static string DotNetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }

    private string WorkFolder()
    {
        string folder = Path.Combine(fixture.Root, "charrnn-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    [GeneratedRegex(@"^Validation \(the last 5 %, [0-9,]+ characters predicted\): ([0-9.]+) bits per character", RegexOptions.Multiline)]
    private static partial Regex FinalValidation();
}
