// CharRnn: a character-level LSTM language model (Karpathy's char-rnn, with RnnGen).
//   dotnet run -c Release --project samples/CharRnn                      train on this repository's own text
//   dotnet run -c Release --project samples/CharRnn -- generate          write text with the trained model
// See README.md beside this file, or run with --help.
using CharRnn;
using Spectre.Console;

// Into a file or a pipe: no wrapping at an imagined terminal width.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 10_000;

try
{
    var (command, settings) = CommandLine.Parse(args);
    switch (settings)
    {
        case GenerateSettings generate:
        {
            var checkpoint = Checkpoint.ReadInfo(generate.CheckpointPath ?? Checkpoint.DefaultPath(generate.Model ?? "small"), generate.Model);
            Checkpoint.CheckModel(generate.Model, checkpoint, "generate from");
            return ModelCatalog.Run(checkpoint.ModelName, new GenerateCommand(generate, checkpoint));
        }
        case TrainSettings train:
        {
            CheckpointInfo? resume = null;
            if (train.Resume)
            {
                resume = Checkpoint.ReadInfo(train.CheckpointPath ?? Checkpoint.DefaultPath(train.Model ?? "small"), train.Model);
                Checkpoint.CheckModel(train.Model, resume, "resume");
            }
            // --resume without --corpus continues on the text the checkpoint was trained on
            string? corpusPath = train.CorpusPath ?? resume?.CorpusPath;
            if (train.CorpusPath is null && corpusPath is not null && !File.Exists(corpusPath))
                throw new UsageException($"{resume!.Path} was trained on {corpusPath}, which is not there any more: give the text with --corpus FILE.");
            Corpus corpus = corpusPath is null ? Corpus.RepositoryText() : Corpus.FromFile(corpusPath);
            return ModelCatalog.Run(resume?.ModelName ?? train.Model ?? "small", new TrainCommand(train, corpus, resume));
        }
        default:
            Console.WriteLine(CommandLine.Usage);
            return command == "help" ? 0 : 2;
    }
}
catch (UsageException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine("Run with --help for the commands and options.");
    return 2;
}
catch (Exception e) when (e is CorpusException or CheckpointException or IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
