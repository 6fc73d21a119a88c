// Streaming inference, compiled ahead of time: read numbers (one per time step) from a file or stdin, run the
// model one Step per value, write one output per line. Statistics go to stderr, so stdout stays a clean stream.
//
//   StreamingAot --init MODEL [--seed N]      write a model file with seeded parameters (untrained)
//   StreamingAot MODEL [INPUT | -] [--quiet]  stream INPUT (default: stdin) through the model in MODEL
//
// The program itself is App.Run, over the console's streams here and over memory streams in the tests.
using StreamingAot;

using Stream standardInput = Console.OpenStandardInput();
using Stream standardOutput = Console.OpenStandardOutput();
return App.Run(args, standardInput, standardOutput, Console.Error);
