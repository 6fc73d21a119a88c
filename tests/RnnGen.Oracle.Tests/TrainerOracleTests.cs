using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnGen.Oracle.Tests;

/// <summary>
/// The runtime's <see cref="SequenceTrainer{TModel, T}"/> against a truncated-BPTT loop written in TorchSharp as a PyTorch
/// user writes char-rnn: one-hot tokens into nn.LSTM(17, 10, 2) and nn.Linear(10, 17) in float64, the batch's window
/// through the module with the state carried over from the last window (detached) and zeroed at the start of each
/// sequence, cross-entropy as the mean over the window's counted steps (labels of −1 ignored), element-wise clip,
/// RMSprop. Two epochs of windows, unshuffled; after training every parameter must agree to 1e-9. Batches of 3
/// sequences (lockstep lanes, on two workers) and of one (windows of one lane run as the layer pipeline).
/// </summary>
public class TrainerOracleTests
{
    private const int Vocabulary = 17, Length = 23, Window = 7, Epochs = 2;

    [Theory]
    [InlineData(3, 2)]
    [InlineData(1, 2)]
    [InlineData(1, 1)]
    public void Parameters_MatchATorchTrainingLoop(int batch, int workers)
    {
        TorchRuntime.EnsureReady();
        var random = new Random(11);
        int[][] tokens = [.. Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, Length).Select(_ => random.Next(Vocabulary)).ToArray())];
        int[][] labels = [.. tokens.Select(s => s.Select((_, t) => t % 5 == 3 ? Losses.IgnoreTarget : random.Next(Vocabulary)).ToArray())];

        var model = new LstmD_H10_L2_Tokens17();
        model.InitializeParameters(seed: 12);
        double[] initial = model.Parameters.ToArray();
        double[] expected = TorchLoop(initial, tokens, labels, LstmD_H10_L2_Tokens17.Info);

        var options = new TrainerOptions
        {
            Epochs = Epochs, BatchSize = batch, WindowLength = Window, Shuffle = false, WorkerCount = workers,
            ClipGradientValue = 5, Loss = SequenceLoss.SoftmaxCrossEntropy,
        };
        var trainer = SequenceTrainer.Create(model, new RmsProp<double>(model.Parameters.Length, learningRate: 0.05, alpha: 0.95), options);
        var data = new SequenceDataset<double>(tokens.Select((s, i) => TrainingSequence<double>.FromTokens(s, labels[i])));
        trainer.Train(data);

        double[] actual = model.Parameters.ToArray();
        Assert.NotEqual(initial, actual);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-9 * Math.Max(1, Math.Abs(expected[i])),
                $"parameter {i} ({LstmD_H10_L2_Tokens17.Info.Layout.First(t => t.Offset <= i && i < t.Offset + t.Length).Name}): torch {expected[i]:R}, RnnGen {actual[i]:R}");
    }

    /// <summary>
    /// The same for a GRU on dense inputs with MSE against dense targets of the last 9 steps of each sequence (a
    /// many-to-many tail: the first windows have no target, so no update), clipped by global norm, with Adam.
    /// </summary>
    [Theory]
    [InlineData(4, 2)]
    [InlineData(1, 2)]
    public void DenseGru_MatchesATorchTrainingLoop(int batch, int workers)
    {
        TorchRuntime.EnsureReady();
        ModelInfo info = GruD_H13_L2_In5_Out3.Info;
        const int tail = 9;
        var random = new Random(21);
        double[][] inputs = [.. Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, Length * info.InputSize).Select(_ => 2 * random.NextDouble() - 1).ToArray())];
        double[][] targets = [.. Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, tail * info.OutputWidth).Select(_ => random.NextDouble()).ToArray())];

        var model = new GruD_H13_L2_In5_Out3();
        model.InitializeParameters(seed: 22);
        double[] initial = model.Parameters.ToArray();
        double[] expected = TorchDenseLoop(initial, inputs, targets, tail, info);

        var options = new TrainerOptions
        {
            Epochs = Epochs, BatchSize = batch, WindowLength = Window, Shuffle = false, WorkerCount = workers,
            ClipGradientNorm = 0.3, Loss = SequenceLoss.MeanSquaredError,
        };
        var trainer = SequenceTrainer.Create(model, new Adam<double>(model.Parameters.Length, learningRate: 0.02), options);
        trainer.Train(new SequenceDataset<double>(inputs.Select((x, i) => TrainingSequence<double>.FromVectors(x, targets[i]))));

        double[] actual = model.Parameters.ToArray();
        Assert.NotEqual(initial, actual);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-9 * Math.Max(1, Math.Abs(expected[i])),
                $"parameter {i}: torch {expected[i]:R}, RnnGen {actual[i]:R}");
    }

    private static double[] TorchDenseLoop(double[] initial, double[][] inputs, double[][] targets, int tail, ModelInfo info)
    {
        using var scope = NewDisposeScope();
        int batch = inputs.Length, width = info.InputSize, outputs = info.OutputWidth;
        var gru = (GRU)TorchReference.CreateRecurrent(info, ScalarType.Float64);
        var head = nn.Linear(info.HiddenSize, outputs, dtype: ScalarType.Float64);
        var (all, parameters) = Load(gru, head, initial, info);
        var optimizer = optim.Adam(all, 0.02);
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            Tensor h = zeros(info.LayerCount, batch, info.HiddenSize, ScalarType.Float64);
            for (int t0 = 0; t0 < Length; t0 += Window)
            {
                int n = Math.Min(Window, Length - t0);
                var x = new double[n * batch * width];
                for (int t = 0; t < n; t++)
                    for (int b = 0; b < batch; b++)
                        Array.Copy(inputs[b], (t0 + t) * width, x, (t * batch + b) * width, width);
                var (y, hN) = gru.call(tensor(x, [n, batch, width], ScalarType.Float64), h);
                h = hN.detach();
                int first = Math.Max(t0, Length - tail); // the window's steps that have a target
                if (first >= t0 + n)
                    continue;                              // none: no update (RnnGen's trainer makes none either)
                int counted = t0 + n - first;
                var goal = new double[counted * batch * outputs];
                for (int t = 0; t < counted; t++)
                    for (int b = 0; b < batch; b++)
                        Array.Copy(targets[b], (first - (Length - tail) + t) * outputs, goal, (t * batch + b) * outputs, outputs);
                optimizer.zero_grad();
                Tensor prediction = head.call(y.narrow(0, first - t0, counted));
                Tensor loss = nn.functional.mse_loss(prediction, tensor(goal, [counted, batch, outputs], ScalarType.Float64));
                loss.backward();
                nn.utils.clip_grad_norm_(all, 0.3);
                optimizer.step();
            }
        }
        return Read(parameters, initial.Length, info);
    }

    private static (Parameter[] All, List<(string Name, Parameter Parameter)> Named) Load(nn.Module recurrent, Linear head, double[] initial, ModelInfo info)
    {
        List<(string Name, Parameter Parameter)> parameters =
            [.. recurrent.named_parameters(), .. head.named_parameters().Select(p => ("head." + p.name, p.parameter))];
        using (no_grad())
        {
            foreach (var (name, parameter) in parameters)
            {
                ParameterTensor slot = info.Find(name)!;
                parameter.copy_(tensor(slot.Slice<double>(initial).ToArray(), [.. slot.Shape], ScalarType.Float64));
            }
        }
        return ([.. parameters.Select(p => p.Parameter)], parameters);
    }

    private static double[] Read(List<(string Name, Parameter Parameter)> parameters, int count, ModelInfo info)
    {
        var result = new double[count];
        foreach (var (name, parameter) in parameters)
            parameter.data<double>().ToArray().CopyTo(info.Find(name)!.Slice(result.AsSpan()));
        return result;
    }

    /// <summary>The training loop in TorchSharp; returns the parameters after it, in RnnGen's layout.</summary>
    private static double[] TorchLoop(double[] initial, int[][] tokens, int[][] labels, ModelInfo info)
    {
        using var scope = NewDisposeScope();
        int batch = tokens.Length;
        var lstm = nn.LSTM(Vocabulary, info.HiddenSize, info.LayerCount, dtype: ScalarType.Float64);
        var head = nn.Linear(info.HiddenSize, Vocabulary, dtype: ScalarType.Float64);
        var (all, parameters) = Load(lstm, head, initial, info);
        var optimizer = optim.RMSProp(all, 0.05, 0.95);

        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            Tensor h = zeros(info.LayerCount, batch, info.HiddenSize, ScalarType.Float64);
            Tensor c = zeros(info.LayerCount, batch, info.HiddenSize, ScalarType.Float64);
            for (int t0 = 0; t0 < Length; t0 += Window)
            {
                int n = Math.Min(Window, Length - t0);
                var oneHot = new double[n * batch * Vocabulary];
                var targets = new long[n * batch];
                for (int t = 0; t < n; t++)
                {
                    for (int b = 0; b < batch; b++)
                    {
                        oneHot[(t * batch + b) * Vocabulary + tokens[b][t0 + t]] = 1;
                        targets[t * batch + b] = labels[b][t0 + t];
                    }
                }
                optimizer.zero_grad();
                var (y, hN, cN) = lstm.call(tensor(oneHot, [n, batch, Vocabulary], ScalarType.Float64), (h, c));
                Tensor logits = head.call(y).reshape(-1, Vocabulary);
                Tensor loss = nn.functional.cross_entropy(logits, tensor(targets), ignore_index: -1);
                loss.backward();
                nn.utils.clip_grad_value_(all, 5);
                optimizer.step();
                h = hN.detach();
                c = cN.detach();
            }
        }

        return Read(parameters, initial.Length, info);
    }
}
