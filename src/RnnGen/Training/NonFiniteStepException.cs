namespace RnnGen;

/// <summary>
/// Thrown by <see cref="SequenceTrainer{TModel, T}.Train"/> (with <see cref="NonFiniteHandling.Throw"/>) when a step's loss
/// or summed gradients are NaN or infinite. The step was refused: the model's parameters and the optimizer's state are
/// exactly as they were before it. Typical cures: a smaller learning rate, gradient clipping, checking the data.
/// </summary>
public sealed class NonFiniteStepException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="epoch">The epoch (from 1).</param>
    /// <param name="window">The window within the epoch (from 1).</param>
    /// <param name="loss">The window's mean loss.</param>
    /// <param name="lossIsFinite">Whether the loss was finite (then the gradients were not).</param>
    public NonFiniteStepException(int epoch, int window, double loss, bool lossIsFinite)
        : base(lossIsFinite
            ? $"Epoch {epoch}, window {window}: the loss is {loss} but the gradients contain NaN or infinity; the update was refused and the parameters were left unchanged. Lower the learning rate, set TrainerOptions.ClipGradientNorm, check the data, or set TrainerOptions.NonFinite = NonFiniteHandling.Skip."
            : $"Epoch {epoch}, window {window}: the loss is {loss}; the update was refused and the parameters were left unchanged. Lower the learning rate, set TrainerOptions.ClipGradientNorm, check the data, or set TrainerOptions.NonFinite = NonFiniteHandling.Skip.")
    {
        Epoch = epoch;
        Window = window;
        Loss = loss;
    }

    /// <summary>The epoch of the refused step (from 1).</summary>
    public int Epoch { get; }

    /// <summary>The window of the refused step within its epoch (from 1).</summary>
    public int Window { get; }

    /// <summary>The mean loss of the refused step (possibly finite when only the gradients were not).</summary>
    public double Loss { get; }
}
