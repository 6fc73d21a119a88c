using System.Numerics;

namespace RnnGen;

/// <summary>
/// Implemented by every generated model class. Static members describe the model; instance members
/// run it. The trainer, optimizers, samplers and model files are written once against this interface
/// (generic over the model type, so no reflection and NativeAOT-safe).
/// </summary>
/// <typeparam name="TSelf">The generated model class.</typeparam>
/// <typeparam name="T">The scalar type: <see cref="float"/> or <see cref="double"/>.</typeparam>
/// <remarks>
/// The generated class also has strongly typed members (<c>ref State</c>, <c>Tape</c>) that are the
/// preferred way to call a known model; the members here take the base types and check that the
/// state and tape belong to this model.
/// </remarks>
public interface IRecurrentModel<TSelf, T>
    where TSelf : class, IRecurrentModel<TSelf, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Cell kind, sizes, options and parameter layout.</summary>
    static abstract ModelInfo Info { get; }

    /// <summary>Creates a model with zero parameters (call <see cref="InitializeParameters"/> or load a file).</summary>
    static abstract TSelf Create();

    /// <summary>
    /// Values one layer records per step: <c>h</c> first (<c>HiddenSize</c> values), then, for an LSTM, <c>c</c>, then what
    /// the cell's backward needs. For drivers that run a model layer by layer (the two-core layer pipeline); generated
    /// models implement it, the default throws.
    /// </summary>
    static virtual int CellRecordSize => throw new NotSupportedException($"{typeof(TSelf).Name} does not expose its cell.");

    /// <summary>
    /// The model's cell forward for one step of one layer, exactly as its own <c>Forward</c> runs it: from the gate
    /// pre-activations <paramref name="gx"/> (for an LSTM or RNN, both halves and both biases summed; for a GRU, the input
    /// part, with the hidden part in <paramref name="gh"/>) and the previous state to the layer's record.
    /// <paramref name="gh"/> is ignored but by GRUs, <paramref name="cPrev"/> but by LSTMs.
    /// </summary>
    static virtual void CellForward(ReadOnlySpan<T> gx, ReadOnlySpan<T> gh, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> cPrev, Span<T> record) =>
        throw new NotSupportedException($"{typeof(TSelf).Name} does not expose its cell.");

    /// <summary>
    /// The model's cell backward for one step of one layer, exactly as its own <c>Backward</c> runs it: from dL/dh (and, for
    /// an LSTM, dL/dc, turned into dL/dc_prev in place) to the gradients of the pre-activations (<paramref name="dgx"/>, and
    /// for a GRU the hidden part's in <paramref name="dgh"/>); adds any direct path into <paramref name="dhPrev"/>.
    /// </summary>
    static virtual void CellBackward(ReadOnlySpan<T> record, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> cPrev, Span<T> dh, Span<T> dc,
        Span<T> dgx, Span<T> dgh, Span<T> dhPrev) =>
        throw new NotSupportedException($"{typeof(TSelf).Name} does not expose its cell.");

    /// <summary>All parameters in one flat buffer, in PyTorch layout (see <see cref="ModelInfo.Layout"/>).</summary>
    Span<T> Parameters { get; }

    /// <summary>Gradients with the layout of <see cref="Parameters"/>; <c>Backward</c> adds into it.</summary>
    Span<T> Gradients { get; }

    /// <summary>Deterministic PyTorch-style initialisation: every parameter ~ U(−1/√H, 1/√H).</summary>
    void InitializeParameters(int seed);

    /// <summary>Call after writing <see cref="Parameters"/> directly; refreshes any private repacked copy.</summary>
    void ParametersChanged();

    /// <summary>A zero state for this model.</summary>
    RecurrentState<T> CreateState();

    /// <summary>A tape that records up to <paramref name="maxSteps"/> steps for backpropagation through time.</summary>
    RecurrentTape CreateTape(int maxSteps);

    /// <summary>
    /// A tape that records up to <paramref name="maxSteps"/> steps of up to <paramref name="lanes"/> sequences run in lockstep
    /// (the lane overloads of <c>Forward</c>).
    /// </summary>
    RecurrentTape CreateTape(int maxSteps, int lanes);

    /// <summary>One inference step on a dense input vector (see the generated <c>Step</c>).</summary>
    void Step(ReadOnlySpan<T> input, RecurrentState<T> state, Span<T> output);

    /// <summary>One inference step on a token id (token models only).</summary>
    void Step(int token, RecurrentState<T> state, Span<T> output);

    /// <summary>Runs <c>inputs.Length / InputSize</c> steps, recording them on <paramref name="tape"/>.</summary>
    void Forward(ReadOnlySpan<T> inputs, RecurrentState<T> state, RecurrentTape tape, Span<T> outputs);

    /// <summary>Runs <c>tokens.Length</c> steps on token ids, recording them on <paramref name="tape"/>.</summary>
    void Forward(ReadOnlySpan<int> tokens, RecurrentState<T> state, RecurrentTape tape, Span<T> outputs);

    /// <summary>
    /// Runs <c>states.Length</c> sequences ("lanes") in lockstep, each of <c>inputs.Length / (lanes · InputSize)</c> steps, so
    /// that every weight read serves all lanes. Lane-major: lane b's inputs, outputs (and, in <c>Backward</c>, gradients) are
    /// the b-th equal part of each span. The same results as running each lane alone with <c>Forward</c>, up to float rounding.
    /// </summary>
    void Forward(ReadOnlySpan<T> inputs, ReadOnlySpan<RecurrentState<T>> states, RecurrentTape tape, Span<T> outputs);

    /// <summary>Runs <c>states.Length</c> token sequences in lockstep (token models only); lane-major, as the dense overload.</summary>
    void Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<RecurrentState<T>> states, RecurrentTape tape, Span<T> outputs);

    /// <summary>
    /// Backpropagation through time over the last <c>Forward</c> on <paramref name="tape"/>; adds into
    /// <see cref="Gradients"/>. <paramref name="stateGradient"/>, when not null, holds dLoss/d(final state)
    /// on entry and dLoss/d(initial state) on return (one lane only: for a tape with several lanes, pass null or use the
    /// generated class's overload that takes one state gradient per lane).
    /// </summary>
    void Backward(RecurrentTape tape, ReadOnlySpan<T> outputGradients, Span<T> inputGradients, RecurrentState<T>? stateGradient);
}
