using System.Numerics;

namespace RnnGen;

/// <summary>
/// Model files in the <a href="https://github.com/huggingface/safetensors">safetensors</a> format, with
/// PyTorch's parameter names and shapes.
/// </summary>
/// <example>
/// <code>
/// SafeTensors.Save(model, "model.safetensors", new Dictionary&lt;string, string&gt; { ["app.vocab"] = vocabularyJson });
/// var copy = SafeTensors.Load&lt;MyModel, float&gt;("model.safetensors");
/// SafeTensors.Load(model, "model.safetensors");            // into an existing model
/// var header = SafeTensors.ReadHeader("model.safetensors"); // tensors and metadata, no model needed
/// </code>
/// <para>The tensor names are those of <c>ModelInfo.Layout</c>: <c>weight_ih_l{k}</c>, <c>weight_hh_l{k}</c>,
/// <c>bias_ih_l{k}</c>, <c>bias_hh_l{k}</c> (the <c>state_dict</c> of a bare <c>nn.LSTM</c>/<c>nn.GRU</c>/<c>nn.RNN</c>
/// with <c>batch_first</c> irrelevant) and <c>head.weight</c>, <c>head.bias</c> (an <c>nn.Linear</c> called
/// <c>head</c>). From PyTorch, save <c>{**rnn.state_dict(), **{"head." + k: v for k, v in head.state_dict().items()}}</c>
/// with <c>safetensors.torch.save_file</c>; a file saved here loads back the same way.</para>
/// </example>
/// <remarks>
/// <para><b>Writing.</b> Every tensor of <c>TModel.Info.Layout</c>, in layout order, dtype F32 for a float model and
/// F64 for a double model, little-endian; <c>__metadata__</c> holds the keys of <see cref="SafeTensorsMetadataKeys"/>
/// plus your own. Saving to a path is atomic: the previous file stays in place until the new one is complete on disk.</para>
/// <para><b>Reading.</b> Everything is validated before the model is touched: header length (at most
/// <see cref="MaxHeaderLength"/> and within the file), JSON, dtypes, shapes (at most 64 dimensions), offsets (in range, no overlap, no
/// gap, covering the data buffer), byte lengths, missing and extra tensors, RnnGen metadata. Then the data is read
/// into a temporary buffer the size of the model and copied into <c>Parameters</c> only when all of it arrived,
/// followed by <c>ParametersChanged()</c>. Any problem is a <see cref="ModelFileException"/> and the model is
/// unchanged. No allocation is sized from the header before it is checked against the file's length, and a header
/// costs a load about its own size again, however many tensors it lists (one the model does not have is kept as its
/// place in the header, not as an object).</para>
/// <para><b>Precision.</b> F32 tensors load into double models and F64 tensors into float models (rounded to nearest),
/// because PyTorch users usually save float32; F16 and BF16 tensors (half-precision checkpoints) load into either, exactly
/// (every such value is a float); see <see cref="SafeTensorsLoadOptions.AllowPrecisionConversion"/>. Integer and boolean
/// tensors are refused: convert in PyTorch with <c>.float()</c> first.</para>
/// <para>The generic methods infer <c>TModel</c> and <c>T</c> from the model: <c>SafeTensors.Save(model, "m.safetensors")</c>.</para>
/// </remarks>
public static partial class SafeTensors
{
    /// <summary>Version of RnnGen's file layout written into <see cref="SafeTensorsMetadataKeys.Format"/>.</summary>
    public const int FormatVersion = 1;

    /// <summary>Largest JSON header accepted, in bytes (the limit of the reference implementation: 100,000,000).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>
    /// Saves every parameter of <paramref name="model"/> to <paramref name="path"/> atomically: a temporary file
    /// in the same folder is written, flushed to disk and renamed over <paramref name="path"/>; if anything fails,
    /// the temporary file is removed and an existing file at <paramref name="path"/> is left untouched.
    /// </summary>
    /// <param name="model">The model to save.</param>
    /// <param name="path">The file to create or replace (conventionally <c>*.safetensors</c>).</param>
    /// <param name="metadata">Your own <c>__metadata__</c> entries (for example a vocabulary as a JSON string); keys must not start with <c>rnngen.</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, a metadata key is reserved or a value is null.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be written.</exception>
    public static void Save<TModel, T>(IRecurrentModel<TModel, T> model, string path, IReadOnlyDictionary<string, string>? metadata = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] header = BuildHeader(model, metadata);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(header);
            WriteData(stream, model);
        });
    }

    /// <summary>
    /// Writes every parameter of <paramref name="model"/> to <paramref name="stream"/> at its current position, in
    /// the same format as <see cref="Save{TModel, T}(IRecurrentModel{TModel, T}, string, IReadOnlyDictionary{string, string}?)"/>
    /// (not atomic: the stream is yours). The stream is flushed, not closed.
    /// </summary>
    /// <param name="model">The model to save.</param>
    /// <param name="stream">A writable stream.</param>
    /// <param name="metadata">Your own <c>__metadata__</c> entries; keys must not start with <c>rnngen.</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not writable, a metadata key is reserved or a value
    /// is null (nothing is written).</exception>
    public static void Save<TModel, T>(IRecurrentModel<TModel, T> model, Stream stream, IReadOnlyDictionary<string, string>? metadata = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        StreamArguments.Writable(stream);
        byte[] header = BuildHeader(model, metadata);
        stream.Write(header);
        WriteData(stream, model);
        stream.Flush();
    }

    /// <summary>
    /// Loads the file at <paramref name="path"/> into <paramref name="model"/>'s <c>Parameters</c> and calls
    /// <c>ParametersChanged()</c>. The whole file is validated first; on any problem a
    /// <see cref="ModelFileException"/> is thrown and the model is unchanged.
    /// </summary>
    /// <param name="model">The model to load into.</param>
    /// <param name="path">A safetensors file; it must end where its last tensor ends.</param>
    /// <param name="options">Load options, or null for <see cref="SafeTensorsLoadOptions.Default"/>.</param>
    /// <returns>The file's <c>__metadata__</c> (your entries among them, such as a vocabulary; empty if it has none), so that
    /// reading them takes no second pass over the file.</returns>
    /// <exception cref="ModelFileException">The file is malformed or does not fit the model.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be read.</exception>
    public static IReadOnlyDictionary<string, string> Load<TModel, T>(IRecurrentModel<TModel, T> model, string path, SafeTensorsLoadOptions? options = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenRead(path, out long? length);
        return LoadCore(model, file, length, exactLength: length is not null, path, options);
    }

    /// <summary>
    /// Loads safetensors content from the current position of <paramref name="stream"/> into
    /// <paramref name="model"/> (see <see cref="Load{TModel, T}(IRecurrentModel{TModel, T}, string, SafeTensorsLoadOptions?)"/>).
    /// Reading stops at the end of the last tensor; bytes after it are not read. When the stream can seek, its
    /// length is checked before anything is allocated.
    /// </summary>
    /// <param name="model">The model to load into.</param>
    /// <param name="stream">A readable stream.</param>
    /// <param name="options">Load options, or null for <see cref="SafeTensorsLoadOptions.Default"/>.</param>
    /// <returns>The content's <c>__metadata__</c> (empty if it has none).</returns>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not readable.</exception>
    /// <exception cref="ModelFileException">The content is malformed or does not fit the model.</exception>
    public static IReadOnlyDictionary<string, string> Load<TModel, T>(IRecurrentModel<TModel, T> model, Stream stream, SafeTensorsLoadOptions? options = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        return LoadCore(model, StreamArguments.Readable(stream), StreamArguments.Remaining(stream), exactLength: false, path: null, options);
    }

    /// <summary>Creates a <typeparamref name="TModel"/> and loads the file at <paramref name="path"/> into it.</summary>
    /// <param name="path">A safetensors file.</param>
    /// <param name="options">Load options, or null for <see cref="SafeTensorsLoadOptions.Default"/>.</param>
    /// <exception cref="ModelFileException">The file is malformed or does not fit the model.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be read.</exception>
    public static TModel Load<TModel, T>(string path, SafeTensorsLoadOptions? options = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = TModel.Create();
        Load(model, path, options);
        return model;
    }

    /// <summary>Creates a <typeparamref name="TModel"/> and loads safetensors content from <paramref name="stream"/> into it.</summary>
    /// <param name="stream">A readable stream.</param>
    /// <param name="options">Load options, or null for <see cref="SafeTensorsLoadOptions.Default"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not readable.</exception>
    /// <exception cref="ModelFileException">The content is malformed or does not fit the model.</exception>
    public static TModel Load<TModel, T>(Stream stream, SafeTensorsLoadOptions? options = null)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var model = TModel.Create();
        Load(model, stream, options);
        return model;
    }

    /// <summary>
    /// Reads and validates the header of a safetensors file without a model and without reading tensor data:
    /// the tensors (name, dtype, shape, byte range) and the <c>__metadata__</c> strings. Checks the same
    /// structure a load does (including that the data buffer fits the file exactly); any safetensors dtype is
    /// accepted here.
    /// </summary>
    /// <param name="path">A safetensors file.</param>
    /// <exception cref="ModelFileException">The file is not a valid safetensors file.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be read.</exception>
    public static SafeTensorsHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = OpenRead(path, out long? length);
        return SafeTensorsFormat.ReadHeader(file, length, exactLength: length is not null, new FileContext(path));
    }

    /// <summary>
    /// Reads and validates a safetensors header from the current position of <paramref name="stream"/>, leaving
    /// the stream at the start of the data buffer (<see cref="SafeTensorsHeader.DataStart"/> bytes further). When the
    /// stream can seek, the tensors' byte ranges are also checked against its length.
    /// </summary>
    /// <param name="stream">A readable stream.</param>
    /// <exception cref="ModelFileException">The content is not a valid safetensors header.</exception>
    public static SafeTensorsHeader ReadHeader(Stream stream) =>
        SafeTensorsFormat.ReadHeader(StreamArguments.Readable(stream), StreamArguments.Remaining(stream), exactLength: false, new FileContext(null));

    /// <summary>
    /// Opens a safetensors file (a model file or a checkpoint) for one pass, with its <paramref name="length"/> when it can
    /// tell: null for a pipe or a device, which is then read as a stream is, up to the end of the last tensor (a whole
    /// file's must end there exactly).
    /// </summary>
    internal static FileStream OpenRead(string path, out long? length)
    {
        // bufferSize 1: no FileStream buffer; reads are large blocks anyway.
        var file = AtomicFile.OpenRead(path, bufferSize: 1, FileOptions.SequentialScan);
        length = AtomicFile.LengthOf(file);
        return file;
    }
}
