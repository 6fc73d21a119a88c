using RnnGen;

namespace StreamingAot;

/// <summary>
/// The streaming model: one value in per step (an audio sample, a sensor reading), one LSTM layer of 32 units,
/// one value out. Sizes are compile-time constants, so <c>Step</c> is fully specialised and allocates nothing.
/// </summary>
[LstmModel(hidden: 32, Input = 1, Output = 1)]
public partial class StreamModel { }
