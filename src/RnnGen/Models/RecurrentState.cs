using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Numerics;

namespace RnnGen;

/// <summary>
/// The recurrent state of a model: every layer's <c>h</c> (and <c>c</c> for an LSTM) in one heap buffer.
/// Generated models derive their <c>State</c> class from it. Layout of <see cref="Values"/>:
/// <c>h</c> of layers 0…L−1, then (LSTM) <c>c</c> of layers 0…L−1 — the order of PyTorch's <c>h0</c>/<c>c0</c>.
/// </summary>
public abstract class RecurrentState<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _storage;   // pinned; the values start at _start, on a 64-byte boundary (see the constructor)
    private readonly int _start, _length;
    private long _checkMark;         // the CheckDisjoint call that last saw this state (see there)
    private static long s_checkCalls;

    /// <summary>Creates a zero state.</summary>
    protected RecurrentState(int layers, int hidden, bool hasCell)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hidden, 1);
        LayerCount = layers;
        HiddenSize = hidden;
        HasCell = hasCell;
        // Aligned: a step stores h and c as whole vectors and the next step reads them back at once; a vector store that
        // straddles two cache lines is not forwarded to those loads, and the step would wait for it to reach the cache.
        long length = (hasCell ? 2L : 1L) * layers * hidden;
        if (length > Array.MaxLength - 64) // room for the alignment
            throw new ArgumentOutOfRangeException(nameof(hidden), hidden,
                $"a state of {layers} layer(s) × {hidden} units{(hasCell ? " with cell states" : "")} needs {length} values, more than an array holds ({Array.MaxLength}).");
        _length = (int)length;
        _storage = Kernels.Simd.AllocateAligned<T>(_length, out _start);
    }

    /// <summary>Number of layers.</summary>
    public int LayerCount { get; }

    /// <summary>Width of each layer's vectors.</summary>
    public int HiddenSize { get; }

    /// <summary>Whether there is a cell vector per layer (LSTM).</summary>
    public bool HasCell { get; }

    /// <summary>All values: every layer's <c>h</c>, then every layer's <c>c</c> (LSTM).</summary>
    public Span<T> Values => new(_storage, _start, _length);

    /// <summary>Live view of the hidden state <c>h</c> of <paramref name="layer"/> (0 = bottom).</summary>
    public Span<T> Hidden(int layer)
    {
        if ((uint)layer >= (uint)LayerCount)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in [0, {LayerCount - 1}].");
        return _storage.AsSpan(_start + layer * HiddenSize, HiddenSize);
    }

    /// <summary>Live view of the cell state <c>c</c> of <paramref name="layer"/> (LSTM only).</summary>
    public Span<T> Cell(int layer)
    {
        if (!HasCell)
            throw new InvalidOperationException("This model has no cell state: Cell(layer) exists for LSTM models only.");
        if ((uint)layer >= (uint)LayerCount)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in [0, {LayerCount - 1}].");
        return _storage.AsSpan(_start + (LayerCount + layer) * HiddenSize, HiddenSize);
    }

    /// <summary>Sets every value to zero.</summary>
    public void Reset() => Values.Clear();

    /// <summary>
    /// Throws <see cref="ArgumentException"/> (naming <paramref name="name"/>) unless the states' values are pairwise
    /// disjoint: the lane overloads of a generated model's <c>Forward</c> and <c>Backward</c> advance or overwrite each
    /// lane's state in place, so two lanes sharing one would lose one lane's result. Generated code calls this before it
    /// writes anything.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
    public static void CheckDisjoint(ReadOnlySpan<RecurrentState<T>> states, string name)
    {
        if (states.Length < 2)
            return;
        // Every state owns its storage, so two lanes share values exactly when they are one object. Each call marks the
        // states it sees with a number of its own (a 64-bit count that never repeats): a state already marked by this call
        // is a repeat. One pass, not a comparison of every pair, so that a server stepping hundreds of streams in one call
        // pays nothing noticeable for the check; and nothing is allocated.
        long call = Interlocked.Increment(ref s_checkCalls);
        for (int b = 0; b < states.Length; b++)
        {
            RecurrentState<T> state = states[b];
            if (state is null)
                continue;
            if (state._checkMark == call)
            {
                int a = 0;
                while (!ReferenceEquals(states[a], state))
                    a++; // the first lane holding it
                throw new ArgumentException($"{name}[{b}] is the same object as {name}[{a}]: every lane needs a state of its own (Clone() one).", name);
            }
            state._checkMark = call;
        }
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> (naming <paramref name="spanName"/>) if <paramref name="span"/> shares memory
    /// with the values of any of <paramref name="states"/>: an output written there would be overwritten by the state, or
    /// the other way round. Generated code calls this before it writes anything.
    /// </summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
    public static void CheckApart(ReadOnlySpan<T> span, ReadOnlySpan<RecurrentState<T>> states, string spanName, string statesName)
    {
        for (int b = 0; b < states.Length; b++)
        {
            if (states[b] is not null && span.Overlaps(states[b].Values))
                throw new ArgumentException(states.Length == 1
                    ? $"{spanName} shares memory with {statesName}'s values: pass a buffer of its own."
                    : $"{spanName} shares memory with {statesName}[{b}]'s values: pass a buffer of its own.", spanName);
        }
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> (naming <c>output</c>) if a step's <paramref name="output"/> shares memory with
    /// <paramref name="state"/>'s values: the output and the new state would overwrite each other. A model without a head
    /// (<paramref name="outputIsTopHidden"/>), whose output is its top layer's h, may be given exactly that h
    /// (<c>state.Hidden(LayerCount − 1)</c>). Generated <c>Step</c> calls this before it writes anything.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)] // called by generated code; not an API to program against
    public static void CheckStepOutput(ReadOnlySpan<T> output, RecurrentState<T> state, bool outputIsTopHidden)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (output.Overlaps(state.Values, out int at) &&
            !(outputIsTopHidden && at == -(state.LayerCount - 1) * state.HiddenSize && output.Length == state.HiddenSize))
            ThrowStepOutput(outputIsTopHidden);
    }

    [DoesNotReturn]
    private static void ThrowStepOutput(bool outputIsTopHidden) =>
        throw new ArgumentException(outputIsTopHidden
            ? "output shares memory with the state's values other than the top layer's h (state.Hidden(LayerCount - 1)): pass a buffer of its own, or exactly that h."
            : "output shares memory with the state's values: pass a buffer of its own.", "output");

    private static string Shape(RecurrentState<T> state) =>
        $"{state.LayerCount} layer(s) of {state.HiddenSize} units{(state.HasCell ? " with cell states" : "")}";

    /// <summary>Copies this state into <paramref name="destination"/> (which must have the same shape).</summary>
    public void CopyTo(RecurrentState<T> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.LayerCount != LayerCount || destination.HiddenSize != HiddenSize || destination.HasCell != HasCell)
            throw new ArgumentException(
                $"The destination state holds {Shape(destination)}; this state holds {Shape(this)}: copy between states of one model.", nameof(destination));
        Values.CopyTo(destination.Values);
    }
}

/// <summary>
/// Base class of a generated model's <c>Tape</c>: what one <c>Forward</c> recorded for <c>Backward</c>.
/// </summary>
public abstract class RecurrentTape
{
    /// <summary>Creates a tape for at most <paramref name="maxSteps"/> steps of up to <paramref name="maxLanes"/> sequences run in lockstep.</summary>
    protected RecurrentTape(int maxSteps, int maxLanes = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLanes, 1);
        MaxSteps = maxSteps;
        MaxLanes = maxLanes;
    }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> (not an overflow deep in an allocation) when the tape's largest array
    /// would need <paramref name="values"/> values, more than an array holds. Generated tapes call this first.
    /// </summary>
    protected static void CheckSize(long values, int maxSteps, int maxLanes)
    {
        if (values > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(maxSteps), maxSteps,
                $"A tape of {maxSteps} steps × {maxLanes} lanes needs arrays of {values:N0} values; an array holds at most " +
                $"{Array.MaxLength:N0}. Record fewer steps or lanes per Forward (cut long sequences into windows).");
    }

    /// <summary>The largest number of steps one <c>Forward</c> can record (per lane).</summary>
    public int MaxSteps { get; }

    /// <summary>The largest number of lanes (sequences run in lockstep) one <c>Forward</c> can record.</summary>
    public int MaxLanes { get; }

    /// <summary>Steps recorded by the last <c>Forward</c> (0 before any), per lane.</summary>
    public int Steps { get; protected set; }

    /// <summary>Lanes recorded by the last <c>Forward</c> (0 before any).</summary>
    public int Lanes { get; protected set; }

    /// <summary>The gradient-flow diagnostics that <c>Backward</c> records, or null when they are off (the default).</summary>
    public GradientFlow? GradientFlow { get; protected set; }

    /// <summary>
    /// Turns on gradient-flow diagnostics: from now on each <c>Backward</c> on this tape records ‖∂E/∂h‖ (and ‖∂E/∂c‖)
    /// per layer and step boundary into <see cref="GradientFlow"/> (of lane 0 when the tape ran several lanes). Allocates once;
    /// costs one norm per layer and step.
    /// </summary>
    public abstract GradientFlow EnableGradientFlow();

    /// <summary>Turns gradient-flow diagnostics off again.</summary>
    public void DisableGradientFlow() => GradientFlow = null;
}
