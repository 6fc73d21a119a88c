namespace RnnGen.Benchmarks;

// The models measured, declared as a user would: the real attributes, the real generator, float.
// Names: cell, input width, hidden width, layer count.

/// <summary>LSTM 64→128×2: the main streaming configuration (0.9 MB of weights).</summary>
[LstmModel(hidden: 128, layers: 2, Input = 64)]
public partial class Lstm64x128x2 { }

/// <summary>LSTM 64→64×1: RTNeural's published comparison configuration.</summary>
[LstmModel(hidden: 64, Input = 64)]
public partial class Lstm64x64x1 { }

/// <summary>GRU 64→64×1: RTNeural's published comparison configuration.</summary>
[GruModel(hidden: 64, Input = 64)]
public partial class Gru64x64x1 { }

/// <summary>LSTM 1→32×1: a per-sample audio model.</summary>
[LstmModel(hidden: 32, Input = 1)]
public partial class Lstm1x32x1 { }

/// <summary>LSTM 1→16×1: a per-sample audio model, where per-call overhead dominates.</summary>
[LstmModel(hidden: 16, Input = 1)]
public partial class Lstm1x16x1 { }

/// <summary>LSTM 512→512×1: a large layer (8.4 MB of weights, beyond L2).</summary>
[LstmModel(hidden: 512, Input = 512)]
public partial class Lstm512x512x1 { }

/// <summary>char-rnn's character model: vocabulary 65, LSTM 2×128, token inputs, a head of 65 logits.</summary>
[LstmModel(hidden: 128, layers: 2, Input = 65, Output = 65, Tokens = true)]
public partial class CharRnn { }
