namespace RnnGen.Tests.Onnx;

// Models for the ONNX tests: each differs from one model of Models/TestModels.cs in exactly one respect, so that an
// import of the other's ONNX file must be refused with a message naming that respect.

[LstmModel(hidden: 5, layers: 2, Input = 3)]          // LstmF3x5 has 3 layers
public partial class OnnxLstm2x5 { }

[LstmModel(hidden: 6, layers: 3, Input = 3)]          // LstmF3x5 has hidden 5
public partial class OnnxLstm3x6 { }

[LstmModel(hidden: 5, layers: 3, Input = 4)]          // LstmF3x5 has input 3
public partial class OnnxLstm3x5In4 { }

[LstmModel(hidden: 5, layers: 3, Input = 3, Output = 2)] // LstmF3x5 has no head
public partial class OnnxLstm3x5Head { }

[LstmModel(hidden: 6, layers: 2, Input = 4, Output = 5)] // LstmF2x6Head has 3 outputs
public partial class OnnxLstm2x6Head5 { }

[RnnModel(hidden: 5, layers: 2, Input = 3, Output = 4)]  // RnnReluF2x5 is ReLU
public partial class OnnxRnnTanh2x5Head { }

[LstmModel(hidden: 7, layers: 2, Input = 11, Output = 11)] // LstmFTokens reads token ids
public partial class OnnxLstmDense11 { }

[GruModel(hidden: 4, layers: 1, Input = 2, Output = 3)]    // a one-layer GRU with a head
public partial class OnnxGru1x4Head { }

[RnnModel(hidden: 6, layers: 1, Input = 9, Tokens = true)] // RnnTanhDTokens in float
public partial class OnnxRnnTokens { }

[LstmModel(hidden: 4, layers: 2, Input = 3, Output = 4)]  // a square head: [Output, Hidden] and [Hidden, Output] alike
public partial class OnnxSquareLstm { }

// The models of the PyTorch-exported fixtures (Fixtures/make_fixtures.py): nn.LSTM / nn.GRU / nn.RNN(relu)(3, 5, 2) + nn.Linear(5, 2).

[LstmModel(hidden: 5, layers: 2, Input = 3, Output = 2)]
public partial class TorchLstm { }

[GruModel(hidden: 5, layers: 2, Input = 3, Output = 2)]
public partial class TorchGru { }

[RnnModel(hidden: 5, layers: 2, Input = 3, Output = 2, Activation = RnnActivation.Relu)]
public partial class TorchRnnRelu { }
