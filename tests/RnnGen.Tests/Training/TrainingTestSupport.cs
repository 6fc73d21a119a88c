using System.Numerics;

namespace RnnGen.Tests.Training;

/// <summary>Data sets, optimizers and progress receivers shared by the trainer tests.</summary>
internal static class TaskData
{
    /// <summary>Every bit string of <paramref name="bits"/> bits as a one-hot dense sequence, labelled with its parity at the last step.</summary>
    public static SequenceDataset<float> Parity(int bits)
    {
        var items = new List<TrainingSequence<float>>();
        for (int code = 0; code < 1 << bits; code++)
        {
            var inputs = new float[bits * 2];
            int ones = 0;
            for (int t = 0; t < bits; t++)
            {
                int bit = (code >> t) & 1;
                ones += bit;
                inputs[t * 2 + bit] = 1f;
            }
            items.Add(TrainingSequence<float>.FromVectors(inputs, new[] { ones % 2 }));
        }
        return new SequenceDataset<float>(items);
    }

    /// <summary>Random token sequences whose label at step t is the token at t − <paramref name="delay"/> (−1 before).</summary>
    public static SequenceDataset<T> Echo<T>(int count, int length, int vocabulary, int delay, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new SeededRandom(seed);
        var items = new List<TrainingSequence<T>>();
        for (int i = 0; i < count; i++)
        {
            var tokens = new int[length];
            for (int t = 0; t < length; t++) tokens[t] = rng.NextInt(vocabulary);
            var labels = new int[length];
            for (int t = 0; t < length; t++) labels[t] = t >= delay ? tokens[t - delay] : -1;
            items.Add(TrainingSequence<T>.FromTokens(tokens, labels));
        }
        return new SequenceDataset<T>(items);
    }

    /// <summary>A stream whose token at t + 1 is the token at t − <paramref name="delay"/> + 1 … i.e. labels echo the input.</summary>
    public static int[] RandomTokens(int length, int vocabulary, int seed)
    {
        var rng = new SeededRandom(seed);
        var tokens = new int[length];
        for (int t = 0; t < length; t++) tokens[t] = rng.NextInt(vocabulary);
        return tokens;
    }
}

/// <summary>An optimizer that records every gradient it is given and leaves the parameters alone (learning rate 0).</summary>
internal sealed class RecordingOptimizer<T> : Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public RecordingOptimizer(int parameterCount) : base(parameterCount, 0.0, 0) { }

    public List<T[]> Gradients { get; } = new();

    protected override void Update(Span<T> parameters, ReadOnlySpan<T> gradients, long step) => Gradients.Add(gradients.ToArray());
}

/// <summary>A synchronous IProgress that runs a callback on the reporting thread (Progress&lt;T&gt; would post elsewhere).</summary>
internal sealed class SyncProgress<T>(Action<T> onReport) : IProgress<T>
{
    public void Report(T value) => onReport(value);
}
