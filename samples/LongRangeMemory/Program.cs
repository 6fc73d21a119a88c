// The vanishing gradient, measured: a vanilla RNN, a GRU and an LSTM of about the same size learn to recall the first
// token of a sequence after L distractors, for L = 5 … 100. `dotnet run -c Release --project samples/LongRangeMemory`
// runs the full experiment (a few minutes); add `--quick` for a small one. See docs/vanishing-gradients.md.
return LongRangeMemory.Cli.Run(args, Console.Out, Console.Error);
