using RnnGen;

namespace QuickStart;

/// <summary>
/// The model: 8 token ids in, one LSTM layer of 32 units, a head of 8 logits out.
/// Its task: at every step, output the token it read <see cref="EchoTask.Delay"/> steps earlier.
/// That needs memory: the answer is not in the current input, only in the state.
/// </summary>
[LstmModel(hidden: 32, Input = 8, Output = 8, Tokens = true)]
public partial class EchoModel { }

/// <summary>Trains <see cref="EchoModel"/> on random sequences with softmax cross-entropy and Adam.</summary>
public static class EchoTask
{
    /// <summary>How many steps back the answer lies.</summary>
    public const int Delay = 3;

    /// <summary>Steps per training sequence.</summary>
    public const int Length = 20;

    /// <summary>
    /// Runs <paramref name="updates"/> Adam updates, one random sequence each, and reports the mean loss of every
    /// block of <paramref name="reportEvery"/> updates. Returns the trained model.
    /// </summary>
    public static EchoModel Train(int updates, int seed, int reportEvery = 50, Action<int, float>? report = null)
    {
        var model = new EchoModel();
        model.InitializeParameters(seed);
        var adam = new Adam<float>(EchoModel.ParameterCount, learningRate: 0.01);
        var state = new EchoModel.State();
        var tape = new EchoModel.Tape(Length);
        var tokens = new int[Length];
        var targets = new int[Length];
        var logits = new float[Length * EchoModel.OutputWidth];
        var dLogits = new float[logits.Length];
        var rng = new SeededRandom(seed);
        float sum = 0;

        for (int update = 1; update <= updates; update++)
        {
            Sequence(ref rng, tokens, targets);
            state.Reset();                                          // each sequence starts from zeros
            model.Forward(tokens, ref state, tape, logits);
            sum += Losses.SoftmaxCrossEntropy<float>(logits, targets, dLogits);   // mean loss, and dLoss/dLogits
            model.Gradients.Clear();
            model.Backward(tape, dLogits);                          // backpropagation through time
            adam.Step(model);                                       // parameters -= Adam(gradients)

            if (update % reportEvery == 0)
            {
                report?.Invoke(update, sum / reportEvery);
                sum = 0;
            }
        }
        return model;
    }

    /// <summary>Mean cross-entropy of <paramref name="model"/> on <paramref name="count"/> fresh sequences (no learning).</summary>
    public static float Evaluate(EchoModel model, int count, int seed)
    {
        var state = new EchoModel.State();
        var tape = new EchoModel.Tape(Length);
        var tokens = new int[Length];
        var targets = new int[Length];
        var logits = new float[Length * EchoModel.OutputWidth];
        var dLogits = new float[logits.Length];
        var rng = new SeededRandom(seed);
        float sum = 0;
        for (int i = 0; i < count; i++)
        {
            Sequence(ref rng, tokens, targets);
            state.Reset();
            model.Forward(tokens, ref state, tape, logits);
            sum += Losses.SoftmaxCrossEntropy<float>(logits, targets, dLogits);
        }
        return sum / count;
    }

    /// <summary>Random tokens; the target at step t is the token at t − Delay (no target, −1, for the first steps).</summary>
    private static void Sequence(ref SeededRandom rng, int[] tokens, int[] targets)
    {
        for (int t = 0; t < tokens.Length; t++)
        {
            tokens[t] = rng.NextInt(EchoModel.InputSize);
            targets[t] = t >= Delay ? tokens[t - Delay] : -1;
        }
    }
}
