using System.Globalization;
using System.Numerics;
using RnnGen.Tests.Generated;
using RnnGen.Tests.Models;
using static RnnGen.Tests.IO.IoTestUtil;

namespace RnnGen.Tests.IO;

/// <summary>
/// A corrupt or hostile model file is refused with a <see cref="ModelFileException"/>, never a crash: thousands of seeded
/// damages (<see cref="SafeTensorsDamage"/>) to files saved by the library — float and double, tokens and dense, with and
/// without a head, re-encoded in F16 and BF16, loaded into their own model or across precisions, from a path, a seekable
/// stream and a stream of unknown length, with random options — either load or are refused. A refused file leaves the model
/// bit-for-bit unchanged; a loaded one was still valid (<see cref="ReferenceSafeTensors"/> reads it again) and the model
/// holds what it says. No load takes long or allocates more than a few times the file (a header claiming gigabytes is
/// refused before anything of that size is allocated). RNNGEN_FUZZ_SCALE multiplies the trials.
/// </summary>
public class SafeTensorsMalformedFileTests
{
    private sealed record Source(string Name, byte[] File, TrialMethod Trial);

    /// <summary>Loads <paramref name="bytes"/> into a new model of the source's kind, with random options and from a random kind of source unless given; true when it loaded.</summary>
    private delegate bool TrialMethod(Source source, byte[] bytes, Random random, string context, string path, SafeTensorsLoadOptions? options = null, From? from = null);

    private static readonly Source[] s_sources =
    [
        new("LstmF2x6Head (F32, dense, head)", Saved<LstmF2x6Head, float>(), Trial<LstmF2x6Head, float>),
        new("LstmDTokens (F64, tokens, head)", Saved<LstmDTokens, double>(), Trial<LstmDTokens, double>),
        new("LstmD3x5's F64 into LstmF3x5 (dense, no head)", Saved<LstmD3x5, double>(), Trial<LstmF3x5, float>),
        new("RnnTanhDTokens (F64, tokens, no head)", Saved<RnnTanhDTokens, double>(), Trial<RnnTanhDTokens, double>),
        new("GruFTokens in BF16 into GruDTokens", SafeTensorsDamage.Recode(Saved<GruFTokens, float>(), "BF16"), Trial<GruDTokens, double>),
        new("RnnReluF2x5 in F16", SafeTensorsDamage.Recode(Saved<RnnReluF2x5, float>(), "F16"), Trial<RnnReluF2x5, float>),
    ];

    private static byte[] Saved<TModel, T>()
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var stream = new MemoryStream();
        SafeTensors.Save(Harness.NewModel<TModel, T>(seed: 1), stream, new Dictionary<string, string> { ["app.note"] = "fuzz" });
        return stream.ToArray();
    }

    [Fact]
    public void TheSourcesLoad()
    {
        using var folder = new TempFolder();
        foreach (var source in s_sources)
            foreach (var from in Enum.GetValues<From>())
                Assert.True(source.Trial(source, source.File, new Random(0), $"{source.Name}, undamaged", folder.File("m.safetensors"), SafeTensorsLoadOptions.Default, from));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void DamagedFilesAreRefusedOrLoaded(int seed)
    {
        using var folder = new TempFolder();
        var random = new Random(seed);
        int trials = SafeTensorsDamage.Trials(500), loaded = 0;
        FuzzRun.Trials(trials, trial =>
        {
            var source = s_sources[random.Next(s_sources.Length)];
            byte[] bytes = SafeTensorsDamage.Damage(source.File, random, out string what);
            if (source.Trial(source, bytes, random, $"seed {seed}, trial {trial}, {source.Name}: {what}", folder.File("m.safetensors"))) loaded++;
        });
        FuzzRun.ExpectBoth(loaded, trials);
    }

    private enum From { Path, SeekableStream, StreamOfUnknownLength }

    private static bool Trial<TModel, T>(Source source, byte[] bytes, Random random, string context, string path, SafeTensorsLoadOptions? options = null, From? from = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        options ??= new SafeTensorsLoadOptions
        {
            IgnoreExtraTensors = random.Next(3) == 0,
            IgnoreModelMetadata = random.Next(4) == 0,
            AllowPrecisionConversion = random.Next(6) != 0,
        };
        from ??= random.Next(8) switch { 0 => From.Path, < 4 => From.SeekableStream, _ => From.StreamOfUnknownLength };
        context += $" ({from}; extra tensors {(options.IgnoreExtraTensors ? "skipped" : "refused")}, metadata {(options.IgnoreModelMetadata ? "ignored" : "checked")}, " +
                   $"conversion {(options.AllowPrecisionConversion ? "allowed" : "refused")})";
        if (from == From.Path) File.WriteAllBytes(path, bytes);
        var target = Harness.NewModel<TModel, T>(seed: 2);
        byte[] before = Bits(target.Parameters);

        Exception? error = FuzzRun.Load(() =>
        {
            switch (from)
            {
                case From.Path: SafeTensors.Load(target, path, options); break;
                case From.SeekableStream: SafeTensors.Load(target, new MemoryStream(bytes), options); break;
                default: SafeTensors.Load(target, new ForwardOnlyStream(bytes), options); break;
            }
        }, bytes.Length, context);

        bool loaded = error is null;
        if (loaded)
            ExpectLoaded<TModel, T>(source.File, bytes, exactLength: from == From.Path, options, target, context);
        else
        {
            ExpectRefused(error!, from == From.Path ? path : null, context);
            Assert.True(before.AsSpan().SequenceEqual(Bits(target.Parameters)), $"{context}: refused, and the parameters changed");
        }

        // the header alone: the same structure is checked
        error = FuzzRun.Load(() => SafeTensors.ReadHeader(new MemoryStream(bytes)), bytes.Length, context + ", its header");
        if (error is null)
            Assert.True(ReferenceSafeTensors.Read(bytes, exactLength: false, out string why) is not null, $"{context}: its header was read, but the file is not valid: {why}");
        else
            ExpectRefused(error, null, context + ", its header");
        return loaded;
    }

    /// <summary>A refusal is the library's exception for bad files, from the source it says.</summary>
    internal static void ExpectRefused(Exception error, string? path, string context)
    {
        if (error is not ModelFileException e)
        {
            Assert.Fail($"{context}: {error.GetType().Name}: {FuzzRun.Short(error.Message)}\n{error.StackTrace}");
            return;
        }
        string prefix = path is null ? "safetensors stream: " : $"model file '{path}': ";
        Assert.True(e.Message.StartsWith(prefix, StringComparison.Ordinal), $"{context}: {FuzzRun.Short(e.Message)}");
        Assert.True(e.FilePath == path, $"{context}: the exception names the file '{e.FilePath}'");
    }

    /// <summary>
    /// A load that succeeded: the file is valid, its tensors are the model's (or extra ones it may skip) with their shapes, its
    /// RnnGen metadata is the model's (unless ignored), and the model holds the file's values (returned: the file as read again).
    /// </summary>
    internal static ReferenceSafeTensors ExpectLoaded<TModel, T>(byte[] original, byte[] bytes, bool exactLength, SafeTensorsLoadOptions options,
        TModel target, string context, params string[] moreTensors)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var file = ReferenceSafeTensors.Read(bytes, exactLength, out string why);
        Assert.True(file is not null, $"{context}: loaded, but the file is not valid: {why}");
        foreach (var t in TModel.Info.Layout)
        {
            Assert.True(file.Tensors.TryGetValue(t.Name, out var found), $"{context}: loaded without '{t.Name}'");
            Assert.True(found.Shape.SequenceEqual(t.Shape.Select(d => (long)d)), $"{context}: loaded '{t.Name}' of shape [{string.Join(", ", found.Shape)}]");
            Assert.True(ScalarCodec.IsFloat(found.DType) && (options.AllowPrecisionConversion || found.DType == ScalarCodec.DTypeOf<T>()),
                $"{context}: loaded '{t.Name}' of dtype {found.DType}");
            T[]? values = file.Values<T>(t.Name);
            Assert.True(values is not null, $"{context}: loaded '{t.Name}', whose values do not fit {typeof(T).Name}");
            Assert.True(Bits(values).AsSpan().SequenceEqual(Bits(t.Slice((ReadOnlySpan<T>)target.Parameters))), $"{context}: '{t.Name}' is not what the file holds");
        }
        var known = TModel.Info.Layout.Select(t => t.Name).Concat(moreTensors).ToHashSet();
        Assert.True(options.IgnoreExtraTensors || file.Tensors.Keys.All(known.Contains),
            $"{context}: loaded with extra tensors {string.Join(", ", file.Tensors.Keys.Where(n => !known.Contains(n)))}");
        if (!options.IgnoreModelMetadata)
        {
            var saved = ReferenceSafeTensors.Read(original, exactLength: false, out _)!.Metadata;
            foreach (string key in new[] { SafeTensorsMetadataKeys.Cell, SafeTensorsMetadataKeys.Activation, SafeTensorsMetadataKeys.Input,
                         SafeTensorsMetadataKeys.Hidden, SafeTensorsMetadataKeys.Layers, SafeTensorsMetadataKeys.Output })
                if (saved.TryGetValue(key, out string? expected) && file.Metadata.TryGetValue(key, out string? value))
                    Assert.True(value == expected, $"{context}: loaded with {key} '{value}'");
            if (file.Metadata.TryGetValue(SafeTensorsMetadataKeys.Format, out string? format))
                Assert.True(int.TryParse(format, NumberStyles.None, CultureInfo.InvariantCulture, out int version) && version is >= 1 and <= SafeTensors.FormatVersion,
                    $"{context}: loaded with {SafeTensorsMetadataKeys.Format} '{format}'");
        }
        return file;
    }
}
