namespace RnnGen.Tests.Models;

// Models used by the numerical tests. Every test model goes through the real generator.

[LstmModel(hidden: 5, layers: 3, Input = 3, Precision = Precision.Double)]
public partial class LstmD3x5 { }

[LstmModel(hidden: 5, layers: 3, Input = 3)]
public partial class LstmF3x5 { }

[LstmModel(hidden: 6, layers: 2, Input = 4, Output = 3, Precision = Precision.Double)]
public partial class LstmD2x6Head { }

[LstmModel(hidden: 6, layers: 2, Input = 4, Output = 3)]
public partial class LstmF2x6Head { }

[LstmModel(hidden: 7, layers: 2, Input = 11, Output = 11, Tokens = true, Precision = Precision.Double)]
public partial class LstmDTokens { }

[LstmModel(hidden: 7, layers: 2, Input = 11, Output = 11, Tokens = true)]
public partial class LstmFTokens { }

[LstmModel(hidden: 33, layers: 1, Input = 17, Output = 9)]
public partial class LstmF33 { }

// Several blocks of lanes in the in-place Step (with 512-bit lanes: an interleaved pair and a lone block), dense and tokens.
[GruModel(hidden: 40, Input = 6, Output = 3)]
public partial class GruF40 { }

[LstmModel(hidden: 48, Input = 20, Output = 20, Tokens = true)]
public partial class LstmF48Tokens { }

[GruModel(hidden: 5, layers: 3, Input = 3, Precision = Precision.Double)]
public partial class GruD3x5 { }

[RnnModel(hidden: 5, layers: 3, Input = 3, Precision = Precision.Double)]
public partial class RnnTanhD3x5 { }

[RnnModel(hidden: 5, layers: 2, Input = 3, Output = 4, Activation = RnnActivation.Relu, Precision = Precision.Double)]
public partial class RnnReluD2x5 { }

[GruModel(hidden: 7, layers: 2, Input = 11, Output = 11, Tokens = true, Precision = Precision.Double)]
public partial class GruDTokens { }

[RnnModel(hidden: 6, layers: 1, Input = 9, Tokens = true, Precision = Precision.Double)]
public partial class RnnTanhDTokens { }

[GruModel(hidden: 5, layers: 3, Input = 3)]
public partial class GruF3x5 { }

[RnnModel(hidden: 5, layers: 3, Input = 3)]
public partial class RnnTanhF3x5 { }

[RnnModel(hidden: 5, layers: 2, Input = 3, Output = 4, Activation = RnnActivation.Relu)]
public partial class RnnReluF2x5 { }

[GruModel(hidden: 7, layers: 2, Input = 11, Output = 11, Tokens = true)]
public partial class GruFTokens { }

[GruModel(hidden: 16, Input = 6, Output = 6, Tokens = true)]
public partial class GruEcho { }

[RnnModel(hidden: 24, Input = 6, Output = 6, Tokens = true)]
public partial class RnnEcho { }

// Above 32,768 gate weights: Step runs through Forward's packed copies (StepPacked) instead of the small models' own copy.
[LstmModel(hidden: 64, layers: 2, Input = 30, Output = 7)]
public partial class LstmFLarge { }

// Above the in-place size, 100 units: not whole vectors (the cell's last vector is partial) nor blocks (no team); no head.
[LstmModel(hidden: 100, Input = 20)]
public partial class LstmF100 { }

// A team without a head: dense input, whole blocks of units, above the in-place size; the output may be the state's top h.
[LstmModel(hidden: 128, Input = 16)]
public partial class LstmFTeamNoHead { }

[GruModel(hidden: 96, Input = 40, Output = 5)]
public partial class GruFLarge { }

// Exactly 32,768 gate weights (RTNeural's LSTM 64→64): the largest model whose Step runs in place.
[LstmModel(hidden: 64, Input = 64, Output = 5)]
public partial class LstmF64 { }

// min-char-rnn's sizes: hidden 100 is not a multiple of any vector width (16,500 gate weights: Step in place).
[RnnModel(hidden: 100, Input = 65, Output = 65, Tokens = true)]
public partial class RnnFChars { }

// Wide enough that Forward cuts a window into several chunks (ChunkRows = 256 KB of gate sums: 64, 145 and 128 rows), and
// above the in-place size, so that Step runs the products of Forward's chunk of one step.
[LstmModel(hidden: 256, layers: 2, Input = 20, Output = 3)]
public partial class LstmFChunked { }

[GruModel(hidden: 150, layers: 2, Input = 30, Tokens = true)]
public partial class GruFChunked { }

[RnnModel(hidden: 256, Input = 10, Output = 4, Precision = Precision.Double)]
public partial class RnnDChunked { }

// Hidden 128 splits between two cores in whole packed blocks at every vector width: Step on a CoreTeam.
[GruModel(hidden: 128, layers: 2, Input = 30, Output = 5)]
public partial class GruFTeam { }

[LstmModel(hidden: 128, layers: 2, Input = 65, Output = 65, Tokens = true)]
public partial class LstmTokensTeam { }

// Hidden 192: three packed blocks with AVX-512 (split 1 + 2), six with AVX2, twelve with SSE.
[GruModel(hidden: 192, Input = 20, Output = 3)]
public partial class GruFOddBlocks { }

// Three-layer token models for the layer pipeline (one with no head: its outputs are the top layer's h).
[LstmModel(hidden: 6, layers: 3, Input = 9, Output = 9, Tokens = true, Precision = Precision.Double)]
public partial class LstmD3Tokens { }

[GruModel(hidden: 6, layers: 3, Input = 9, Tokens = true, Precision = Precision.Double)]
public partial class GruD3TokensNoHead { }

[RnnModel(hidden: 6, layers: 3, Input = 9, Output = 9, Tokens = true, Precision = Precision.Double)]
public partial class RnnD3Tokens { }

[RnnModel(hidden: 6, layers: 2, Input = 9, Output = 9, Activation = RnnActivation.Relu, Tokens = true, Precision = Precision.Double)]
public partial class RnnReluD2Tokens { }

// Four layers: the layer pipeline splits them at layer 2 (core A runs layers 0 and 1).
[LstmModel(hidden: 6, layers: 4, Input = 9, Output = 9, Tokens = true, Precision = Precision.Double)]
public partial class LstmD4Tokens { }

// A head of 65,536 outputs on a small model: a window of 65,537 steps needs more outputs than a span holds (the length
// check must not wrap around in int).
[GruModel(hidden: 8, Input = 1, Output = 65536)]
public partial class GruFWideHead { }
