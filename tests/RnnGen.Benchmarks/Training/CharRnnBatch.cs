namespace RnnGen.Benchmarks.Training;

/// <summary>
/// One minibatch for char-rnn's configuration: <see cref="Sequences"/> sequences of <see cref="Steps"/> steps over a
/// vocabulary of 65 (each sequence's inputs and its targets, the next tokens). The tokens are seeded random: the work
/// of a training step does not depend on the text, and the benchmark must not read files the repository does not ship.
/// </summary>
internal sealed class CharRnnBatch
{
    /// <summary>char-rnn's seq_length.</summary>
    public const int Steps = 50;

    /// <summary>Vocabulary (tinyshakespeare's 65 characters).</summary>
    public const int Vocabulary = 65;

    public CharRnnBatch(int sequences, int seed)
    {
        Sequences = sequences;
        var random = new Random(seed);
        Inputs = new int[sequences][];
        Targets = new int[sequences][];
        for (int s = 0; s < sequences; s++)
        {
            int[] text = [.. Enumerable.Range(0, Steps + 1).Select(_ => random.Next(Vocabulary))];
            Inputs[s] = text[..Steps];
            Targets[s] = text[1..];
        }
    }

    public int Sequences { get; }

    /// <summary>[sequence][step] input tokens.</summary>
    public int[][] Inputs { get; }

    /// <summary>[sequence][step] target tokens (the next character).</summary>
    public int[][] Targets { get; }

    /// <summary>Characters one update trains on.</summary>
    public int Characters => Sequences * Steps;
}
