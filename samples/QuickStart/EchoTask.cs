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
        var run = new Episode();
        var rng = new SeededRandom(seed);
        float sum = 0;

        for (int update = 1; update <= updates; update++)
        {
            sum += run.Forward(model, ref rng);                     // a fresh random sequence: mean loss, and dLoss/dLogits
            model.Gradients.Clear();
            model.Backward(run.Tape, run.LogitGradients);           // backpropagation through time
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
        var run = new Episode();
        var rng = new SeededRandom(seed);
        float sum = 0;
        for (int i = 0; i < count; i++)
            sum += run.Forward(model, ref rng);
        return sum / count;
    }

    /// <summary>The buffers of one sequence, allocated once and reused: nothing is allocated per update.</summary>
    private sealed class Episode
    {
        private readonly int[] _tokens = new int[Length];
        private readonly int[] _targets = new int[Length];
        private readonly float[] _logits = new float[Length * EchoModel.OutputWidth];
        private EchoModel.State _state = new();

        public EchoModel.Tape Tape { get; } = new(Length);
        public float[] LogitGradients { get; } = new float[Length * EchoModel.OutputWidth];

        /// <summary>
        /// Draws random tokens (the target at step t is the token at t − Delay; −1, no target, for the first steps),
        /// runs the model from a zero state, and returns the mean loss; the gradient is left in <see cref="LogitGradients"/>.
        /// </summary>
        public float Forward(EchoModel model, ref SeededRandom rng)
        {
            for (int t = 0; t < Length; t++)
            {
                _tokens[t] = rng.NextInt(EchoModel.InputSize);
                _targets[t] = t >= Delay ? _tokens[t - Delay] : -1;
            }
            _state.Reset();                                         // each sequence starts from zeros
            model.Forward(_tokens, ref _state, Tape, _logits);
            return Losses.SoftmaxCrossEntropy<float>(_logits, _targets, LogitGradients, classes: EchoModel.OutputWidth);
        }
    }
}
