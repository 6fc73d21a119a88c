namespace RnnGen.Tests.Docs;

// The models of docs/training.md, declared exactly as the guide declares them (keep in sync).

/// <summary>docs/training.md, "Many-to-many: a character language model".</summary>
[LstmModel(hidden: 64, Input = 28, Output = 28, Tokens = true)]
public partial class Chars { }

/// <summary>docs/training.md, "Many-to-one: a sequence classifier".</summary>
[GruModel(hidden: 24, Input = 1, Output = 3)]
public partial class WaveClassifier { }

/// <summary>docs/training.md, "One-to-many: a generator primed with a seed vector".</summary>
[LstmModel(hidden: 32, Input = 3, Output = 1)]
public partial class WaveGenerator { }

/// <summary>docs/training.md, "min-char-rnn".</summary>
[RnnModel(hidden: 100, Input = 65, Output = 65, Tokens = true)]
public partial class MinCharRnn { }

/// <summary>docs/training.md, "char-rnn".</summary>
[LstmModel(hidden: 128, layers: 2, Input = 65, Output = 65, Tokens = true)]
public partial class CharRnn { }
