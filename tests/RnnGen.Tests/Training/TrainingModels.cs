namespace RnnGen.Tests.Training;

// Models used by the trainer tests, declared with the real attributes (so they go through the generator).

/// <summary>Parity of a bit string: dense one-hot bits in, two classes out at the last step.</summary>
[LstmModel(hidden: 16, Input = 2, Output = 2)]
public partial class ParityModel { }

/// <summary>Echo of the token seen k steps ago: tokens in, one class per step out.</summary>
[LstmModel(hidden: 16, Input = 4, Output = 4, Tokens = true)]
public partial class EchoModel { }

/// <summary>A small double-precision token model for exact gradient comparisons.</summary>
[LstmModel(hidden: 3, layers: 2, Input = 5, Output = 4, Tokens = true, Precision = Precision.Double)]
public partial class TinyTokenModel { }

/// <summary>A small double-precision dense GRU for the dense losses (MSE, BCE).</summary>
[GruModel(hidden: 3, Input = 2, Output = 2, Precision = Precision.Double)]
public partial class TinyDenseGru { }

/// <summary>A small float RNN for the determinism and allocation tests.</summary>
[RnnModel(hidden: 8, Input = 6, Output = 6, Tokens = true)]
public partial class SmallRnn { }

/// <summary>Two layers of it: one lane of it trains as the layer pipeline.</summary>
[RnnModel(hidden: 2, layers: 2, Input = 1, Output = 1, Activation = RnnActivation.Relu, Precision = Precision.Double)]
public partial class ReluRnn2 { }

/// <summary>A ReLU RNN whose state can be made to overflow (for the non-finite state tests).</summary>
[RnnModel(hidden: 2, Input = 1, Output = 1, Activation = RnnActivation.Relu, Precision = Precision.Double)]
public partial class ReluRnn { }

/// <summary>A character model over a 32-symbol vocabulary (the usage example).</summary>
[LstmModel(hidden: 32, Input = 32, Output = 32, Tokens = true)]
public partial class TinyCharModel { }

/// <summary>A token RNN whose head is so wide that 10,000 steps × 16 lanes of its outputs outgrow an array before its tape does.</summary>
[RnnModel(hidden: 2, Input = 4, Output = 20_000, Tokens = true)]
public partial class VeryWideHeadRnn { }
