namespace RnnGen;

/// <summary>Options of <see cref="SafeTensors"/> loads. The defaults are strict and suit almost every file.</summary>
public sealed class SafeTensorsLoadOptions
{
    /// <summary>The defaults: extra tensors refused, F32/F64 converted, RnnGen metadata checked.</summary>
    public static SafeTensorsLoadOptions Default { get; } = new();

    /// <summary>
    /// Skip tensors the model does not have (for example a PyTorch module that holds an embedding or a
    /// second head). Default false: an extra tensor is refused, because it usually means the file belongs
    /// to another model. A bidirectional module's <c>*_reverse</c> tensors and layers beyond the model's
    /// <c>LayerCount</c> are refused even then: the forward half, or the first layers alone, compute something else.
    /// </summary>
    public bool IgnoreExtraTensors { get; init; }

    /// <summary>
    /// Load F32 tensors into a double model (exact), F64 tensors into a float model (rounded to
    /// nearest; a finite value beyond the float range is refused), and F16 and BF16 tensors into either
    /// (exact). Default true. When false, the dtype must match the model's precision.
    /// </summary>
    public bool AllowPrecisionConversion { get; init; } = true;

    /// <summary>
    /// Do not compare the file's <c>rnngen.*</c> metadata (cell kind, activation, sizes, format version)
    /// with the model. Default false. Names, shapes and dtypes are checked either way.
    /// </summary>
    public bool IgnoreModelMetadata { get; init; }
}
