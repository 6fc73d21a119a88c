using RnnGen;

namespace LongRangeMemory;

// Three cells with (roughly) the same number of parameters, ≈ 6,700 each, so that a difference in what they learn is
// a difference of the cell, not of capacity. Per layer a cell with G gate blocks has G·(H·I + H·H + 2H) parameters
// (G = 1 RNN, 3 GRU, 4 LSTM) and the head K·H + K, with I = 16 tokens and K = 8 classes:
//   RNN  H = 70:  70·16 + 70·70 + 140 + 8·70 + 8 = 6,728
//   GRU  H = 38:  3·(38·16 + 38·38 + 76) + 8·38 + 8 = 6,696
//   LSTM H = 32:  4·(32·16 + 32·32 + 64) + 8·32 + 8 = 6,664
// Inputs are token ids (RecallTask.Vocabulary = 16), outputs 8 logits, one per class of the token to recall.

/// <summary>Vanilla (Elman) RNN, s_t = tanh(U·x_t + W·s_{t−1} + b): 6,728 parameters.</summary>
[RnnModel(hidden: 70, Input = RecallTask.Vocabulary, Tokens = true, Output = RecallTask.Classes)]
public partial class RecallRnn { }

/// <summary>GRU: 6,696 parameters.</summary>
[GruModel(hidden: 38, Input = RecallTask.Vocabulary, Tokens = true, Output = RecallTask.Classes)]
public partial class RecallGru { }

/// <summary>LSTM: 6,664 parameters.</summary>
[LstmModel(hidden: 32, Input = RecallTask.Vocabulary, Tokens = true, Output = RecallTask.Classes)]
public partial class RecallLstm { }

// Double-precision twins with the same layout: the gradient-flow probe copies a model's parameters into its twin,
// because ‖∂E/∂h_k‖ of a vanilla RNN 100 steps back (1e−20 of the gradient at the output, which itself is small once the
// model is confident) can fall below float's smallest normal number, ≈ 1e−38.

/// <summary><see cref="RecallRnn"/> in double precision, for the gradient-flow probe.</summary>
[RnnModel(hidden: 70, Input = RecallTask.Vocabulary, Tokens = true, Output = RecallTask.Classes, Precision = Precision.Double)]
public partial class RecallRnnProbe { }

/// <summary><see cref="RecallGru"/> in double precision, for the gradient-flow probe.</summary>
[GruModel(hidden: 38, Input = RecallTask.Vocabulary, Tokens = true, Output = RecallTask.Classes, Precision = Precision.Double)]
public partial class RecallGruProbe { }

/// <summary><see cref="RecallLstm"/> in double precision, for the gradient-flow probe.</summary>
[LstmModel(hidden: 32, Input = RecallTask.Vocabulary, Tokens = true, Output = RecallTask.Classes, Precision = Precision.Double)]
public partial class RecallLstmProbe { }
