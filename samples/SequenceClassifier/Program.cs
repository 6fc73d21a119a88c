// Many-to-one sequence classification: a GRU reads a noisy waveform (sine, square, sawtooth or pure noise, with random
// frequency, phase, amplitude and length) one value per step and names its shape after the last value.
// Chance level is 25 %. Everything is generated from fixed seeds, so every run prints the same numbers.
using System.Diagnostics;
using SequenceClassifier;

if (Arguments.Check(args, Console.Out, Console.Error) is int exitCode) return exitCode;

var options = ClassifierOptions.Default;
Console.WriteLine($"GRU {WaveModel.InputSize}→{WaveModel.HiddenSize}→{WaveModel.OutputSize}, {WaveModel.ParameterCount:N0} parameters.");
Console.WriteLine($"{options.TrainingCount} training sequences (10 % of them for validation), {options.TestCount} held-out test sequences, " +
                  $"{options.MinSteps}–{options.MaxSteps} steps each, noise σ = {options.Noise}. Chance: 25 %.");
Console.WriteLine();
Console.WriteLine("epoch   training loss   validation accuracy");

var clock = Stopwatch.StartNew();
var result = WaveClassifierRun.Run(options, e =>
    Console.WriteLine($"{e.Epoch,5}   {e.Training.Loss,13:F4}   {e.Validation!.Value.Accuracy,19:P1}"));

Console.WriteLine();
Console.WriteLine($"Best validation epoch: {result.Training.BestEpoch}; its parameters are kept.");
Console.WriteLine($"Held-out test accuracy: {result.Accuracy:P1} ({clock.Elapsed.TotalSeconds:F1} s)");
Console.WriteLine();
Console.WriteLine("Confusion matrix (rows: actual, columns: predicted):");
Console.Write($"{"",10}");
foreach (string name in Waveforms.Names) Console.Write($"{name,10}");
Console.WriteLine();
for (int actual = 0; actual < Waveforms.Names.Length; actual++)
{
    Console.Write($"{Waveforms.Names[actual],10}");
    for (int predicted = 0; predicted < Waveforms.Names.Length; predicted++)
        Console.Write($"{result.Confusion[actual, predicted],10}");
    Console.WriteLine();
}
return 0;
