// RnnGen quick start: an LSTM learns to repeat the token it saw three steps ago.
// A model that has not learned anything scores ln(8) ≈ 2.08 nats per step (a uniform guess over 8 tokens);
// one that remembers perfectly scores 0.
using QuickStart;

if (Arguments.Check(args, Console.Out, Console.Error) is int exitCode) return exitCode;

Console.WriteLine($"LSTM {EchoModel.InputSize}→{EchoModel.HiddenSize}→{EchoModel.OutputSize}, {EchoModel.ParameterCount:N0} parameters.");
Console.WriteLine($"Task: at each step output the token read {EchoTask.Delay} steps earlier. Chance level: ln 8 = {Math.Log(8):F3} nats.");
Console.WriteLine();
Console.WriteLine(" update   mean loss (nats/step)");

var model = EchoTask.Train(updates: 1500, seed: 1, reportEvery: 100,
    report: (update, loss) => Console.WriteLine($"{update,7}   {loss,8:F4}  {new string('#', (int)Math.Round(loss * 20))}"));

Console.WriteLine();
Console.WriteLine($"Held-out loss: {EchoTask.Evaluate(model, count: 200, seed: 99):F4} nats/step.");
return 0;
