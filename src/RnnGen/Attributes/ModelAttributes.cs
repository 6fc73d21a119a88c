namespace RnnGen;

/// <summary>The scalar type of a generated model: every span of the model is a span of this type.</summary>
public enum Precision
{
    /// <summary>32-bit <see cref="float"/> (the default).</summary>
    Single = 0,
    /// <summary>64-bit <see cref="double"/>: slower, used for gradient checks and exact references.</summary>
    Double = 1,
}

/// <summary>The activation <c>f</c> of a vanilla RNN, <c>s_t = f(U·x_t + W·s_{t-1} + b)</c>.</summary>
public enum RnnActivation
{
    /// <summary>Hyperbolic tangent (PyTorch's default <c>nonlinearity='tanh'</c>).</summary>
    Tanh = 0,
    /// <summary>Rectified linear unit (PyTorch's <c>nonlinearity='relu'</c>).</summary>
    Relu = 1,
}

/// <summary>
/// Common options of the three model attributes. The RnnGen source generator reads them at compile
/// time and emits a fixed-size model into the annotated <c>partial class</c>.
/// </summary>
/// <remarks>
/// Ranges (checked at compile time, diagnostics RNNG002–RNNG006): hidden 1–4096, layers 1–16,
/// <see cref="Input"/> 1–1,048,576, <see cref="Output"/> 0–1,048,576, at most 268,435,456 parameters.
/// </remarks>
// CS3015 (an attribute without a public constructor of CLS types): this base is abstract and never applied; the three
// attributes that derive from it have such constructors.
#pragma warning disable CS3015
public abstract class RecurrentModelAttribute : Attribute
#pragma warning restore CS3015
{
    private protected RecurrentModelAttribute(int hidden, int layers)
    {
        Hidden = hidden;
        Layers = layers;
    }

    /// <summary>Width of the hidden state of every layer.</summary>
    public int Hidden { get; }

    /// <summary>Number of stacked layers; each layer's <c>h</c> is the next layer's input.</summary>
    public int Layers { get; }

    /// <summary>Width of one input vector; with <see cref="Tokens"/> the vocabulary size. Unset means <see cref="Hidden"/> (a token model then gets the warning RNNG012); a written value must be between 1 and 1,048,576 (RNNG004).</summary>
    public int Input { get; set; }

    /// <summary>Width of a linear head <c>o_t = V·h_t + c</c> on the top layer; 0 = no head (outputs are the top layer's <c>h</c>).</summary>
    public int Output { get; set; }

    /// <summary>Inputs are token ids (<see cref="int"/>) instead of dense vectors; the input projection is a column lookup.</summary>
    public bool Tokens { get; set; }

    /// <summary>The scalar type of the model (<see cref="Precision.Single"/> by default).</summary>
    public Precision Precision { get; set; }

    /// <summary>
    /// The activation of a vanilla RNN. Only meaningful on <see cref="RnnModelAttribute"/>; setting it on
    /// another model kind is a compile-time error (RNNG008).
    /// </summary>
    public RnnActivation Activation { get; set; }
}

/// <summary>
/// Generates a stacked LSTM (PyTorch <c>nn.LSTM</c> semantics, gate order i, f, g, o) into a partial class:
/// <c>i = σ(W_ii x + b_ii + W_hi h + b_hi)</c>, <c>f = σ(…)</c>, <c>g = tanh(…)</c>, <c>o = σ(…)</c>,
/// <c>c' = f ⊙ c + i ⊙ g</c>, <c>h' = o ⊙ tanh(c')</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LstmModelAttribute : RecurrentModelAttribute
{
    /// <summary>Declares an LSTM with <paramref name="hidden"/> units per layer and <paramref name="layers"/> layers.</summary>
    public LstmModelAttribute(int hidden, int layers = 1) : base(hidden, layers) { }
}

/// <summary>
/// Generates a stacked GRU (PyTorch <c>nn.GRU</c> semantics, gate order r, z, n) into a partial class:
/// <c>r = σ(W_ir x + b_ir + W_hr h + b_hr)</c>, <c>z = σ(…)</c>, <c>n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))</c>,
/// <c>h' = (1 − z) ⊙ n + z ⊙ h</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class GruModelAttribute : RecurrentModelAttribute
{
    /// <summary>Declares a GRU with <paramref name="hidden"/> units per layer and <paramref name="layers"/> layers.</summary>
    public GruModelAttribute(int hidden, int layers = 1) : base(hidden, layers) { }
}

/// <summary>
/// Generates a stacked vanilla (Elman) RNN (PyTorch <c>nn.RNN</c> semantics) into a partial class:
/// <c>s_t = f(U·x_t + b_ih + W·s_{t-1} + b_hh)</c> with <c>f</c> = <see cref="RecurrentModelAttribute.Activation"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class RnnModelAttribute : RecurrentModelAttribute
{
    /// <summary>Declares a vanilla RNN with <paramref name="hidden"/> units per layer and <paramref name="layers"/> layers.</summary>
    public RnnModelAttribute(int hidden, int layers = 1) : base(hidden, layers) { }
}
