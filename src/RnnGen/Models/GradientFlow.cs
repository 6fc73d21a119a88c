using System.ComponentModel;
using System.Numerics;
using System.Numerics.Tensors;

namespace RnnGen;

/// <summary>
/// Gradient-flow diagnostics recorded by <c>Backward</c> on a tape that has them enabled
/// (<see cref="RecurrentTape.EnableGradientFlow"/>): for every layer and every step boundary j = 0 … T,
/// the norm of the gradient of the loss with respect to the state after j steps, ‖∂E/∂h_j‖ (and ‖∂E/∂c_j‖
/// for an LSTM). j = 0 is the initial state, j = T the final state.
/// </summary>
/// <remarks>
/// <para>This is the quantity of the vanishing-gradient argument: for a vanilla RNN
/// <c>s_t = f(U·x_t + W·s_{t−1} + b)</c>, ∂E/∂s_k = (∂s_{k+1}/∂s_k)ᵀ ⋯ (∂s_T/∂s_{T−1})ᵀ ∂E/∂s_T, a product of
/// T − k Jacobians <c>diag(f′)·W</c>, so its norm typically shrinks (or grows) geometrically with the distance
/// T − k. An LSTM's cell state is carried additively (c_t = f ⊙ c_{t−1} + i ⊙ g), so with forget gates near 1
/// ‖∂E/∂c_k‖ stays large.</para>
/// <para>Precisely: the value at boundary j is the gradient with respect to the state <i>entering</i> step j
/// (what <c>Backward</c>'s <c>stateGradient</c> would return if the sequence were cut there), for each layer
/// separately. Recording costs one norm per layer and step; with the diagnostics off, <c>Backward</c> does no
/// extra work and allocates nothing.</para>
/// </remarks>
public sealed class GradientFlow
{
    private readonly double[] _hidden;
    private readonly double[]? _cell;

    /// <summary>Creates storage for up to <paramref name="maxSteps"/> steps.</summary>
    public GradientFlow(int maxSteps, int layers, bool hasCell)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSteps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        MaxSteps = maxSteps;
        LayerCount = layers;
        _hidden = new double[layers * (maxSteps + 1)];
        _cell = hasCell ? new double[layers * (maxSteps + 1)] : null;
    }

    /// <summary>The most steps one backward pass can record.</summary>
    public int MaxSteps { get; }

    /// <summary>Number of layers.</summary>
    public int LayerCount { get; }

    /// <summary>Whether cell-state norms are recorded (LSTM).</summary>
    public bool HasCell => _cell is not null;

    /// <summary>Steps of the last recorded backward pass (0 before any).</summary>
    public int Steps { get; private set; }

    /// <summary>‖∂E/∂h_j‖ of <paramref name="layer"/> for j = 0 … <see cref="Steps"/> (index j).</summary>
    public ReadOnlySpan<double> Hidden(int layer) => Row(_hidden, layer);

    /// <summary>‖∂E/∂c_j‖ of <paramref name="layer"/> for j = 0 … <see cref="Steps"/> (LSTM only).</summary>
    public ReadOnlySpan<double> Cell(int layer) =>
        Row(_cell ?? throw new InvalidOperationException("This model has no cell state; only Hidden(layer) is recorded."), layer);

    /// <summary>Used by generated code: starts a backward pass over <paramref name="steps"/> steps.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void Begin(int steps)
    {
        if (steps < 1 || steps > MaxSteps) throw new ArgumentOutOfRangeException(nameof(steps));
        Steps = steps;
    }

    /// <summary>Used by generated code: records the state gradient of <paramref name="layer"/> at <paramref name="boundary"/>.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void Record<T>(int layer, int boundary, ReadOnlySpan<T> hidden, ReadOnlySpan<T> cell) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if ((uint)layer >= (uint)LayerCount) throw new ArgumentOutOfRangeException(nameof(layer));
        if ((uint)boundary > (uint)Steps) throw new ArgumentOutOfRangeException(nameof(boundary));
        _hidden[layer * (MaxSteps + 1) + boundary] = Norm(hidden);
        if (_cell is not null)
            _cell[layer * (MaxSteps + 1) + boundary] = Norm(cell);
    }

    // ‖v‖ in double, scaled by the largest |v|: a float gradient of 1e-25 (its squares underflow in float) or 1e20 (they
    // overflow) keeps its norm, which is what a record of vanishing or exploding gradients is for.
    private static double Norm<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double largest = 0;
        foreach (T v in values)
        {
            double a = Math.Abs(double.CreateTruncating(v));
            if (!(a <= largest)) largest = a; // NaN passes too, and stays
        }
        if (largest == 0 || !double.IsFinite(largest))
            return largest;
        double sum = 0;
        foreach (T v in values)
        {
            double scaled = double.CreateTruncating(v) / largest;
            sum += scaled * scaled;
        }
        return largest * Math.Sqrt(sum);
    }

    private ReadOnlySpan<double> Row(double[] values, int layer)
    {
        if ((uint)layer >= (uint)LayerCount)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in [0, {LayerCount - 1}].");
        return values.AsSpan(layer * (MaxSteps + 1), Steps + 1);
    }
}
