using System.Text;
using RnnGen;

namespace CharRnn;

/// <summary>
/// <c>generate</c>: loads a checkpoint into the model class it was trained as and streams text to stdout with RnnGen's
/// <see cref="TokenGenerator{TModel, T}"/> (the prime, then one sampled character at a time). Everything else goes to stderr,
/// so the text can be piped on.
/// </summary>
public sealed class GenerateCommand(GenerateSettings settings, CheckpointInfo checkpoint) : IModelCommand
{
    public int Run<TModel>(string modelName) where TModel : class, IRecurrentModel<TModel, float>
    {
        Vocabulary vocabulary = checkpoint.Vocabulary;
        var (prime, primeTokens, replaced) = Prime(vocabulary, settings.Prime);

        var model = TModel.Create();
        Checkpoint.LoadModel(model, checkpoint.Path);
        var generator = new TokenGenerator<TModel, float>(model, new SamplingOptions
        {
            Temperature = settings.Temperature,
            TopK = checkpoint.Vocabulary.SampledIds(settings.TopK),
            Seed = settings.Seed,
        });

        Console.Error.WriteLine(
            $"{checkpoint.Path}: {modelName}, {ModelCatalog.Describe<TModel>()}, {checkpoint.Steps:N0} steps" +
            (checkpoint.ValidationLoss is double loss ? $", {loss / Math.Log(2):F3} bits per character on validation" : "") +
            $"; temperature {settings.Temperature}, top-k {(settings.TopK == 0 ? "off" : settings.TopK)}, seed {settings.Seed}" +
            (replaced > 0 ? $"; {replaced} character(s) of the prime are outside the vocabulary and read as {Vocabulary.UnknownSymbol}" : ""));

        var output = new StreamWriter(StandardOutput(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        try
        {
            generator.Prime(primeTokens);
            output.Write(prime);
            foreach (int token in generator.Generate(settings.Length))
            {
                string text = vocabulary.Decode(token);
                output.Write(text);
                if (text == "\n") output.Flush();        // stream line by line
            }
            output.WriteLine();
            output.Flush();
        }
        catch (IOException e) when (e.HResult == BrokenPipe)
        {
            return 0;                                   // the reader has gone (generate … | head): stop, as a filter does
        }
        finally
        {
            try { output.Dispose(); } catch (IOException e) when (e.HResult == BrokenPipe) { }
        }
        return 0;
    }

    /// <summary>EPIPE (Linux and macOS): the reading end of the pipe is closed.</summary>
    private const int BrokenPipe = 32;

    /// <summary>Standard output; on Unix as a file, whose writes report a closed pipe (.NET's console stream ignores EPIPE,
    /// and <c>generate --length 100000000 | head</c> would go on generating for nobody until the length is done).</summary>
    private static Stream StandardOutput() => OperatingSystem.IsWindows()
        ? Console.OpenStandardOutput()
        : new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);

    /// <summary>
    /// The text to start from (<c>--prime</c>, line ends read as the corpus's are: <c>\r\n</c> as <c>\n</c>; or the
    /// vocabulary's default) and its token ids, with the count of characters read as the unknown id.
    /// </summary>
    /// <exception cref="UsageException">The prime is empty or has characters the vocabulary cannot represent.</exception>
    public static (string Text, int[] Tokens, long Replaced) Prime(Vocabulary vocabulary, string? prime)
    {
        string text = prime?.Replace("\r\n", "\n", StringComparison.Ordinal) ?? vocabulary.DefaultPrime;
        int[] tokens;
        long replaced;
        try
        {
            tokens = vocabulary.Encode(text, out replaced, "--prime");
        }
        catch (CorpusException e)
        {
            throw new UsageException(e.Message);
        }
        if (tokens.Length == 0)
            throw new UsageException("--prime is empty; give at least one character (or leave --prime out to start from a new line).");
        return (text, tokens, replaced);
    }
}
