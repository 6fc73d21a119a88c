using RnnGen;

namespace CharRnn;

// The models. Every size is a compile-time constant: the generator reads these attributes while the project
// compiles and writes a class specialised for exactly these sizes (loops with constant bounds, buffers laid out once,
// kernels packed for these shapes). Another size is another class: add one here, and a line to ModelCatalog.
// The vocabulary is fixed too (Vocabulary.Capacity token ids in, the same number of logits out); a corpus uses
// as many of those ids as it has distinct characters.

/// <summary><c>--model small</c>: one LSTM layer of 128 units — fast, the default first run.</summary>
[LstmModel(hidden: 128, layers: 1, Input = Vocabulary.Capacity, Output = Vocabulary.Capacity, Tokens = true)]
public partial class SmallModel { }

/// <summary><c>--model medium</c>: two LSTM layers of 128 units — char-rnn's default model.</summary>
[LstmModel(hidden: 128, layers: 2, Input = Vocabulary.Capacity, Output = Vocabulary.Capacity, Tokens = true)]
public partial class MediumModel { }

/// <summary><c>--model large</c>: two LSTM layers of 256 units — better text, about eight times the work per character of small.</summary>
[LstmModel(hidden: 256, layers: 2, Input = Vocabulary.Capacity, Output = Vocabulary.Capacity, Tokens = true)]
public partial class LargeModel { }

/// <summary>Something to do with one of the model classes, whichever <c>--model</c> picked (a generic method per class).</summary>
public interface IModelCommand
{
    /// <summary>Runs the command with <typeparamref name="TModel"/>; returns the process exit code.</summary>
    int Run<TModel>(string modelName) where TModel : class, IRecurrentModel<TModel, float>;
}

/// <summary>The names accepted by <c>--model</c> and the class each one selects.</summary>
public static class ModelCatalog
{
    /// <summary>The model names, smallest first.</summary>
    public static IReadOnlyList<string> Names { get; } = ["small", "medium", "large"];

    /// <summary>Runs <paramref name="command"/> with the class named <paramref name="name"/>.</summary>
    public static int Run(string name, IModelCommand command) => name switch
    {
        "small" => command.Run<SmallModel>(name),
        "medium" => command.Run<MediumModel>(name),
        "large" => command.Run<LargeModel>(name),
        _ => throw new UsageException($"There is no model '{name}'; the models are {string.Join(", ", Names)}."),
    };

    /// <summary>"LSTM 2×128, 214,400 parameters" for <typeparamref name="TModel"/>.</summary>
    public static string Describe<TModel>() where TModel : class, IRecurrentModel<TModel, float>
    {
        ModelInfo info = TModel.Info;
        return $"LSTM {info.LayerCount}×{info.HiddenSize}, {info.ParameterCount:N0} parameters";
    }
}
