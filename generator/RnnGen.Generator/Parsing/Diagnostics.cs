using Microsoft.CodeAnalysis;

namespace RnnGen.Generator.Parsing;

/// <summary>Every diagnostic the generator reports. Listed in AnalyzerReleases.*.md and docs/diagnostics.md.</summary>
internal static class Diagnostics
{
    private const string Category = "RnnGen";

    /// <summary>Size limits, also documented on the attributes and in docs/diagnostics.md.</summary>
    public const int MaxHidden = 4096;
    public const int MaxLayers = 16;
    public const int MaxInput = 1 << 20;
    public const int MaxOutput = 1 << 20;
    public const long MaxParameters = 1L << 28;

    public static readonly DiagnosticDescriptor NotPartial = new(
        "RNNG001", "Model class must be partial",
        "'{0}' must be declared partial (and so must every type that contains it) so that RnnGen can add the generated model to it",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor HiddenOutOfRange = new(
        "RNNG002", "hidden is out of range",
        "hidden is {0}; it must be between 1 and 4096",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor LayersOutOfRange = new(
        "RNNG003", "layers is out of range",
        "layers is {0}; it must be between 1 and 16 (each layer is emitted as its own block of code)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InputOutOfRange = new(
        "RNNG004", "Input is out of range",
        "Input is {0}; it must be between 1 and 1048576 (or left unset to mean hidden)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor OutputOutOfRange = new(
        "RNNG005", "Output is out of range",
        "Output is {0}; it must be between 0 (no head) and 1048576",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ModelTooLarge = new(
        "RNNG006", "Model is too large",
        "The model has {0} parameters; at most 268435456 are supported (1 GiB of float parameters, and every offset must fit in an int span index). Reduce hidden, layers, Input or Output.",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor Unsupported = new(
        "RNNG007", "Unsupported model declaration",
        "'{0}' cannot hold a generated model: {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ActivationNotRnn = new(
        "RNNG008", "Activation applies to [RnnModel] only",
        "Activation is set on a [{0}] model; only [RnnModel] has an activation choice. Remove Activation, or use [RnnModel].",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor SeveralModels = new(
        "RNNG009", "Several model attributes on one class",
        "'{0}' has more than one of [LstmModel], [GruModel], [RnnModel]; keep exactly one",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidEnumValue = new(
        "RNNG010", "Invalid enum value",
        "{0} is {1}, which is not a defined value; use {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor LanguageVersion = new(
        "RNNG011", "C# 12 or later is needed",
        "The generated model needs C# 12 or later (static abstract interface members, generic math, ref readonly parameters); this project compiles C# {0}: set <LangVersion> to 12 or later, or remove it",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    // A warning, not an error: the model is valid (Input defaults to hidden, as the attributes document), but a vocabulary
    // the size of the hidden state is almost never what a token model means.
    public static readonly DiagnosticDescriptor TokensWithoutInput = new(
        "RNNG012", "Token model without Input",
        "'{0}' reads token ids (Tokens = true) but does not set Input, so its vocabulary is the hidden size, {1} tokens; set Input to the number of distinct tokens (Input = {1} if that is what you mean)",
        Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    public static DiagnosticDescriptor? Find(string id) => id switch
    {
        "RNNG001" => NotPartial,
        "RNNG002" => HiddenOutOfRange,
        "RNNG003" => LayersOutOfRange,
        "RNNG004" => InputOutOfRange,
        "RNNG005" => OutputOutOfRange,
        "RNNG006" => ModelTooLarge,
        "RNNG007" => Unsupported,
        "RNNG008" => ActivationNotRnn,
        "RNNG009" => SeveralModels,
        "RNNG010" => InvalidEnumValue,
        "RNNG011" => LanguageVersion,
        "RNNG012" => TokensWithoutInput,
        _ => null,
    };
}
