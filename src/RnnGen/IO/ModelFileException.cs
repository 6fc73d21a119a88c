namespace RnnGen;

/// <summary>
/// A model file cannot be read or does not fit the model it is loaded into: truncated, malformed,
/// a missing, extra or mis-shaped tensor, an unsupported dtype. The message says what is wrong and
/// where (file, tensor, expected and found values). When it is thrown by a load, the model has not
/// been modified.
/// </summary>
public sealed class ModelFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong and what to change.</param>
    /// <param name="filePath">The file, or null when reading from a stream.</param>
    /// <param name="tensorName">The tensor at fault, or null when the problem is not about one tensor.</param>
    /// <param name="innerException">The underlying error (for example a JSON or I/O error), or null.</param>
    public ModelFileException(string message, string? filePath = null, string? tensorName = null, Exception? innerException = null)
        : base(message, innerException)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    /// <summary>The file that was read, or null when reading from a stream.</summary>
    public string? FilePath { get; }

    /// <summary>The tensor the problem is about, or null.</summary>
    public string? TensorName { get; }
}
