using RnnGen;

namespace SequenceClassifier;

/// <summary>The four classes of waveform and the seeded generator of noisy examples.</summary>
public static class Waveforms
{
    /// <summary>Class names, in label order.</summary>
    public static readonly string[] Names = ["sine", "square", "sawtooth", "noise"];

    /// <summary>
    /// <paramref name="count"/> labelled sequences, the classes in turn (so the set is balanced). Each periodic wave has a
    /// random frequency (1/16 to 1/6 cycles per step), phase and amplitude (0.6 to 1.2), plus Gaussian noise of standard
    /// deviation <paramref name="noise"/>; the "noise" class is Gaussian noise of a random standard deviation (0.4 to 1).
    /// Lengths vary from <paramref name="minSteps"/> to <paramref name="maxSteps"/> steps.
    /// </summary>
    public static SequenceDataset<float> Generate(int count, int minSteps, int maxSteps, double noise, long seed)
    {
        var random = new SeededRandom(seed);
        var sequences = new List<TrainingSequence<float>>(count);
        for (int i = 0; i < count; i++)
        {
            int label = i % Names.Length;
            int steps = minSteps + random.NextInt(maxSteps - minSteps + 1);
            double frequency = 1.0 / 16 + random.NextDouble() * (1.0 / 6 - 1.0 / 16);
            double phase = random.NextDouble();                            // in cycles
            double amplitude = 0.6 + 0.6 * random.NextDouble();
            double noiseLevel = 0.4 + 0.6 * random.NextDouble();          // only for the "noise" class
            var x = new float[steps];
            for (int t = 0; t < steps; t++)
            {
                double cycle = frequency * t + phase;                      // position in cycles
                double fraction = cycle - Math.Floor(cycle);               // 0 ≤ fraction < 1
                double clean = label switch
                {
                    0 => Math.Sin(2 * Math.PI * cycle),
                    1 => fraction < 0.5 ? 1 : -1,
                    2 => 2 * fraction - 1,
                    _ => 0,
                };
                double value = label == 3 ? noiseLevel * random.NextGaussian() : amplitude * clean + noise * random.NextGaussian();
                x[t] = (float)value;
            }
            sequences.Add(TrainingSequence<float>.FromVectors(x, new[] { label }));   // one label: the last step's
        }
        return new SequenceDataset<float>(sequences);
    }
}
