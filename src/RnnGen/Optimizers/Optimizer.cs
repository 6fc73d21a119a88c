using System.Numerics;

namespace RnnGen;

/// <summary>
/// Base class of RnnGen's optimizers: updates one flat parameter buffer from its gradients, in place,
/// following the update rules of <c>torch.optim</c> with PyTorch's defaults, so hyper-parameters carry over.
/// </summary>
/// <typeparam name="T">The scalar type of the model: <see cref="float"/> or <see cref="double"/>.</typeparam>
/// <remarks>
/// <para>
/// An optimizer is created for one parameter count and owns its state (moment buffers), allocated once in
/// the constructor; <see cref="Step(Span{T}, ReadOnlySpan{T})"/> allocates nothing. Element-wise math runs
/// in <typeparamref name="T"/> (float math for a float model, as PyTorch does for float32 tensors); per-step
/// scalars (bias corrections, decayed learning rates) are computed in <see cref="double"/> first, as PyTorch
/// computes them in Python floats.
/// </para>
/// <para>Typical use with a generated model (gradients are added by <c>Backward</c>, so clear them per batch):</para>
/// <code>
/// var optimizer = new Adam&lt;float&gt;(MyModel.ParameterCount, learningRate: 2e-3);
/// model.Gradients.Clear();
/// model.Forward(...); loss...; model.Backward(...);
/// GradientClipping.ClipByGlobalNorm(model.Gradients, 5f);
/// optimizer.LearningRate = schedule.LearningRate(optimizer.StepCount);
/// optimizer.Step(model);
/// </code>
/// <para>Clipping by value (char-rnn's clamp at 5) can ride along with the step: <c>optimizer.Step(model, clipValue: 5f)</c>
/// gives the same bits as <c>GradientClipping.ClipByValue(model.Gradients, 5f)</c> then <c>optimizer.Step(model)</c>, in one
/// pass over the gradients instead of three. (A subclass written elsewhere of one of RnnGen's optimizers, say of
/// <see cref="Adam{T}"/> with its own <c>Update</c>, gets the clamp as a pass of its own and then its <c>Update</c>; the
/// trainer's layer pipeline, which steps ranges of the parameters with RnnGen's rules, is not used for it.)</para>
/// <para>An instance is used by one thread at a time.</para>
/// </remarks>
public abstract class Optimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _state;

    /// <summary>
    /// Whether this optimizer is one of RnnGen's own, whose fused passes (<see cref="StepRange"/>, the transform and the
    /// finiteness check in the step's pass) apply its rule. A subclass written elsewhere — of a public optimizer such as
    /// <see cref="Adam{T}"/>, whose <c>Update</c> it may override — only ever runs through <c>Update</c>.
    /// </summary>
    private readonly bool _ownRule;
    private double _learningRate;
    private long _stepCount;

    /// <summary>Creates an optimizer for <paramref name="parameterCount"/> parameters.</summary>
    /// <param name="parameterCount">Length of the parameter and gradient spans every step will receive (at least 1).</param>
    /// <param name="learningRate">Initial learning rate γ (finite, at least 0).</param>
    /// <param name="stateBufferCount">
    /// How many per-parameter state buffers the algorithm keeps (moment estimates); each is
    /// <paramref name="parameterCount"/> long, all in one allocation made here.
    /// </param>
    protected Optimizer(int parameterCount, double learningRate, int stateBufferCount)
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Optimizers support float and double parameters, not {typeof(T).Name}.");
        _ownRule = GetType().Assembly == typeof(Optimizer<T>).Assembly;
        ArgumentOutOfRangeException.ThrowIfLessThan(parameterCount, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(stateBufferCount);
        HyperParameter.CheckNonNegative<T>(learningRate, nameof(learningRate));
        _learningRate = learningRate;
        ParameterCount = parameterCount;
        StateBufferCount = stateBufferCount;
        long stateLength = (long)parameterCount * stateBufferCount;
        if (stateLength > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(parameterCount), parameterCount,
                $"{GetType().Name} keeps {stateBufferCount} state values per parameter, which exceeds the largest array for {parameterCount} parameters.");
        _state = new T[stateLength];
    }

    /// <summary>Length of the parameter and gradient spans this optimizer was created for.</summary>
    public int ParameterCount { get; }

    // The model a trainer steps with this optimizer, weakly (the optimizer keeps no model alive): its state (step count,
    // running averages) belongs to that model's parameters, so a trainer for another live model is refused.
    private readonly object _modelLock = new();
    private WeakReference<object>? _model;

    /// <summary>
    /// Records that a trainer steps <paramref name="model"/> with this optimizer; throws if a trainer already steps another
    /// model that is still alive with it (the two would mix their running averages without a word).
    /// </summary>
    internal void BindTo(object model)
    {
        lock (_modelLock)
        {
            if (_model is not null && _model.TryGetTarget(out object? other) && !ReferenceEquals(other, model))
                throw new ArgumentException(
                    $"This {GetType().Name.Split('`')[0]} already trains another {other.GetType().Name}: its state (step count and running averages) belongs to " +
                    "that model's parameters, and stepping a second model with it would mix the two. Give each model its own optimizer " +
                    "(to continue from this one's state, copy its State, StepCount and LearningRate into the new one).", "optimizer");
            _model = new WeakReference<object>(model);
        }
    }

    /// <summary>
    /// Learning rate γ used by the next <see cref="Step(Span{T}, ReadOnlySpan{T})"/>. Settable between steps so that a
    /// schedule can drive it (see <see cref="ILearningRateSchedule"/>). Must be finite and at least 0.
    /// </summary>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            HyperParameter.CheckNonNegative<T>(value, nameof(LearningRate));
            _learningRate = value;
        }
    }

    /// <summary>
    /// Number of steps taken since construction or <see cref="Reset"/>; the current step is <c>t = StepCount</c>
    /// inside the update rules (it is incremented before the update, so the first step has t = 1, as in PyTorch).
    /// Settable only to restore a checkpoint together with <see cref="State"/>: 0 to <c>long.MaxValue − 1</c> (the next step's
    /// count must not overflow).
    /// </summary>
    public long StepCount
    {
        get => _stepCount;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(StepCount));
            if (value == long.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(StepCount), value, "StepCount must be below long.MaxValue: the next step's count would overflow.");
            _stepCount = value;
        }
    }

    /// <summary>Number of per-parameter state buffers in <see cref="State"/> (0 when the algorithm keeps none).</summary>
    public int StateBufferCount { get; }

    /// <summary>
    /// Live view of the optimizer's state: <see cref="StateBufferCount"/> buffers of <see cref="ParameterCount"/> values,
    /// one after the other, in the order each class documents. Save it with <see cref="StepCount"/> in a checkpoint and
    /// write it back to resume training exactly.
    /// </summary>
    public Span<T> State => _state;

    /// <summary>
    /// Updates <paramref name="parameters"/> in place from <paramref name="gradients"/> with one step of the algorithm.
    /// Allocates nothing. When the span is (part of) a generated model's <c>Parameters</c>, that model's packed weights are
    /// refreshed too (<c>ParametersChanged</c>), as by <see cref="Step{TModel}(TModel)"/>: its next <c>Step</c> and
    /// <c>Forward</c> compute with the new values.
    /// </summary>
    /// <param name="parameters">The parameters, <see cref="ParameterCount"/> long; overwritten with the updated values.</param>
    /// <param name="gradients">dLoss/dParameters with the same layout; not modified.</param>
    /// <exception cref="ArgumentException">A span does not have <see cref="ParameterCount"/> elements, or the two share memory
    /// with each other or with <see cref="State"/> (nothing is modified).</exception>
    public void Step(Span<T> parameters, ReadOnlySpan<T> gradients)
    {
        StepOnly(parameters, gradients);
        ParameterOwners.Changed<T>(parameters);
    }

    private void StepOnly(Span<T> parameters, ReadOnlySpan<T> gradients)
    {
        CheckSpans(parameters, gradients);
        CheckNextStep();
        _stepCount++;
        Update(parameters, gradients, _stepCount);
    }

    /// <summary>
    /// Clips every gradient to [−<paramref name="clipValue"/>, <paramref name="clipValue"/>] and updates
    /// <paramref name="parameters"/> from the clipped gradients, in one pass over memory: exactly (bit for bit) what
    /// <see cref="GradientClipping.ClipByValue{T}(Span{T}, T)"/> followed by <see cref="Step(Span{T}, ReadOnlySpan{T})"/>
    /// does, including what it leaves in <paramref name="gradients"/>: the clipped values. Allocates nothing. Like that
    /// overload, it refreshes the packed weights of the generated model whose <c>Parameters</c> the span is.
    /// </summary>
    /// <param name="parameters">The parameters, <see cref="ParameterCount"/> long; overwritten with the updated values.</param>
    /// <param name="gradients">dLoss/dParameters with the same layout; overwritten with the clipped gradients (NaN stays NaN).</param>
    /// <param name="clipValue">The largest gradient magnitude, ≥ 0 (char-rnn clips at 5).</param>
    /// <exception cref="ArgumentException">A span does not have <see cref="ParameterCount"/> elements, the two share memory with
    /// each other or with <see cref="State"/>, or <paramref name="clipValue"/> is negative or NaN (nothing is modified).</exception>
    public void Step(Span<T> parameters, Span<T> gradients, T clipValue)
    {
        StepClamped(parameters, gradients, clipValue);
        ParameterOwners.Changed<T>(parameters);
    }

    private void StepClamped(Span<T> parameters, Span<T> gradients, T clipValue)
    {
        GradientClipping.CheckLimit(clipValue, nameof(clipValue));
        Step(parameters, gradients, GradientTransform<T>.Clamp(clipValue));
    }

    /// <summary>
    /// Steps a generated model: updates <c>model.Parameters</c> from <c>model.Gradients</c>, then calls
    /// <c>model.ParametersChanged()</c> so that any private copy of the weights is refreshed. The gradients are left
    /// as they are (clear them before the next <c>Backward</c>, which adds into them). Allocates nothing.
    /// </summary>
    /// <typeparam name="TModel">The generated model class.</typeparam>
    /// <param name="model">The model; its <c>ParameterCount</c> must equal <see cref="ParameterCount"/>.</param>
    /// <exception cref="ArgumentException">The model has a different parameter count (nothing is modified).</exception>
    public void Step<TModel>(TModel model) where TModel : class, IRecurrentModel<TModel, T>
    {
        CheckModel(model);
        StepOnly(model.Parameters, model.Gradients);
        model.ParametersChanged();
    }

    /// <summary>
    /// Steps a generated model with its gradients clipped to [−<paramref name="clipValue"/>, <paramref name="clipValue"/>]:
    /// <see cref="Step(Span{T}, Span{T}, T)"/> on <c>model.Parameters</c> and <c>model.Gradients</c>, then
    /// <c>model.ParametersChanged()</c>. The same bits as <c>GradientClipping.ClipByValue(model.Gradients, clipValue)</c>
    /// followed by <see cref="Step{TModel}(TModel)"/>, in one pass instead of three; <c>model.Gradients</c> is left clipped.
    /// Allocates nothing.
    /// </summary>
    /// <typeparam name="TModel">The generated model class.</typeparam>
    /// <param name="model">The model; its <c>ParameterCount</c> must equal <see cref="ParameterCount"/>.</param>
    /// <param name="clipValue">The largest gradient magnitude, ≥ 0 (char-rnn clips at 5).</param>
    /// <exception cref="ArgumentException">The model has a different parameter count, or <paramref name="clipValue"/> is
    /// negative or NaN (nothing is modified).</exception>
    public void Step<TModel>(TModel model, T clipValue) where TModel : class, IRecurrentModel<TModel, T>
    {
        CheckModel(model);
        StepClamped(model.Parameters, model.Gradients, clipValue);
        model.ParametersChanged();
    }

    /// <summary>
    /// The step with <paramref name="transform"/> applied to every gradient first (and written back), in the same pass
    /// for RnnGen's optimizers. Does not call <c>ParametersChanged</c>.
    /// </summary>
    internal void Step(Span<T> parameters, Span<T> gradients, in GradientTransform<T> transform)
    {
        CheckSpans(parameters, gradients);
        CheckNextStep();
        _stepCount++;
        if (transform.IsIdentity)
            Update(parameters, gradients, _stepCount);
        else if (_ownRule)
            Fused(parameters, gradients, gradients, _stepCount, transform, start: 0, checkFinite: false); // the transformed gradients written back
        else
        {
            // a subclass written elsewhere (of Adam, say) may override Update: the transform first, then its rule
            transform.Apply(gradients);
            Update(parameters, gradients, _stepCount);
        }
    }

    /// <summary>
    /// <see cref="Step(Span{T}, Span{T}, in GradientTransform{T})"/>, returning whether every parameter is finite after it:
    /// RnnGen's optimizers find that in the step's own pass (the whole buffer as one range: the same rule and bits), an
    /// optimizer written elsewhere by a second pass over the parameters.
    /// </summary>
    internal bool StepChecked(Span<T> parameters, Span<T> gradients, in GradientTransform<T> transform)
    {
        CheckSpans(parameters, gradients);
        CheckNextStep();
        if (_ownRule)
        {
            bool finite = Fused(parameters, gradients, transform.IsIdentity ? default : gradients, _stepCount + 1, transform, start: 0, checkFinite: true);
            _stepCount++;
            return finite;
        }
        Step(parameters, gradients, transform);
        return Finite.All<T>(parameters);
    }

    /// <summary>
    /// Starts one step whose ranges <see cref="StepRange"/> then updates (on several cores at once, each its own): advances
    /// <see cref="StepCount"/> once and returns the step number t. For the layer pipeline.
    /// </summary>
    internal long BeginRangeStep()
    {
        CheckNextStep();
        return ++_stepCount;
    }

    /// <summary>
    /// Throws before a step that would make <see cref="StepCount"/> <c>long.MaxValue</c>, the count after which the next
    /// overflows (and which a checkpoint may not hold): nothing is modified.
    /// </summary>
    private void CheckNextStep()
    {
        if (_stepCount >= long.MaxValue - 1)
            throw new InvalidOperationException($"StepCount is {_stepCount}: one more step would make it long.MaxValue, after which the count " +
                                                "overflows. Reset the optimizer, or set StepCount lower.");
    }

    /// <summary>
    /// Updates parameters [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) with step
    /// <paramref name="step"/> (from <see cref="BeginRangeStep"/>), the transform applied to their gradients first: the same
    /// rule and bits as the whole step on those elements. Disjoint ranges may run at once on different threads. False when
    /// the optimizer cannot (one written elsewhere, which only has the whole step). <paramref name="finite"/>: whether every
    /// parameter of the range is finite after the step (checked in the same pass).
    /// </summary>
    internal bool StepRange(Span<T> parameters, Span<T> gradients, in GradientTransform<T> transform, int start, int length, long step, out bool finite)
    {
        CheckSpans(parameters, gradients);
        finite = false;
        if (!_ownRule) return false;
        Span<T> rangeGradients = gradients.Slice(start, length); // transformed in place, as the whole step does
        finite = Fused(parameters.Slice(start, length), rangeGradients, transform.IsIdentity ? default : rangeGradients, step, transform, start, checkFinite: true);
        return true;
    }

    /// <summary>
    /// Forgets the history: sets <see cref="StepCount"/> to 0 and the state buffers to their initial values. Keeps the
    /// hyper-parameters, including the current <see cref="LearningRate"/>.
    /// </summary>
    public void Reset()
    {
        _stepCount = 0;
        ResetState();
    }

    /// <summary>
    /// Applies the algorithm's update rule. Called by <see cref="Step(Span{T}, ReadOnlySpan{T})"/> after the lengths have
    /// been checked and <see cref="StepCount"/> incremented; must not allocate.
    /// </summary>
    /// <param name="parameters">The parameters to update in place (<see cref="ParameterCount"/> long).</param>
    /// <param name="gradients">The gradients (<see cref="ParameterCount"/> long).</param>
    /// <param name="step">The 1-based number t of this step.</param>
    protected abstract void Update(Span<T> parameters, ReadOnlySpan<T> gradients, long step);

    /// <summary>
    /// The rule of RnnGen's own optimizers as one pass (only called when <see cref="_ownRule"/>; an optimizer written
    /// elsewhere has only <see cref="Update(Span{T}, ReadOnlySpan{T}, long)"/>): step <paramref name="step"/> of
    /// <paramref name="parameters"/>, which are the elements from <paramref name="start"/> on of the whole buffer (so of
    /// the state buffers too), <paramref name="transform"/> applied to each gradient first and written to
    /// <paramref name="transformed"/> (empty: not written; it may be <paramref name="gradients"/> itself). Returns whether
    /// every parameter is finite after the step when <paramref name="checkFinite"/>. Each of RnnGen's optimizers overrides it,
    /// and its <c>Update</c> is this pass without a transform: one place per rule, whichever way a step comes in.
    /// </summary>
    private protected virtual bool Fused(Span<T> parameters, ReadOnlySpan<T> gradients, Span<T> transformed, long step, in GradientTransform<T> transform, int start, bool checkFinite)
        => throw new System.Diagnostics.UnreachableException($"{GetType().Name} is not one of RnnGen's optimizers: it has no fused pass.");

    /// <summary>
    /// What state buffer <paramref name="index"/> holds, for the checks of a checkpoint's values
    /// (<see cref="TrainingCheckpoint"/>): null for an optimizer written elsewhere, whose state is its own (in a subclass of
    /// one of RnnGen's too, whose <c>Update</c> may keep other things there).
    /// </summary>
    internal StateBufferMeaning? DescribeStateBuffer(int index) => _ownRule ? Describe(index) : null;

    /// <summary>What state buffer <paramref name="index"/> holds; RnnGen's optimizers override it.</summary>
    private protected virtual StateBufferMeaning? Describe(int index) => null;

    /// <summary>Sets the state buffers to their initial values; the default sets every value to zero.</summary>
    protected virtual void ResetState() => Array.Clear(_state);

    /// <summary>State buffer number <paramref name="index"/> (0-based), <see cref="ParameterCount"/> long.</summary>
    protected Span<T> StateBuffer(int index)
    {
        if ((uint)index >= (uint)StateBufferCount)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"index must be in [0, {StateBufferCount - 1}].");
        return _state.AsSpan(index * ParameterCount, ParameterCount);
    }

    private void CheckModel<TModel>(TModel model) where TModel : class, IRecurrentModel<TModel, T>
    {
        ArgumentNullException.ThrowIfNull(model);
        int count = model.Parameters.Length;
        if (count != ParameterCount)
            throw new ArgumentException(
                $"model has {count} parameters but this optimizer was created for {ParameterCount}; create it with {typeof(TModel).Name}.ParameterCount.",
                nameof(model));
    }

    private void CheckLength(int length, string name)
    {
        if (length != ParameterCount)
            throw new ArgumentException($"{name} has length {length}; expected {ParameterCount} (the optimizer's ParameterCount).", name);
    }

    // The lengths, and no shared memory: the step writes each parameter vector before it reads the next gradients (and, when
    // it clips, writes the clipped gradients), so gradients in the parameters' memory, or either in the optimizer's state,
    // would be read after they were overwritten.
    private void CheckSpans(ReadOnlySpan<T> parameters, ReadOnlySpan<T> gradients)
    {
        CheckLength(parameters.Length, nameof(parameters));
        CheckLength(gradients.Length, nameof(gradients));
        if (gradients.Overlaps(parameters))
            throw new ArgumentException("gradients share memory with parameters; pass the gradients in a buffer of their own (the model's Gradients).", nameof(gradients));
        if (parameters.Overlaps(_state))
            throw new ArgumentException("parameters share memory with the optimizer's State; pass the model's Parameters.", nameof(parameters));
        if (gradients.Overlaps(_state))
            throw new ArgumentException("gradients share memory with the optimizer's State; pass the model's Gradients.", nameof(gradients));
    }
}

/// <summary>
/// What one of an optimizer's state buffers holds: its name in messages (<c>second moment v</c>) and whether every step
/// keeps it at 0 or above (a sum or an average of squared gradients: only +∞, by the overflow of g², is out of range).
/// </summary>
internal readonly record struct StateBufferMeaning(string Name, bool NonNegative);
