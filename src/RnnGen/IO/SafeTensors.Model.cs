using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace RnnGen;

// The model side of SafeTensors: metadata, header of a model, data writing, validation and loading.
public static partial class SafeTensors
{
    // ------------------------------------------------------------------ saving

    /// <summary>
    /// What a file adds to a model's: RnnGen metadata of its own (reserved keys) and tensors after the model's, each at an
    /// offset counted from the end of the model's parameters (a training checkpoint's optimizer state).
    /// </summary>
    internal sealed record Extras(IReadOnlyList<KeyValuePair<string, string>> Metadata, IReadOnlyList<ParameterTensor> Tensors);

    /// <summary>The 8-byte length and JSON header for <paramref name="model"/>; validates everything a save needs.</summary>
    internal static byte[] BuildHeader<TModel, T>(IRecurrentModel<TModel, T> model, IReadOnlyDictionary<string, string>? userMetadata, Extras? extras = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var info = TModel.Info;
        string dtype = ScalarCodec.DTypeOf<T>();
        CheckParameterLength<TModel, T>(model, info);

        var metadata = ModelMetadata(info);
        if (extras is not null) metadata.AddRange(extras.Metadata);
        if (userMetadata is not null)
        {
            foreach (var (key, value) in userMetadata.OrderBy(static kv => kv.Key, StringComparer.Ordinal))
            {
                ArgumentNullException.ThrowIfNull(key, nameof(userMetadata));
                if (key.StartsWith(SafeTensorsMetadataKeys.Prefix, StringComparison.Ordinal))
                    throw new ArgumentException($"The metadata key '{key}' is reserved: keys starting with '{SafeTensorsMetadataKeys.Prefix}' are written by RnnGen. Use another prefix, e.g. 'app.'.", "metadata");
                if (value is null)
                    throw new ArgumentException($"The metadata value of '{key}' is null; safetensors metadata values are strings.", "metadata");
                if (!IsWellFormed(key) || !IsWellFormed(value))
                    throw new ArgumentException($"The metadata {(IsWellFormed(key) ? $"value of '{key}'" : "key '" + key + "'")} holds a lone UTF-16 surrogate (half of a character), " +
                                                "which UTF-8 cannot store: it would read back as U+FFFD. Pass whole characters.", "metadata");
                if (key == SafeTensorsMetadataKeys.TorchFormat)
                    metadata.RemoveAll(static kv => kv.Key == SafeTensorsMetadataKeys.TorchFormat);
                metadata.Add(new(key, value));
            }
        }

        int size = dtype == "F64" ? 8 : 4;
        var entries = new List<SafeTensorsFormat.TensorEntry>(info.Layout.Count);
        long offset = 0;
        foreach (var t in extras is null ? info.Layout : info.Layout.Concat(extras.Tensors))
        {
            long end = offset + (long)t.Length * size;
            entries.Add(new(t.Name, dtype, t.Shape, offset, end));
            offset = end;
        }
        return SafeTensorsFormat.BuildHeader(entries, metadata);
    }

    // Whether a string is whole characters: no lone surrogate, which UTF-8 (a safetensors header) cannot store.
    private static bool IsWellFormed(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (!char.IsSurrogate(text[i])) continue;
            if (!char.IsHighSurrogate(text[i]) || i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1])) return false;
            i++; // a pair: one character
        }
        return true;
    }

    /// <summary>RnnGen's <c>__metadata__</c> entries for a model (see <see cref="SafeTensorsMetadataKeys"/>).</summary>
    private static List<KeyValuePair<string, string>> ModelMetadata(ModelInfo info)
    {
        var list = new List<KeyValuePair<string, string>>
        {
            new(SafeTensorsMetadataKeys.TorchFormat, "pt"),
            new(SafeTensorsMetadataKeys.Format, FormatVersion.ToString(CultureInfo.InvariantCulture)),
            new(SafeTensorsMetadataKeys.Cell, CellName(info.Cell)),
            new(SafeTensorsMetadataKeys.Input, Decimal(info.InputSize)),
            new(SafeTensorsMetadataKeys.Hidden, Decimal(info.HiddenSize)),
            new(SafeTensorsMetadataKeys.Layers, Decimal(info.LayerCount)),
            new(SafeTensorsMetadataKeys.Output, Decimal(info.OutputSize)),
            new(SafeTensorsMetadataKeys.Tokens, info.Tokens ? "true" : "false"),
        };
        if (info.Cell == CellKind.Rnn)
            list.Add(new(SafeTensorsMetadataKeys.Activation, ActivationName(info.Activation)));
        list.Add(new(SafeTensorsMetadataKeys.Precision, info.Precision == Precision.Double ? "double" : "single"));
        return list;
    }

    private static string CellName(CellKind cell) => cell switch
    {
        CellKind.Lstm => "lstm",
        CellKind.Gru => "gru",
        CellKind.Rnn => "rnn",
        _ => cell.ToString().ToLowerInvariant(),
    };

    private static string ActivationName(RnnActivation activation) => activation == RnnActivation.Relu ? "relu" : "tanh";

    private static string Decimal(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes the data buffer: every layout tensor in layout order.</summary>
    internal static void WriteData<TModel, T>(Stream stream, IRecurrentModel<TModel, T> model, bool allowRawCopy = true)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        byte[]? scratch = null;
        ReadOnlySpan<T> parameters = model.Parameters;
        foreach (var t in TModel.Info.Layout)
            ScalarCodec.Write(stream, t.Slice(parameters), ref scratch, allowRawCopy);
    }

    private static void CheckParameterLength<TModel, T>(IRecurrentModel<TModel, T> model, ModelInfo info)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int length = model.Parameters.Length;
        foreach (var t in info.Layout)
            if (t.Offset + (long)t.Length > length)
                throw new ArgumentException($"{typeof(TModel).Name}.Parameters has {length} values, but its layout places '{t.Name}' at [{t.Offset}, {t.Offset + t.Length}).", nameof(model));
    }

    // ------------------------------------------------------------------ loading

    private static IReadOnlyDictionary<string, string> LoadCore<TModel, T>(IRecurrentModel<TModel, T> model, Stream stream, long? available, bool exactLength,
        string? path, SafeTensorsLoadOptions? options)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[] values = ReadChecked(model, stream, available, exactLength, path, options ?? SafeTensorsLoadOptions.Default, extras: null, out var metadata);
        CommitParameters(model, values);
        return metadata;
    }

    /// <summary>All of a file arrived and converted (<see cref="ReadChecked"/>): now the model changes.</summary>
    internal static void CommitParameters<TModel, T>(IRecurrentModel<TModel, T> model, T[] values)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var t in TModel.Info.Layout)
            values.AsSpan(t.Offset, t.Length).CopyTo(t.Slice(model.Parameters));
        model.ParametersChanged();
    }

    /// <summary>
    /// Validates the file against <paramref name="model"/> and reads its tensors into a new buffer: the model's parameters
    /// (in the layout's places), then the tensors <paramref name="extras"/> expects, which it picks after checking the
    /// header (it may throw through the context). Nothing of the model is changed.
    /// </summary>
    internal static T[] ReadChecked<TModel, T>(IRecurrentModel<TModel, T> model, Stream stream, long? available, bool exactLength, string? path,
        SafeTensorsLoadOptions options, Func<SafeTensorsHeader, FileContext, IReadOnlyList<ParameterTensor>>? extras,
        out IReadOnlyDictionary<string, string> metadata)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var info = TModel.Info;
        string modelDType = ScalarCodec.DTypeOf<T>();
        CheckParameterLength<TModel, T>(model, info);
        var ctx = new FileContext(path);

        // 1. Everything that can be checked without the data.
        var header = SafeTensorsFormat.ReadHeader(stream, available, exactLength, ctx);
        metadata = header.Metadata;
        if (!options.IgnoreModelMetadata)
        {
            // whether skipping the metadata would let the file load (asked only to word a mismatch's message; a checkpoint's
            // load has no option to skip the check)
            bool LoadsWithoutMetadata()
            {
                if (extras is not null) return false;
                try
                {
                    MatchTensors<TModel>(header, info, info.Layout, modelDType, options, ctx);
                    return true;
                }
                catch (ModelFileException)
                {
                    return false;
                }
            }
            CheckModelMetadata<TModel>(header, info, ctx, LoadsWithoutMetadata);
        }
        int parameters = model.Parameters.Length;
        var extraTensors = extras?.Invoke(header, ctx) ?? [];
        var expected = extraTensors.Count == 0 ? info.Layout
            : info.Layout.Concat(extraTensors.Select(t => new ParameterTensor(t.Name, parameters + t.Offset, [.. t.Shape]))).ToList();
        var targets = MatchTensors<TModel>(header, info, expected, modelDType, options, ctx);

        // 2. The data, into a buffer the size of the model and the extras (not of anything the file claims).
        var values = new T[parameters + extraTensors.Sum(t => (long)t.Length)];
        ReadData(stream, header, targets, values, ctx);
        return values;
    }

    /// <summary>Compares the file's <c>rnngen.*</c> entries, where present, with the model.</summary>
    private static void CheckModelMetadata<TModel>(SafeTensorsHeader header, ModelInfo info, FileContext ctx, Func<bool> loadsWithoutMetadata)
    {
        var metadata = header.Metadata;
        if (metadata.TryGetValue(SafeTensorsMetadataKeys.Format, out string? format))
        {
            if (!int.TryParse(format, NumberStyles.None, CultureInfo.InvariantCulture, out int version) || version < 1)
                throw ctx.Fail($"the metadata '{SafeTensorsMetadataKeys.Format}' is '{SafeTensorsFormat.Cite(format)}', which is not a format version (a positive integer).");
            if (version > FormatVersion)
                throw ctx.Fail($"the file was written in RnnGen file format {version} ('{SafeTensorsMetadataKeys.Format}'); this version of RnnGen reads format {FormatVersion} and older. Update RnnGen.");
        }

        string model = $"{typeof(TModel).Name} ({info})";
        void Expect(string key, string expected, string what)
        {
            if (metadata.TryGetValue(key, out string? found) && found != expected)
                throw ctx.Fail($"the file was saved from a model with {what} '{SafeTensorsFormat.Cite(found)}' ('{key}'), but {model} has {what} '{expected}'. " +
                               $"Load it into a model declared with the same attribute" + (loadsWithoutMetadata()
                                   ? $", or, if the metadata is wrong (the tensors' shapes fit this model), set {nameof(SafeTensorsLoadOptions.IgnoreModelMetadata)} to skip this check."
                                   : " (its tensors do not fit this model either)."));
        }
        Expect(SafeTensorsMetadataKeys.Cell, CellName(info.Cell), "cell");
        if (info.Cell == CellKind.Rnn)
            Expect(SafeTensorsMetadataKeys.Activation, ActivationName(info.Activation), "activation");
        Expect(SafeTensorsMetadataKeys.Input, Decimal(info.InputSize), "input size");
        Expect(SafeTensorsMetadataKeys.Hidden, Decimal(info.HiddenSize), "hidden size");
        Expect(SafeTensorsMetadataKeys.Layers, Decimal(info.LayerCount), "layer count");
        Expect(SafeTensorsMetadataKeys.Output, Decimal(info.OutputSize), "output size");
    }

    /// <summary>
    /// The file's tensors that load into the model, in data order (the others, extra tensors being skipped, are not listed):
    /// each by its index in the header, with its entry and the model tensor it loads into. Checks missing and extra tensors,
    /// dtypes and shapes. Extra tensors are looked at by their names' bytes in the header, without an object each.
    /// </summary>
    private static (int Index, SafeTensorInfo Source, ParameterTensor Target)[] MatchTensors<TModel>(SafeTensorsHeader header, ModelInfo info,
        IReadOnlyList<ParameterTensor> expectedTensors, string modelDType, SafeTensorsLoadOptions options, FileContext ctx)
    {
        string model = $"{typeof(TModel).Name} ({info})";
        // the model's tensors and a checkpoint's optimizer state, found in one pass
        int[] found = header.IndexesOf([.. expectedTensors.Select(t => t.Name), TrainingCheckpoint.OptimizerStateTensor]);
        bool checkpoint = found[^1] >= 0;
        found = found[..^1];
        var isWanted = found.Where(i => i >= 0).ToHashSet();

        // A bidirectional PyTorch module: its reverse direction has nowhere to go, even when extra tensors may be skipped
        // (the forward half alone computes something else).
        for (int i = 0; i < header.Count; i++)
        {
            // (a cheap test first, without a string: every name the pattern matches holds "_reverse")
            if (header.Utf8NameAt(i).IndexOf("_reverse"u8) < 0) continue;
            string reverse = header.NameAt(i);
            if (!IsReverseDirection(reverse)) continue;
            if (!isWanted.Contains(i))
                throw ctx.Fail($"the file holds '{SafeTensorsFormat.Cite(reverse)}': it was saved from a bidirectional module (bidirectional=True), and RnnGen's " +
                               $"models run one direction. Save a unidirectional module, or split the directions into two models.", reverse);
            break;
        }

        // More layers than the model: refused even when extra tensors may be skipped (the first layers alone compute
        // something else).
        // (a layer counts when the file has both of its weight matrices, so that a stray or misnamed tensor is reported as such)
        int fileLayers = FileLayers(header);
        if (fileLayers > info.LayerCount)
        {
            string deepest = $"weight_ih_l{fileLayers - 1}";
            throw ctx.Fail($"the file holds '{deepest}': it has {fileLayers} layers, and {model} has {info.LayerCount}. Loading only the first " +
                           $"{info.LayerCount} would compute something else: load it into a model declared with layers: {fileLayers}.", deepest);
        }

        // The tensors both sides have, first: a file of another model's sizes is best told by its shapes.
        var sources = new SafeTensorInfo?[expectedTensors.Count];
        for (int k = 0; k < expectedTensors.Count; k++)
        {
            if (found[k] < 0)
                continue;
            var expected = expectedTensors[k];
            var source = sources[k] = header.TensorAt(found[k]);
            if (!ScalarCodec.IsFloat(source.DType))
                throw ctx.Fail($"tensor '{SafeTensorsFormat.Cite(source.Name)}' has dtype {source.DType}; RnnGen models load F32, F64, F16 or BF16 tensors. Convert it before saving (in PyTorch: model.float()).", source.Name);
            if (source.DType != modelDType && !options.AllowPrecisionConversion)
                throw ctx.Fail($"tensor '{SafeTensorsFormat.Cite(source.Name)}' has dtype {source.DType}, but {model} is a {(modelDType == "F32" ? "float (F32)" : "double (F64)")} model and " +
                               $"{nameof(SafeTensorsLoadOptions.AllowPrecisionConversion)} is false.", source.Name);
            if (!SameShape(source.Shape, expected.Shape))
                throw ctx.Fail($"tensor '{SafeTensorsFormat.Cite(source.Name)}' has shape {source.ShapeText}, but {model} expects {SafeTensorsFormat.ShapeText(expected.Shape)}.", source.Name);
        }

        var missing = expectedTensors.Where((_, k) => found[k] < 0).Select(t => t.Name).ToList();
        if (missing.Count > 0)
            throw ctx.Fail($"the file has no {Names(missing, missing.Count)}, which {model} needs. The file holds {Listing(header)}.{PrefixHint(missing, header)}{HeadHint(missing, expectedTensors, header)}" +
                           (missing.All(n => n.StartsWith("bias", StringComparison.Ordinal) || n == "head.bias")
                               ? " A module built with bias=False has none: save zero tensors of those names and shapes (RnnGen's models always have biases)."
                               : ""), missing[0]);

        // the extra tensors, in data order: the first few by name, and how many
        int extras = 0;
        var named = new List<string>();
        for (int i = 0; i < header.Count; i++)
        {
            if (isWanted.Contains(i)) continue;
            extras++;
            if (named.Count < ListedNames) named.Add(header.NameAt(i));
        }
        if (extras > 0 && !options.IgnoreExtraTensors)
            throw ctx.Fail($"the file holds {Names(named, extras)}, which {model} does not have. " +
                           (checkpoint
                               ? $"It is a training checkpoint (TrainingCheckpoint.Save): load it with TrainingCheckpoint.Load to continue training, or set {nameof(SafeTensorsLoadOptions.IgnoreExtraTensors)} to load the parameters alone."
                               : $"Set {nameof(SafeTensorsLoadOptions.IgnoreExtraTensors)} to skip extra tensors, or check that the file belongs to this model."), named[0]);

        return [.. Enumerable.Range(0, expectedTensors.Count).Select(k => (found[k], sources[k]!, expectedTensors[k])).OrderBy(t => t.Item1)];
    }

    /// <summary>
    /// The layers of the file: one more than the largest k for which it holds both <c>weight_ih_lk</c> and <c>weight_hh_lk</c>
    /// (k written as a number is, below 100,000), or 0.
    /// </summary>
    private static int FileLayers(SafeTensorsHeader header)
    {
        HashSet<int>? ih = null, hh = null;
        int deepest = -1;
        for (int i = 0; i < header.Count; i++)
        {
            ReadOnlySpan<byte> name = header.Utf8NameAt(i);
            bool isIh = name.StartsWith("weight_ih_l"u8);
            if (!isIh && !name.StartsWith("weight_hh_l"u8)) continue;
            int k = LayerNumber(name["weight_ih_l".Length..]);
            if (k < 0) continue;
            (isIh ? ih ??= [] : hh ??= []).Add(k);
            if (ih is not null && hh is not null && ih.Contains(k) && hh.Contains(k)) deepest = Math.Max(deepest, k);
        }
        return deepest + 1;
    }

    private const int MaxLayerNumber = 100_000;

    /// <summary>A layer's number as <c>$"{k}"</c> writes it (no sign, no leading zero), below <see cref="MaxLayerNumber"/>; else −1.</summary>
    private static int LayerNumber(ReadOnlySpan<byte> digits)
    {
        if (digits.IsEmpty || digits.Length > 5 || (digits[0] == (byte)'0' && digits.Length > 1)) return -1;
        int k = 0;
        foreach (byte b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9') return -1;
            k = 10 * k + (b - '0');
        }
        return k < MaxLayerNumber ? k : -1;
    }

    private static bool SameShape(IReadOnlyList<long> found, IReadOnlyList<int> expected)
    {
        if (found.Count != expected.Count) return false;
        for (int i = 0; i < found.Count; i++)
            if (found[i] != expected[i]) return false;
        return true;
    }

    /// <summary>How many names a message lists.</summary>
    private const int ListedNames = 12;

    /// <summary>The first of <paramref name="count"/> names (<paramref name="names"/> holds at least the first <see cref="ListedNames"/>).</summary>
    private static string Names(List<string> names, int count) =>
        (count == 1 ? "tensor " : "tensors ") + string.Join(", ", names.Take(ListedNames).Select(n => $"'{SafeTensorsFormat.Cite(n)}'")) + (count > ListedNames ? $" and {count - ListedNames} more" : "");

    private static string Listing(SafeTensorsHeader header) =>
        header.Count == 0 ? "no tensors"
        : string.Join(", ", Enumerable.Range(0, Math.Min(ListedNames, header.Count)).Select(header.TensorAt).Select(t => $"{SafeTensorsFormat.Cite(t.Name)} {t.DType} {t.ShapeText}")) +
          (header.Count > ListedNames ? $" and {header.Count - ListedNames} more" : "");

    /// <summary>Reads the data buffer sequentially into <paramref name="values"/> (skipping extra tensors), converting where needed.</summary>
    private static void ReadData<T>(Stream stream, SafeTensorsHeader header, (int Index, SafeTensorInfo Source, ParameterTensor Target)[] targets, T[] values, FileContext ctx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        byte[]? scratch = null;
        byte[] Scratch()
        {
            if (scratch is null)
            {
                long largest = 0;
                for (int i = 0; i < header.Count; i++) largest = Math.Max(largest, header.ByteLengthAt(i));
                scratch = new byte[(int)Math.Max(8, Math.Min(ScalarCodec.ChunkBytes, (largest + 7) / 8 * 8))];
            }
            return scratch;
        }

        int next = 0;
        for (int i = 0; i < header.Count; i++)
        {
            if (next == targets.Length || targets[next].Index != i)
            {
                // An extra tensor (IgnoreExtraTensors): read through it.
                long length = header.ByteLengthAt(i);
                for (long done = 0; done < length;)
                {
                    int n = (int)Math.Min(Scratch().Length, length - done);
                    ReadExactly(stream, Scratch().AsSpan(0, n), header, i, done, ctx);
                    done += n;
                }
                continue;
            }

            var (_, source, target) = targets[next++];
            Span<T> destination = values.AsSpan(target.Offset, target.Length);
            if (ScalarCodec.CanCopyRaw<T>(source.DType))
            {
                ReadExactly(stream, MemoryMarshal.AsBytes(destination), header, i, 0, ctx);
                continue;
            }
            int size = ScalarCodec.SizeOf(source.DType);
            int perChunk = Scratch().Length / size;
            for (int start = 0; start < destination.Length; start += perChunk)
            {
                int n = Math.Min(perChunk, destination.Length - start);
                Span<byte> bytes = Scratch().AsSpan(0, n * size);
                ReadExactly(stream, bytes, header, i, (long)start * size, ctx);
                int overflow = ScalarCodec.Decode(bytes, source.DType, destination.Slice(start, n));
                if (overflow >= 0)
                    throw ctx.Fail($"tensor '{SafeTensorsFormat.Cite(source.Name)}': element {start + overflow} ({BinaryPrimitives.ReadDoubleLittleEndian(bytes[(overflow * 8)..]).ToString("R", CultureInfo.InvariantCulture)}) " +
                                   "is beyond the range of float; this F64 tensor cannot be loaded into a float model.", source.Name);
            }
        }
    }

    /// <summary>Fills <paramref name="buffer"/> from the stream; a premature end is a truncated file (inside tensor <paramref name="index"/>).</summary>
    private static void ReadExactly(Stream stream, Span<byte> buffer, SafeTensorsHeader header, int index, long offsetInTensor, FileContext ctx)
    {
        int got = SafeTensorsFormat.ReadAtMost(stream, buffer);
        if (got < buffer.Length)
            throw ctx.Fail($"the data ends inside tensor '{SafeTensorsFormat.Cite(header.NameAt(index))}' (after {offsetInTensor + got} of its {header.ByteLengthAt(index)} bytes): the file is truncated.", header.NameAt(index));
    }

    /// <summary>When the needed names appear in the file behind a module prefix (e.g. <c>lstm.weight_ih_l0</c>), says which prefix to strip.</summary>
    private static string PrefixHint(List<string> missing, SafeTensorsHeader header)
    {
        byte[] suffix = System.Text.Encoding.UTF8.GetBytes("." + missing[0]);
        for (int i = 0; i < header.Count; i++)
        {
            if (!header.Utf8NameAt(i).EndsWith(suffix)) continue;
            string name = header.NameAt(i);
            string prefix = name.Substring(0, name.Length - missing[0].Length);
            return $" They seem to carry the module prefix '{SafeTensorsFormat.Cite(prefix)}': save the tensors under their bare names (strip '{SafeTensorsFormat.Cite(prefix)}' from the keys of the state dict).";
        }
        return "";
    }

    /// <summary>
    /// When <c>head.weight</c> is missing and the file holds one other <c>X.weight</c> of the head's shape with an
    /// <c>X.bias</c> beside it (PyTorch's <c>nn.Linear</c> saved as <c>fc.weight</c>, <c>linear.weight</c>…), says to save
    /// it under the head's names.
    /// </summary>
    private static string HeadHint(List<string> missing, IReadOnlyList<ParameterTensor> expectedTensors, SafeTensorsHeader header)
    {
        const string Weight = "head.weight";
        if (!missing.Contains(Weight)) return "";
        var head = expectedTensors.First(t => t.Name == Weight);
        string? candidate = null;
        for (int i = 0; i < header.Count; i++)
        {
            string name = header.NameAt(i);
            if (name == Weight || !name.EndsWith(".weight", StringComparison.Ordinal) || !SameShape(header.TensorAt(i).Shape, head.Shape)) continue;
            if (candidate is not null) return "";   // two of them: which one is the head is not for the loader to guess
            candidate = name;
        }
        if (candidate is null) return "";
        string bias = candidate[..^"weight".Length] + "bias";
        if (header.IndexesOf([bias])[0] < 0) return "";
        return $" The file's '{SafeTensorsFormat.Cite(candidate)}' {SafeTensorsFormat.ShapeText(head.Shape)} has the shape of the head (a linear layer saved under " +
               $"another module name): save it and '{SafeTensorsFormat.Cite(bias)}' as 'head.weight' and 'head.bias'.";
    }

    // A reverse-direction tensor of a bidirectional nn.LSTM / nn.GRU / nn.RNN: weight_ih_l0_reverse, bias_hh_l3_reverse, also
    // under a module prefix (rnn.weight_hh_l1_reverse); another tensor that merely ends in "_reverse" is an ordinary extra one.
    private static bool IsReverseDirection(string name) =>
        System.Text.RegularExpressions.Regex.IsMatch(name, @"(^|\.)(weight|bias)_(ih|hh)_l[0-9]+_reverse$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
}
