namespace RnnGen.Tests.Optimizers;

// Independent reference implementations of the torch.optim update rules, written from the PyTorch documentation
// (the pseudo-code on each optimizer's page) as plain double loops. They share no code with the runtime's optimizers.

internal interface IReferenceOptimizer
{
    /// <summary>Learning rate γ for the next step (schedules change it between steps).</summary>
    double Lr { get; set; }

    void Step(double[] theta, double[] grad);
}

internal sealed class ReferenceSgd(int n, double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
    : IReferenceOptimizer
{
    private readonly double[] _b = new double[n];
    private int _t;

    public double Lr { get; set; } = lr;

    public void Step(double[] theta, double[] grad)
    {
        _t++;
        for (int i = 0; i < n; i++)
        {
            double g = grad[i];
            if (weightDecay != 0) g += weightDecay * theta[i];
            if (momentum != 0)
            {
                _b[i] = _t > 1 ? momentum * _b[i] + (1 - dampening) * g : g;
                g = nesterov ? g + momentum * _b[i] : _b[i];
            }
            theta[i] -= Lr * g;
        }
    }
}

internal sealed class ReferenceAdagrad(int n, double lr, double lrDecay = 0, double weightDecay = 0, double initialAccumulator = 0, double eps = 1e-10)
    : IReferenceOptimizer
{
    private readonly double[] _sum = Enumerable.Repeat(initialAccumulator, n).ToArray();
    private int _t;

    public double Lr { get; set; } = lr;

    public void Step(double[] theta, double[] grad)
    {
        _t++;
        double decayedLr = Lr / (1 + (_t - 1) * lrDecay);
        for (int i = 0; i < n; i++)
        {
            double g = grad[i] + weightDecay * theta[i];
            _sum[i] += g * g;
            theta[i] -= decayedLr * g / (Math.Sqrt(_sum[i]) + eps);
        }
    }
}

internal sealed class ReferenceRmsProp(int n, double lr, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false)
    : IReferenceOptimizer
{
    private readonly double[] _v = new double[n], _gAve = new double[n], _b = new double[n];

    public double Lr { get; set; } = lr;

    public void Step(double[] theta, double[] grad)
    {
        for (int i = 0; i < n; i++)
        {
            double g = grad[i] + weightDecay * theta[i];
            _v[i] = alpha * _v[i] + (1 - alpha) * g * g;
            double vTilde = _v[i];
            if (centered)
            {
                _gAve[i] = alpha * _gAve[i] + (1 - alpha) * g;
                vTilde -= _gAve[i] * _gAve[i];
            }
            if (momentum > 0)
            {
                _b[i] = momentum * _b[i] + g / (Math.Sqrt(vTilde) + eps);
                theta[i] -= Lr * _b[i];
            }
            else
            {
                theta[i] -= Lr * g / (Math.Sqrt(vTilde) + eps);
            }
        }
    }
}

/// <summary>Adam (decoupled = false) and AdamW (decoupled = true) as documented: bias-corrected m̂, v̂.</summary>
internal sealed class ReferenceAdam(int n, double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool decoupled = false)
    : IReferenceOptimizer
{
    private readonly double[] _m = new double[n], _v = new double[n], _vMax = new double[n];
    private int _t;

    public double Lr { get; set; } = lr;

    public void Step(double[] theta, double[] grad)
    {
        _t++;
        for (int i = 0; i < n; i++)
        {
            double g = grad[i];
            if (decoupled) theta[i] -= Lr * weightDecay * theta[i];
            else g += weightDecay * theta[i];
            _m[i] = beta1 * _m[i] + (1 - beta1) * g;
            _v[i] = beta2 * _v[i] + (1 - beta2) * g * g;
            double mHat = _m[i] / (1 - Math.Pow(beta1, _t));
            double vHat;
            if (amsgrad)
            {
                _vMax[i] = Math.Max(_vMax[i], _v[i]);
                vHat = _vMax[i] / (1 - Math.Pow(beta2, _t));
            }
            else
            {
                vHat = _v[i] / (1 - Math.Pow(beta2, _t));
            }
            theta[i] -= Lr * mHat / (Math.Sqrt(vHat) + eps);
        }
    }
}
