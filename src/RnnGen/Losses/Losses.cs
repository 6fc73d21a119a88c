using System.Numerics;
using System.Numerics.Tensors;

namespace RnnGen;

/// <summary>
/// Loss functions over a model's outputs. Each returns the MEAN loss and OVERWRITES <c>gradient</c> with
/// dLoss/dOutputs, ready to pass as <c>outputGradients</c> to a model's <c>Backward</c>.
/// </summary>
/// <remarks>
/// <para>Outputs are laid out as a model's <c>Forward</c> writes them: steps × width, row-major.</para>
/// <para>Every method is generic over <c>T</c> (<see cref="float"/> or <see cref="double"/>),
/// allocates nothing, and checks its arguments before writing anything: wrong lengths and invalid targets throw
/// an <see cref="ArgumentException"/> that names the argument and what it should be.</para>
/// <para><c>gradient</c> may be the very same span as an input (the gradient then replaces the outputs in
/// place, saving a buffer); a partial overlap is rejected.</para>
/// <para>The reductions are PyTorch's <c>reduction='mean'</c>: <c>CrossEntropyLoss(ignore_index=-1)</c>,
/// <c>MSELoss</c> and <c>BCEWithLogitsLoss</c>.</para>
/// </remarks>
public static class Losses
{
    /// <summary>The target that marks a step without a loss in <see cref="SoftmaxCrossEntropy{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, Span{T})"/>.</summary>
    public const int IgnoreTarget = -1;

    /// <summary>
    /// Softmax cross-entropy over logits (steps × classes) with one class per step: the mean over the counted
    /// steps of <c>−log softmax(logits_t)[target_t]</c>. See
    /// <see cref="SoftmaxCrossEntropy{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, Span{T}, out ClassificationStats)"/>.
    /// </summary>
    /// <returns>The mean loss in nats (0 when no step is counted).</returns>
    public static T SoftmaxCrossEntropy<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> targets, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
        => SoftmaxCrossEntropy(logits, targets, gradient, out _);

    /// <summary>
    /// <see cref="SoftmaxCrossEntropy{T}(ReadOnlySpan{T}, ReadOnlySpan{int}, Span{T})"/> with the number of classes
    /// stated, so that logits of another shape are refused instead of read as other classes: a many-to-one model's
    /// logits of every step (steps × classes) with the one target of its last step would otherwise count as one step
    /// of steps × classes classes.
    /// </summary>
    /// <param name="logits">Unnormalised scores, <c>targets.Length × classes</c>, row-major.</param>
    /// <param name="targets">One class per step in [0, <paramref name="classes"/>), or −1 (no loss at that step).</param>
    /// <param name="gradient">Overwritten with dLoss/dLogits; same length as <paramref name="logits"/>.</param>
    /// <param name="classes">Classes per step (a model's <c>OutputWidth</c>), at least 1.</param>
    /// <returns>The mean loss over counted steps, in nats.</returns>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is not <c>targets.Length × classes</c> long, or as
    /// in the overload without <paramref name="classes"/>.</exception>
    public static T SoftmaxCrossEntropy<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> targets, Span<T> gradient, int classes)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (logits.Length != (long)targets.Length * classes)
            throw new ArgumentException(
                logits.Length % classes == 0 && logits.Length / classes > targets.Length
                    ? $"logits has {logits.Length / classes} steps of {classes} classes but targets has {targets.Length}: give every step a target " +
                      "(-1 for the steps without a loss, e.g. all but the last of a many-to-one sequence), or pass only the steps that have one."
                    : $"logits has length {logits.Length}; expected targets.Length × classes = {targets.Length} × {classes}.",
                nameof(logits));
        return SoftmaxCrossEntropy(logits, targets, gradient, out _);
    }

    /// <summary>
    /// Softmax cross-entropy over logits (steps × classes) with one class per step, also counting the steps whose
    /// most likely class is the target (accuracy).
    /// </summary>
    /// <param name="logits">Unnormalised scores, steps × classes, row-major (a model's <c>Forward</c> outputs).
    /// The number of classes is <c>logits.Length / targets.Length</c>; to have it checked instead, use the overload that
    /// takes <c>classes</c>.</param>
    /// <param name="targets">One class per step in [0, classes), or <see cref="IgnoreTarget"/> (−1): no loss at
    /// that step (e.g. padding, or the steps of a many-to-one sequence before its last).</param>
    /// <param name="gradient">Overwritten with dLoss/dLogits = (softmax(logits_t) − onehot(target_t)) / counted
    /// for counted steps and zeros for ignored steps; same length as <paramref name="logits"/>.</param>
    /// <param name="stats">The number of counted steps and of correct argmax predictions among them.</param>
    /// <returns>
    /// The mean loss over counted steps, in nats (divide by ln 2 for bits per token). When every target is −1
    /// no step counts: the loss is 0 and the gradient is all zeros.
    /// </returns>
    /// <remarks>
    /// Numerically stable for any finite logits (log-sum-exp after subtracting each row's maximum). NaN in the
    /// logits propagates to the loss and that step's gradient row, and so does an infinite logit (∞ − ∞ in the
    /// log-sum-exp), as in PyTorch: the trainer then refuses the step as non-finite. A prediction is correct when the
    /// first index of the row's maximum equals the target.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="targets"/> is empty, <paramref name="logits"/> is not
    /// a positive multiple of its length, <paramref name="gradient"/> has another length or partially overlaps
    /// <paramref name="logits"/>, or a target is neither −1 nor a class.</exception>
    public static T SoftmaxCrossEntropy<T>(ReadOnlySpan<T> logits, ReadOnlySpan<int> targets, Span<T> gradient, out ClassificationStats stats)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int steps = targets.Length;
        if (steps == 0)
            throw new ArgumentException("targets is empty; pass one target class (or -1) per step.", nameof(targets));
        if (logits.Length == 0 || logits.Length % steps != 0)
            throw new ArgumentException(
                $"logits has length {logits.Length}, which is not steps × classes for the {steps} steps of targets: " +
                $"its length must be a positive multiple of {steps}.", nameof(logits));
        int classes = logits.Length / steps;
        CheckGradient(logits, nameof(logits), gradient);

        int counted = 0;
        for (int t = 0; t < steps; t++)
        {
            int target = targets[t];
            if (target == IgnoreTarget)
                continue;
            if ((uint)target >= (uint)classes)
                throw new ArgumentException(
                    $"targets[{t}] is {target}; a target must be a class in [0, {classes - 1}] or {IgnoreTarget} (no loss at that step).",
                    nameof(targets));
            counted++;
        }

        if (counted == 0)
        {
            gradient.Clear();
            stats = default;
            return T.Zero;
        }

        T perStep = T.One / T.CreateTruncating(counted);
        double total = 0;
        int correct = 0;
        for (int t = 0; t < steps; t++)
        {
            ReadOnlySpan<T> row = logits.Slice(t * classes, classes);
            Span<T> g = gradient.Slice(t * classes, classes);
            int target = targets[t];
            if (target == IgnoreTarget)
            {
                g.Clear();
                continue;
            }

            // Read everything needed from the row first: g may be the same memory (in-place gradient).
            T max = TensorPrimitives.Max(row);
            T shiftedTarget = row[target] - max;
            if (IsFirstMaximum(row, target, max))
                correct++;

            TensorPrimitives.Subtract(row, max, g);   // g = logits − max ≤ 0
            TensorPrimitives.Exp(g, g);               // g = e^(logits − max), the largest is 1
            T sum = TensorPrimitives.Sum(g);          // ≥ 1, so the log below is safe
            total += double.CreateTruncating(T.Log(sum) - shiftedTarget);

            TensorPrimitives.Multiply(g, perStep / sum, g);   // softmax / counted
            g[target] -= perStep;                              // − onehot / counted
        }

        stats = new ClassificationStats(counted, correct);
        return T.CreateTruncating(total / counted);
    }

    /// <summary>
    /// Mean squared error over dense outputs: <c>Σ (y − t)² / N</c> with N = <c>outputs.Length</c> (PyTorch
    /// <c>MSELoss(reduction='mean')</c>: the mean over every element, not per step).
    /// </summary>
    /// <param name="outputs">The model's outputs <c>y</c>, any layout (steps × width for a <c>Forward</c>).</param>
    /// <param name="targets">The targets <c>t</c>, same length and layout. NaN is not special: it propagates.</param>
    /// <param name="gradient">Overwritten with dLoss/dOutputs = 2(y − t)/N; same length.</param>
    /// <returns>The mean squared error.</returns>
    /// <exception cref="ArgumentException"><paramref name="outputs"/> is empty, a length differs, or
    /// <paramref name="gradient"/> partially overlaps an input.</exception>
    public static T MeanSquaredError<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckElementwise(outputs, nameof(outputs), targets, gradient);

        T n = T.CreateTruncating(outputs.Length);
        TensorPrimitives.Subtract(outputs, targets, gradient);             // y − t
        T loss = TensorPrimitives.SumOfSquares((ReadOnlySpan<T>)gradient) / n;
        TensorPrimitives.Multiply(gradient, (T.One + T.One) / n, gradient); // 2(y − t)/N
        return loss;
    }

    /// <summary>
    /// Binary cross-entropy on logits (PyTorch <c>BCEWithLogitsLoss</c>, mean over every element): for a logit
    /// <c>x</c> and a target probability <c>t</c>, <c>−t·log σ(x) − (1 − t)·log(1 − σ(x))</c>, computed in
    /// the stable form of libtorch, <c>(1 − t)·x − log σ(x)</c> with <c>−log σ(x) = max(−x, 0) + log(1 + e^−|x|)</c>, added
    /// in that order: the same value, but a tiny loss (x = −80, t = 0: 1.8·10⁻³⁵) keeps its relative precision where
    /// libtorch's order, <c>(1 − t)·x − (min(x, 0) − log(1 + e^−|x|))</c>, cancels it to 0.
    /// </summary>
    /// <param name="logits">One logit per binary output, any layout.</param>
    /// <param name="targets">Target probabilities in [0, 1] (usually 0 or 1), same length.</param>
    /// <param name="gradient">Overwritten with dLoss/dLogits = (σ(x) − t)/N; same length.</param>
    /// <returns>The mean loss in nats. Infinite logits give PyTorch's results: for x = +∞, ∞ when t &lt; 1 and NaN when
    /// t = 1 (0 · ∞); for x = −∞, NaN whatever t (−∞ + ∞); their gradients are finite (σ(x) − t).</returns>
    /// <exception cref="ArgumentException"><paramref name="logits"/> is empty, a length differs,
    /// <paramref name="gradient"/> partially overlaps an input, or a target is outside [0, 1] (or NaN).</exception>
    public static T BinaryCrossEntropyWithLogits<T>(ReadOnlySpan<T> logits, ReadOnlySpan<T> targets, Span<T> gradient)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckElementwise(logits, nameof(logits), targets, gradient);
        for (int i = 0; i < targets.Length; i++)
        {
            if (!(targets[i] >= T.Zero && targets[i] <= T.One))
                throw new ArgumentException(
                    $"targets[{i}] is {targets[i]}; binary cross-entropy needs target probabilities in [0, 1].", nameof(targets));
        }

        T perElement = T.One / T.CreateTruncating(logits.Length);
        double total = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            T x = logits[i];
            T t = targets[i];
            T e = T.Exp(-T.Abs(x));                                    // e^−|x| in (0, 1]: never overflows
            total += double.CreateTruncating((T.One - t) * x + T.Max(-x, T.Zero) + Log1P(e)); // −log σ(x) = max(−x, 0) + log(1 + e^−|x|)
            T sigmoid = x >= T.Zero ? T.One / (T.One + e) : e / (T.One + e);
            gradient[i] = (sigmoid - t) * perElement;                  // written last: gradient may alias logits
        }
        return T.CreateTruncating(total / logits.Length);
    }

    /// <summary>log(1 + u) accurate for small u (Goldberg's trick; .NET's LogP1 is a plain log(u + 1)).</summary>
    private static T Log1P<T>(T u) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T w = T.One + u;
        return w == T.One ? u : T.Log(w) * u / (w - T.One);
    }

    private static void CheckElementwise<T>(ReadOnlySpan<T> input, string inputName, ReadOnlySpan<T> targets, Span<T> gradient)
    {
        if (input.IsEmpty)
            throw new ArgumentException($"{inputName} is empty; a mean over zero elements is undefined.", inputName);
        if (targets.Length != input.Length)
            throw new ArgumentException(
                $"targets has length {targets.Length}; expected {input.Length} (the length of {inputName}).", nameof(targets));
        CheckGradient(input, inputName, gradient);
        CheckNoPartialOverlap(targets, nameof(targets), gradient);
    }

    private static void CheckGradient<T>(ReadOnlySpan<T> input, string inputName, Span<T> gradient)
    {
        if (gradient.Length != input.Length)
            throw new ArgumentException(
                $"gradient has length {gradient.Length}; expected {input.Length} (the length of {inputName}).", nameof(gradient));
        CheckNoPartialOverlap(input, inputName, gradient);
    }

    private static void CheckNoPartialOverlap<T>(ReadOnlySpan<T> input, string inputName, Span<T> gradient)
    {
        if (input.Overlaps(gradient, out int offset) && offset != 0)
            throw new ArgumentException(
                $"gradient partially overlaps {inputName}; pass a separate buffer or exactly the same span.", nameof(gradient));
    }

    // Whether index `target` is the first index of the row's maximum (as torch.argmax): −0 and +0 are one value, so a row
    // [−0, +0] has its maximum first at 0 (TensorPrimitives.IndexOfMax ranks +0 above −0). A NaN row has no maximum.
    private static bool IsFirstMaximum<T>(ReadOnlySpan<T> row, int target, T max) where T : unmanaged, IFloatingPointIeee754<T> =>
        row[target] == max && (target == 0 || TensorPrimitives.Max(row[..target]) < max); // every earlier value is below the maximum
}
