using System.Numerics.Tensors;

namespace RnnGen.Tests.Training;

/// <summary>A float model whose output can be driven to 1e19 (the norm-overflow test).</summary>
[RnnModel(hidden: 2, Input = 1, Output = 1)]
public partial class OverflowRnn { }

/// <summary>
/// One update of the trainer — the norm that doubles as the NaN/∞ check, the clipping that rides along with the
/// optimizer's pass, the packed weights refreshed before user code — against the documented sequence done by hand:
/// the raw window gradient (recorded without clipping), clipped here element by element, then the optimizer's plain step.
/// </summary>
public class TrainerUpdateTests
{
    private static SequenceDataset<float> Data() => TaskData.Echo<float>(6, 9, vocabulary: 4, delay: 1, seed: 3);

    private static EchoModel NewModel()
    {
        var model = new EchoModel();
        model.InitializeParameters(13);
        return model;
    }

    private static TrainerOptions OneUpdate(double? clipValue, double? clipNorm) => new()
    {
        Epochs = 1, BatchSize = 6, Shuffle = false, WorkerCount = 2, ClipGradientValue = clipValue, ClipGradientNorm = clipNorm,
    };

    /// <summary>The window's gradient before any clipping (an optimizer with learning rate 0 records it).</summary>
    private static float[] RawGradient()
    {
        var recorder = new RecordingOptimizer<float>(EchoModel.ParameterCount);
        SequenceTrainer.Create(NewModel(), recorder, OneUpdate(null, null)).Train(Data());
        return Assert.Single(recorder.Gradients);
    }

    /// <summary>
    /// ClipGradientValue, ClipGradientNorm, both (value first) and neither: the trainer's parameters, the gradients it
    /// leaves in the model and the norm it reports are those of GradientClipping's documented formulas applied by hand,
    /// followed by the optimizer's plain step — bit for bit.
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Clipping_is_the_documented_clip_then_the_plain_step_bit_for_bit(bool byValue, bool byNorm)
    {
        float[] raw = RawGradient();
        float rawNorm = TensorPrimitives.Norm<float>(raw);
        // thresholds that bind: a quarter of the largest magnitude; half the norm of what reaches the norm clip
        float limit = 0.25f * raw.Max(Math.Abs);
        float[] clipped = byValue ? raw.Select(g => MathF.Max(MathF.Min(g, limit), -limit)).ToArray() : (float[])raw.Clone();
        float maxNorm = 0.5f * TensorPrimitives.Norm<float>(clipped);
        if (byNorm)
        {
            float scale = maxNorm / (TensorPrimitives.Norm<float>(clipped) + 1e-6f);
            Assert.True(scale < 1);
            clipped = clipped.Select(g => g * scale).ToArray();
        }
        if (byValue || byNorm) Assert.NotEqual(raw, clipped);
        var expected = NewModel();
        var reference = new RmsProp<float>(EchoModel.ParameterCount, learningRate: 0.01, alpha: 0.95);
        reference.Step(expected.Parameters, clipped);

        var model = NewModel();
        var optimizer = new RmsProp<float>(EchoModel.ParameterCount, learningRate: 0.01, alpha: 0.95);
        var norms = new List<double>();
        SequenceTrainer.Create(model, optimizer, OneUpdate(byValue ? limit : null, byNorm ? maxNorm : null))
            .Train(Data(), progress: new SyncProgress<TrainingProgress>(p => norms.Add(p.GradientNorm)));

        Assert.Equal(expected.Parameters.ToArray(), model.Parameters.ToArray());
        Assert.Equal(reference.State.ToArray(), optimizer.State.ToArray());
        Assert.Equal(clipped, model.Gradients.ToArray());          // the model keeps the clipped gradients
        Assert.Equal([(double)rawNorm], norms);                     // the reported norm is the one before clipping
    }

    /// <summary>
    /// Finite gradients whose sum of squares overflows (float): the norm computed in float is +∞, but the step is not a
    /// NaN/∞ step — every gradient is finite — and the norm clip does its work: the norm is measured again without
    /// overflow (compared here with a plain double-precision sum of squares), the gradients are scaled to norm 1, and the
    /// progress reports that finite norm. (It used to skip the clip exactly when the gradients exploded.)
    /// </summary>
    [Fact]
    public void An_overflowing_norm_of_finite_gradients_is_measured_again_and_clipped()
    {
        // one step, target 1e19: loss (y − t)² ≈ 1e38 is finite, dLoss/dy ≈ −2e19 squares past float's 3.4e38
        var data = new SequenceDataset<float>([TrainingSequence<float>.FromVectors(new[] { 0.5f }, new[] { 1e19f })]);
        var unclipped = new TrainerOptions { Epochs = 1, Loss = SequenceLoss.MeanSquaredError, WorkerCount = 1 };
        var recorder = new RecordingOptimizer<float>(OverflowRnn.ParameterCount);
        var first = new OverflowRnn();
        first.InitializeParameters(2);
        SequenceTrainer.Create(first, recorder, unclipped).Train(data);
        float[] raw = Assert.Single(recorder.Gradients);
        Assert.All(raw, g => Assert.True(float.IsFinite(g)));
        Assert.Equal(float.PositiveInfinity, TensorPrimitives.Norm<float>(raw));
        double rawNorm = Math.Sqrt(raw.Sum(g => (double)g * g));

        var model = new OverflowRnn();
        model.InitializeParameters(2);
        float[] before = model.Parameters.ToArray();
        var norms = new List<double>();
        var result = SequenceTrainer.Create(model, new Sgd<float>(OverflowRnn.ParameterCount, learningRate: 1e-3), new TrainerOptions { Epochs = 1, Loss = SequenceLoss.MeanSquaredError, WorkerCount = 1, ClipGradientNorm = 1 })
            .Train(data, progress: new SyncProgress<TrainingProgress>(p => norms.Add(p.GradientNorm)));

        Assert.Equal(1, result.Steps);
        Assert.Equal(0, result.SkippedSteps);
        Assert.Equal(rawNorm, Assert.Single(norms), tolerance: 1e-6 * rawNorm);      // the finite norm before clipping
        float[] clipped = model.Gradients.ToArray();
        Assert.Equal(1.0, Math.Sqrt(clipped.Sum(g => (double)g * g)), tolerance: 1e-5); // scaled to maxNorm
        for (int i = 0; i < raw.Length; i++)
            Assert.Equal(raw[i] / rawNorm, clipped[i], tolerance: 1e-6);                 // the same direction
        float[] parameters = model.Parameters.ToArray();
        for (int i = 0; i < raw.Length; i++)
            Assert.Equal(before[i] - 1e-3 * clipped[i], parameters[i], tolerance: 1e-7);  // a step of at most lr · maxNorm
    }

    /// <summary>
    /// The trainer refreshes the model's packed weights lazily; whenever user code can run — a progress report, an
    /// epoch event, after Train returns or is cancelled — the model computes exactly what a copy of its parameters does.
    /// </summary>
    [Fact]
    public void The_model_is_ready_to_run_whenever_user_code_sees_it()
    {
        var options = new TrainerOptions { Epochs = 2, BatchSize = 3, WindowLength = 4, WorkerCount = 2 };
        float[] initial = Outputs(NewModel());

        // events only
        var model = NewModel();
        var trainer = SequenceTrainer.Create(model, new Adam<float>(EchoModel.ParameterCount, learningRate: 0.05), options);
        int events = 0;
        trainer.EpochCompleted += _ => { AssertRunsItsParameters(model); events++; };
        trainer.BestModelFound += _ => { AssertRunsItsParameters(model); events++; };
        trainer.Train(Data());
        Assert.True(events >= 3, $"{events} events");
        AssertRunsItsParameters(model);
        Assert.NotEqual(initial, Outputs(model));

        // progress only: every window
        var reported = NewModel();
        int reports = 0;
        SequenceTrainer.Create(reported, new Adam<float>(EchoModel.ParameterCount, learningRate: 0.05), options)
            .Train(Data(), progress: new SyncProgress<TrainingProgress>(_ => { AssertRunsItsParameters(reported); reports++; }));
        Assert.Equal(2 * 2 * 3, reports); // 2 epochs × 2 batches × ⌈9 / 4⌉ windows

        // no progress, no events: cancelled by the data set when the second batch is loaded, after the first batch's updates
        var quiet = NewModel();
        var optimizer = new Adam<float>(EchoModel.ParameterCount, learningRate: 0.05);
        var quietTrainer = SequenceTrainer.Create(quiet, optimizer, new TrainerOptions { Epochs = 1, BatchSize = 3, WindowLength = 4, Shuffle = false, WorkerCount = 1 });
        using var cts = new CancellationTokenSource();
        var cancelling = new CancellingDataset(Data(), cts, () => optimizer.StepCount > 0);
        Assert.ThrowsAny<OperationCanceledException>(() => quietTrainer.Train(cancelling, cancellationToken: cts.Token));
        Assert.Equal(3, optimizer.StepCount); // the first batch: ⌈9 / 4⌉ windows
        AssertRunsItsParameters(quiet);
        Assert.NotEqual(initial, Outputs(quiet));
    }

    private static void AssertRunsItsParameters(EchoModel model)
    {
        var copy = new EchoModel();
        model.Parameters.CopyTo(copy.Parameters);
        copy.ParametersChanged();
        Assert.Equal(Outputs(copy), Outputs(model));
    }

    private static float[] Outputs(EchoModel model)
    {
        int[] tokens = [0, 3, 1, 2, 2];
        var outputs = new float[tokens.Length * EchoModel.OutputWidth];
        var state = new EchoModel.State();
        model.Forward(tokens, ref state, new EchoModel.Tape(tokens.Length), outputs);
        return outputs;
    }

    /// <summary>A data set that cancels a token when it is read once <paramref name="when"/> holds (here: at the second
    /// batch, after the first batch's updates — user code that runs without a report or an event).</summary>
    private sealed class CancellingDataset(ISequenceDataset<float> inner, CancellationTokenSource cts, Func<bool> when) : ISequenceDataset<float>
    {
        public int Count => inner.Count;

        public TrainingSequence<float> this[int index]
        {
            get
            {
                if (when()) cts.Cancel();
                return inner[index];
            }
        }
    }
}
