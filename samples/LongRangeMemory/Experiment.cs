using System.Diagnostics;
using RnnGen;

namespace LongRangeMemory;

/// <summary>The three cells compared.</summary>
public enum Cell
{
    /// <summary>Vanilla (Elman) RNN with tanh, <see cref="RecallRnn"/>.</summary>
    Rnn,

    /// <summary>GRU, <see cref="RecallGru"/>.</summary>
    Gru,

    /// <summary>LSTM, <see cref="RecallLstm"/>.</summary>
    Lstm,
}

/// <summary>One training run: one cell, one lag, one seed.</summary>
/// <param name="Cell">The cell kind.</param>
/// <param name="Parameters">Its parameter count.</param>
/// <param name="Lag">The lag L.</param>
/// <param name="Seed">The seed of the initial parameters, the data and the shuffling.</param>
/// <param name="Accuracy">Final accuracy on the validation sequences.</param>
/// <param name="Loss">Final mean cross-entropy on the validation sequences (nats).</param>
/// <param name="Steps">Optimizer updates used.</param>
/// <param name="Solved">Whether the validation accuracy reached <see cref="ExperimentOptions.SolvedAccuracy"/> (the run then stopped).</param>
/// <param name="Initial">Gradient flow at initialisation.</param>
/// <param name="Trained">Gradient flow after training.</param>
/// <param name="Time">Wall-clock time of the run (training, validation, measurements).</param>
public sealed record CellRun(Cell Cell, int Parameters, int Lag, int Seed, double Accuracy, double Loss, long Steps, bool Solved,
    GradientCurve Initial, GradientCurve Trained, TimeSpan Time);

/// <summary>
/// The long-range memory experiment: at every lag and seed the three cells start from parameters drawn with that seed,
/// are trained with the runtime's <see cref="SequenceTrainer{TModel, T}"/> (Adam, full backpropagation through time) on
/// the same freshly drawn sequences until they solve the task or the budget is spent, and are measured on the same
/// held-out sequences.
/// </summary>
public static class Experiment
{
    /// <summary>The cells, in the order they are run and reported.</summary>
    public static IReadOnlyList<Cell> Cells { get; } = [Cell.Rnn, Cell.Gru, Cell.Lstm];

    /// <summary>Display name of a cell.</summary>
    public static string Name(Cell cell) => cell switch { Cell.Rnn => "RNN (tanh)", Cell.Gru => "GRU", _ => "LSTM" };

    /// <summary>Parameter count of a cell's model.</summary>
    public static int ParameterCount(Cell cell) => cell switch
    {
        Cell.Rnn => RecallRnn.ParameterCount,
        Cell.Gru => RecallGru.ParameterCount,
        _ => RecallLstm.ParameterCount,
    };

    /// <summary>Hidden size of a cell's model.</summary>
    public static int HiddenSize(Cell cell) => cell switch
    {
        Cell.Rnn => RecallRnn.HiddenSize,
        Cell.Gru => RecallGru.HiddenSize,
        _ => RecallLstm.HiddenSize,
    };

    /// <summary>Runs every cell at every lag with every seed of <paramref name="options"/>.</summary>
    /// <param name="options">The settings (checked first).</param>
    /// <param name="finished">Receives every run as soon as it ends; may be null.</param>
    /// <param name="cancellationToken">Checked between the training rounds.</param>
    /// <returns>All runs, ordered by lag, then seed, then cell.</returns>
    public static IReadOnlyList<CellRun> Run(ExperimentOptions options, Action<CellRun>? finished = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var runs = new List<CellRun>();
        foreach (int lag in options.Lags)
        {
            foreach (int seed in options.Seeds)
            {
                var validation = RecallTask.Generate(lag, options.ValidationSize, SeedOf(seed, lag, round: -1));
                foreach (Cell cell in Cells)
                {
                    CellRun run = cell switch
                    {
                        Cell.Rnn => Train<RecallRnn, RecallRnnProbe>(cell, lag, seed, options, validation, cancellationToken),
                        Cell.Gru => Train<RecallGru, RecallGruProbe>(cell, lag, seed, options, validation, cancellationToken),
                        _ => Train<RecallLstm, RecallLstmProbe>(cell, lag, seed, options, validation, cancellationToken),
                    };
                    runs.Add(run);
                    finished?.Invoke(run);
                }
            }
        }
        return runs;
    }

    /// <summary>Trains one cell at one lag: rounds of <see cref="ExperimentOptions.StepsPerRound"/> updates on fresh data,
    /// each followed by a validation pass, until solved or <see cref="ExperimentOptions.MaxSteps"/> updates are spent.</summary>
    private static CellRun Train<TModel, TProbe>(Cell cell, int lag, int seed, ExperimentOptions options, SequenceDataset<float> validation,
        CancellationToken cancellationToken)
        where TModel : class, IRecurrentModel<TModel, float>
        where TProbe : class, IRecurrentModel<TProbe, double>
    {
        var clock = Stopwatch.StartNew();
        var model = TModel.Create();
        model.InitializeParameters(seed);
        OpenMemoryGates(model, options.MemoryGateBias);
        var probe = new GradientProbe<TProbe>(validation, options.ProbeSequences);
        GradientCurve initial = probe.Measure(model);

        var trainer = SequenceTrainer.Create(model, new Adam<float>(TModel.Info.ParameterCount, options.LearningRate), new TrainerOptions
        {
            Epochs = 1,
            BatchSize = options.BatchSize,
            ClipGradientNorm = options.ClipGradientNorm,
            Seed = seed,
            WorkerCount = Math.Min(options.WorkerCount, options.BatchSize),
        });
        long steps = 0;
        bool solved = false;
        EvaluationMetrics metrics = default;
        for (int round = 0; steps < options.MaxSteps && !solved; round++)
        {
            int updates = (int)Math.Min(options.StepsPerRound, options.MaxSteps - steps);
            var data = RecallTask.Generate(lag, updates * options.BatchSize, SeedOf(seed, lag, round));
            steps += trainer.Train(data, cancellationToken: cancellationToken).Steps;
            metrics = trainer.Evaluate(validation, cancellationToken);
            solved = metrics.Accuracy >= options.SolvedAccuracy;
        }
        GradientCurve trained = probe.Measure(model);
        return new CellRun(cell, TModel.Info.ParameterCount, lag, seed, metrics.Accuracy ?? 0, metrics.Loss, steps, solved, initial, trained, clock.Elapsed);
    }

    /// <summary>
    /// Sets the bias of the gate that keeps the memory — the LSTM's forget gate f, the GRU's update gate z — to
    /// <paramref name="bias"/> (in <c>bias_ih</c>; <c>bias_hh</c> of those rows to 0), so that at initialisation the cell
    /// keeps about σ(bias) of its state per step instead of σ(0) = ½. The vanilla RNN has no such gate and is left as is.
    /// </summary>
    public static void OpenMemoryGates<TModel>(TModel model, double bias) where TModel : class, IRecurrentModel<TModel, float>
    {
        ModelInfo info = TModel.Info;
        if (info.Cell == CellKind.Rnn) return;
        const int gate = 1;                                   // PyTorch row order: i, f, g, o (LSTM); r, z, n (GRU)
        int h = info.HiddenSize;
        for (int layer = 0; layer < info.LayerCount; layer++)
        {
            info.Find($"bias_ih_l{layer}")!.Slice(model.Parameters).Slice(gate * h, h).Fill((float)bias);
            info.Find($"bias_hh_l{layer}")!.Slice(model.Parameters).Slice(gate * h, h).Clear();
        }
        model.ParametersChanged();
    }

    /// <summary>A distinct seed for each (run seed, lag, round); round −1 is the validation set.</summary>
    private static long SeedOf(int seed, int lag, int round) => ((long)seed * 1_000_003 + lag) * 1_000_033 + round + 1;
}
