namespace RnnGen;

/// <summary>Where ONNX data is read from, for error messages: a file path, or null for a stream.</summary>
internal readonly record struct OnnxSource(string? Path)
{
    /// <summary>A <see cref="ModelFileException"/> whose message starts with the source, as the safetensors loader's do.</summary>
    public ModelFileException Fail(string message, string? tensorName = null, Exception? inner = null) =>
        new((Path is null ? "ONNX stream: " : $"ONNX file '{Path}': ") + message, Path, tensorName, inner);
}
