namespace RnnGen.Oracle.Tests;

// The models checked against libtorch. Every one goes through the real generator. Sizes are odd on purpose
// (1, primes, 65 = 4 × 16 + 1 so vectorised loops have a remainder); names read Kind_H{hidden}_L{layers}_In{input}[_Out{head}].
// Registered for the tests in OracleModels.All.

// ---------------------------------------------------------------- LSTM (float)
[LstmModel(hidden: 1, layers: 1, Input = 1)]
public partial class Lstm_H1_L1_In1 { }

[LstmModel(hidden: 7, layers: 1, Input = 3)]
public partial class Lstm_H7_L1_In3 { }

[LstmModel(hidden: 13, layers: 2, Input = 5, Output = 3)]
public partial class Lstm_H13_L2_In5_Out3 { }

[LstmModel(hidden: 9, layers: 3, Input = 11, Output = 6)]
public partial class Lstm_H9_L3_In11_Out6 { }

[LstmModel(hidden: 65, layers: 2, Input = 37, Output = 7)]
public partial class Lstm_H65_L2_In37_Out7 { }

[LstmModel(hidden: 10, layers: 2, Input = 17, Output = 17, Tokens = true)]
public partial class Lstm_H10_L2_Tokens17 { }

// ---------------------------------------------------------------- GRU (float)
[GruModel(hidden: 1, layers: 1, Input = 1)]
public partial class Gru_H1_L1_In1 { }

[GruModel(hidden: 5, layers: 1, Input = 3)]
public partial class Gru_H5_L1_In3 { }

[GruModel(hidden: 13, layers: 2, Input = 5, Output = 3)]
public partial class Gru_H13_L2_In5_Out3 { }

[GruModel(hidden: 9, layers: 3, Input = 11)]
public partial class Gru_H9_L3_In11 { }

[GruModel(hidden: 65, layers: 2, Input = 37, Output = 7)]
public partial class Gru_H65_L2_In37_Out7 { }

[GruModel(hidden: 10, layers: 2, Input = 17, Output = 17, Tokens = true)]
public partial class Gru_H10_L2_Tokens17 { }

// ---------------------------------------------------------------- RNN, tanh (float)
[RnnModel(hidden: 1, layers: 1, Input = 1)]
public partial class RnnTanh_H1_L1_In1 { }

[RnnModel(hidden: 13, layers: 2, Input = 5, Output = 3)]
public partial class RnnTanh_H13_L2_In5_Out3 { }

[RnnModel(hidden: 9, layers: 3, Input = 11)]
public partial class RnnTanh_H9_L3_In11 { }

[RnnModel(hidden: 65, layers: 1, Input = 37, Output = 5)]
public partial class RnnTanh_H65_L1_In37_Out5 { }

[RnnModel(hidden: 10, layers: 2, Input = 17, Output = 17, Tokens = true)]
public partial class RnnTanh_H10_L2_Tokens17 { }

// ---------------------------------------------------------------- RNN, ReLU (float)
[RnnModel(hidden: 7, layers: 1, Input = 3, Activation = RnnActivation.Relu)]
public partial class RnnRelu_H7_L1_In3 { }

[RnnModel(hidden: 13, layers: 2, Input = 5, Output = 3, Activation = RnnActivation.Relu)]
public partial class RnnRelu_H13_L2_In5_Out3 { }

[RnnModel(hidden: 9, layers: 3, Input = 11, Output = 6, Activation = RnnActivation.Relu)]
public partial class RnnRelu_H9_L3_In11_Out6 { }

[RnnModel(hidden: 65, layers: 2, Input = 37, Activation = RnnActivation.Relu)]
public partial class RnnRelu_H65_L2_In37 { }

[RnnModel(hidden: 10, layers: 1, Input = 17, Output = 17, Tokens = true, Activation = RnnActivation.Relu)]
public partial class RnnRelu_H10_L1_Tokens17 { }

// ---------------------------------------------------------------- double precision (against libtorch in float64)
[LstmModel(hidden: 9, layers: 3, Input = 11, Output = 6, Precision = Precision.Double)]
public partial class LstmD_H9_L3_In11_Out6 { }

[LstmModel(hidden: 10, layers: 2, Input = 17, Output = 17, Tokens = true, Precision = Precision.Double)]
public partial class LstmD_H10_L2_Tokens17 { }

[GruModel(hidden: 13, layers: 2, Input = 5, Output = 3, Precision = Precision.Double)]
public partial class GruD_H13_L2_In5_Out3 { }

[RnnModel(hidden: 9, layers: 3, Input = 11, Output = 6, Precision = Precision.Double)]
public partial class RnnTanhD_H9_L3_In11_Out6 { }

[RnnModel(hidden: 13, layers: 2, Input = 5, Activation = RnnActivation.Relu, Precision = Precision.Double)]
public partial class RnnReluD_H13_L2_In5 { }
