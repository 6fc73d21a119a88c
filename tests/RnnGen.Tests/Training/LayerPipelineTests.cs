using RnnGen.Tests.Models;

namespace RnnGen.Tests.Training;

/// <summary>
/// The two-core layer pipeline against the model's own Forward and Backward: the same outputs, loss and
/// gradients to double rounding, over windows of 11, 6, 1, 2, 3 and 5 steps with the state carried, for every cell kind, two to
/// four layers (split at layer 1 or 2), with and without a head; and the update by owners against the model's own loop.
/// </summary>
public class LayerPipelineTests
{
    [Fact] public void Lstm2() => Check<LstmDTokens>();
    [Fact] public void Gru2() => Check<GruDTokens>();
    [Fact] public void Rnn2() => Check<RnnReluD2Tokens>();
    [Fact] public void Lstm3() => Check<LstmD3Tokens>();
    [Fact] public void Gru3NoHead() => Check<GruD3TokensNoHead>();
    [Fact] public void Rnn3() => Check<RnnD3Tokens>();
    [Fact] public void Lstm4() => Check<LstmD4Tokens>();

    // The split layer by the weight bytes each core streams per step: layer 1 for two layers; for three token layers with
    // a head layer 2 (layer 0 streams only W_hh, so A takes layers 0 and 1; the head tips a tie), without one layer 1 (the
    // tie goes to the lower layer), for three dense ones layer 1 (layer 0's input product weighs too), for four token
    // layers layer 2.
    [Fact]
    public void TheSplitLayer_BalancesTheBytes()
    {
        Assert.Equal(1, new LayerPipeline<LstmDTokens, double>(new LstmDTokens(), 4).SplitLayer);
        Assert.Equal(1, new LayerPipeline<RnnReluD2x5, double>(new RnnReluD2x5(), 4).SplitLayer);
        Assert.Equal(2, new LayerPipeline<LstmD3Tokens, double>(new LstmD3Tokens(), 4).SplitLayer);
        Assert.Equal(1, new LayerPipeline<GruD3TokensNoHead, double>(new GruD3TokensNoHead(), 4).SplitLayer);
        Assert.Equal(1, new LayerPipeline<LstmD3x5, double>(new LstmD3x5(), 4).SplitLayer);
        Assert.Equal(2, new LayerPipeline<LstmD4Tokens, double>(new LstmD4Tokens(), 4).SplitLayer);
    }

    /// <summary>Two models with the same weights: one run through its own passes (with a state and a tape), one through a pipeline.</summary>
    private static (TModel Reference, TModel Pipelined, RecurrentState<double> State, RecurrentTape Tape, LayerPipeline<TModel, double> Pipeline) Pair<TModel>(int seed, int steps)
        where TModel : class, IRecurrentModel<TModel, double>
    {
        TModel reference = TModel.Create(), pipelined = TModel.Create();
        reference.InitializeParameters(seed);
        pipelined.InitializeParameters(seed);
        return (reference, pipelined, reference.CreateState(), reference.CreateTape(steps), new LayerPipeline<TModel, double>(pipelined, steps));
    }

    private static void Check<TModel>() where TModel : class, IRecurrentModel<TModel, double>
    {
        ModelInfo info = TModel.Info;
        const int Steps = 11;   // windows of 11 steps (chunks of 1, 4, 4, 1, 1), then 6, 1, 2, 3 and 5
        int[] lengths = [Steps, 6, 1, 2, 3, 5];
        var random = new Random(3);
        int[][] tokens = [.. lengths.Select(n => Enumerable.Range(0, n).Select(_ => random.Next(info.InputSize)).ToArray())];
        int[][] labels = [.. lengths.Select(n => Enumerable.Range(0, n).Select(t => t % 5 == 2 ? -1 : random.Next(info.OutputWidth)).ToArray())];

        var (reference, pipelined, state, tape, pipeline) = Pair<TModel>(seed: 9, Steps);
        using var team = new CoreTeam(2, adaptive: false);

        for (int window = 0; window < lengths.Length; window++)
        {
            var outputs = new double[lengths[window] * info.OutputWidth];
            var dOut = new double[outputs.Length];
            reference.Gradients.Clear();
            reference.Forward(tokens[window], state, tape, outputs);
            double loss = Losses.SoftmaxCrossEntropy<double>(outputs, labels[window], dOut);
            reference.Backward(tape, dOut, default, null);

            pipelined.Gradients.Clear();
            double pipelinedLoss = pipeline.Run(team, tokens[window], labels[window]);

            Assert.Equal(loss, pipelinedLoss, 1e-12);
            for (int i = 0; i < outputs.Length; i++)
                Assert.Equal(outputs[i], pipeline.Outputs[i], 1e-12);
            foreach (ParameterTensor tensor in info.Layout)
            {
                ReadOnlySpan<double> expected = tensor.Slice((ReadOnlySpan<double>)reference.Gradients), actual = tensor.Slice((ReadOnlySpan<double>)pipelined.Gradients);
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * (1 + Math.Abs(expected[i])),
                        $"{info}: window {window}, ∂{tensor.Name}[{i}] = {actual[i]}, expected {expected[i]}");
            }
        }
    }

    // The update by owners: each core steps and repacks the parameters it reads; over three windows the parameters equal
    // those of the model's own loop (Forward, loss, Backward, the optimizer's whole step) to double rounding.
    [Fact] public void UpdateLstm2RmsPropClipped() => CheckUpdate<LstmDTokens>(p => new RmsProp<double>(p, learningRate: 0.01, alpha: 0.95), clip: 0.05);
    [Fact] public void UpdateGru3Adam() => CheckUpdate<GruD3TokensNoHead>(p => new Adam<double>(p, learningRate: 0.01), clip: null);
    [Fact] public void UpdateRnn3SgdMomentum() => CheckUpdate<RnnD3Tokens>(p => new Sgd<double>(p, learningRate: 0.05, momentum: 0.9), clip: 0.02);

    private static void CheckUpdate<TModel>(Func<int, Optimizer<double>> optimizerFor, double? clip) where TModel : class, IRecurrentModel<TModel, double>
    {
        ModelInfo info = TModel.Info;
        const int Steps = 9;
        var random = new Random(4);
        TModel reference = TModel.Create(), pipelined = TModel.Create();
        reference.InitializeParameters(2);
        pipelined.InitializeParameters(2);
        Optimizer<double> referenceOptimizer = optimizerFor(info.ParameterCount), pipelinedOptimizer = optimizerFor(info.ParameterCount);
        RecurrentState<double> state = reference.CreateState();
        RecurrentTape tape = reference.CreateTape(Steps);
        var outputs = new double[Steps * info.OutputWidth];
        var dOut = new double[outputs.Length];
        var pipeline = new LayerPipeline<TModel, double>(pipelined, Steps);
        using var team = new CoreTeam(2, adaptive: false);
        var transform = clip is double c ? GradientTransform<double>.Clamp(c) : GradientTransform<double>.None;

        for (int window = 0; window < 3; window++)
        {
            int[] tokens = [.. Enumerable.Range(0, Steps).Select(_ => random.Next(info.InputSize))];
            int[] labels = [.. Enumerable.Range(0, Steps).Select(_ => random.Next(info.OutputWidth))];
            reference.Gradients.Clear();
            reference.Forward(tokens, state, tape, outputs);
            Losses.SoftmaxCrossEntropy<double>(outputs, labels, dOut);
            reference.Backward(tape, dOut, default, null);
            if (clip is double limit) referenceOptimizer.Step(reference, limit); else referenceOptimizer.Step(reference);

            pipelined.Gradients.Clear();
            pipeline.Run(team, tokens, labels, true, pipelinedOptimizer, transform);
        }
        Assert.Equal(referenceOptimizer.StepCount, pipelinedOptimizer.StepCount);
        ReadOnlySpan<double> expected = reference.Parameters, actual = pipelined.Parameters;
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-11 * (1 + Math.Abs(expected[i])), $"{info}: parameter {i} = {actual[i]}, expected {expected[i]}");
        // the training copies were repacked by their owners: a fresh pass from the same state gives the reference's outputs
        pipelined.ParametersChanged();
        reference.Gradients.Clear();
        pipelined.Gradients.Clear();
        int[] more = [.. Enumerable.Range(0, Steps).Select(_ => random.Next(info.InputSize))];
        int[] moreLabels = [.. Enumerable.Range(0, Steps).Select(_ => random.Next(info.OutputWidth))];
        reference.Forward(more, state, tape, outputs);
        double loss = Losses.SoftmaxCrossEntropy<double>(outputs, moreLabels, dOut);
        Assert.Equal(loss, pipeline.Run(team, more, moreLabels), 1e-11);
    }

    // Alone (no team, or an adaptive team that times stepping alone faster), the calling thread runs both roles: the same
    // bits as on two cores, so that a run's numbers do not depend on the machine's phases.
    [Fact]
    public void AloneGivesTheSameBitsAsOnTwoCores()
    {
        const int Steps = 10;
        ModelInfo info = LstmD3Tokens.Info;
        var random = new Random(8);
        var (together, alone) = (new LstmD3Tokens(), new LstmD3Tokens());
        together.InitializeParameters(4);
        alone.InitializeParameters(4);
        var (p1, p2) = (new LayerPipeline<LstmD3Tokens, double>(together, Steps), new LayerPipeline<LstmD3Tokens, double>(alone, Steps));
        var (o1, o2) = (new RmsProp<double>(info.ParameterCount, learningRate: 0.01), new RmsProp<double>(info.ParameterCount, learningRate: 0.01));
        using var team = new CoreTeam(2, adaptive: false);
        for (int window = 0; window < 3; window++)
        {
            int[] tokens = [.. Enumerable.Range(0, Steps).Select(_ => random.Next(info.InputSize))];
            int[] labels = [.. Enumerable.Range(0, Steps).Select(_ => random.Next(info.OutputWidth))];
            double l1 = p1.Run(team, tokens, labels, true, o1, GradientTransform<double>.Clamp(0.1), clearGradients: true);
            double l2 = p2.Run(null, tokens, labels, true, o2, GradientTransform<double>.Clamp(0.1), clearGradients: true);
            Assert.Equal(BitConverter.DoubleToInt64Bits(l1), BitConverter.DoubleToInt64Bits(l2));
        }
        Assert.Equal(together.Parameters.ToArray(), alone.Parameters.ToArray());
    }

    // Where core A's rows of layer 1's input gradients end only moves work between the cores: every split, from none of
    // the rows to all of them, gives the same bits over three updates (two and three layers; the clamp and its norm, the
    // optimizer's state, the clearing and the repacking all follow the split).
    [Fact] public void TheGradientSplit_MovesWorkNotValues_Lstm2() => CheckGradientSplits<LstmDTokens>();
    [Fact] public void TheGradientSplit_MovesWorkNotValues_Gru3() => CheckGradientSplits<GruD3TokensNoHead>();

    private static void CheckGradientSplits<TModel>() where TModel : class, IRecurrentModel<TModel, double>
    {
        const int Steps = 9;
        ModelInfo info = TModel.Info;
        int g = info.GateCount * info.HiddenSize;
        var random = new Random(6);
        int[][] tokens = [.. Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, Steps).Select(_ => random.Next(info.InputSize)).ToArray())];
        int[][] labels = [.. Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, Steps).Select(_ => random.Next(info.OutputWidth)).ToArray())];
        using var team = new CoreTeam(2, adaptive: false);
        double[]? first = null;
        foreach (int split in new[] { 0, g / 4, g / 2 + 1, g })
        {
            TModel model = TModel.Create();
            model.InitializeParameters(5);
            var pipeline = new LayerPipeline<TModel, double>(model, Steps, split) { ClearGradientsFirst = true, ClampBeforeNorm = 0.02 };
            Assert.Equal(split, pipeline.GradientSplitRow);
            var optimizer = new Adam<double>(info.ParameterCount, learningRate: 0.01);
            for (int window = 0; window < 3; window++)
                pipeline.Run(team, tokens[window], labels[window], true, optimizer, GradientTransform<double>.None);
            double[] parameters = model.Parameters.ToArray();
            first ??= parameters;
            Assert.Equal(first, parameters);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerPipeline<TModel, double>(TModel.Create(), Steps, g + 1));
    }

    // Dense inputs: layer 0's input product per step and its weight gradient over the window.
    [Fact] public void DenseLstm3() => CheckDense<LstmD3x5>();
    [Fact] public void DenseGru3() => CheckDense<GruD3x5>();
    [Fact] public void DenseRnnRelu2Head() => CheckDense<RnnReluD2x5>();

    private static void CheckDense<TModel>() where TModel : class, IRecurrentModel<TModel, double>
    {
        ModelInfo info = TModel.Info;
        const int Steps = 9;
        int[] lengths = [Steps, 4];
        var random = new Random(6);
        var (reference, pipelined, state, tape, pipeline) = Pair<TModel>(seed: 5, Steps);
        using var team = new CoreTeam(2, adaptive: false);
        foreach (int n in lengths)
        {
            double[] inputs = [.. Enumerable.Range(0, n * info.InputSize).Select(_ => 2 * random.NextDouble() - 1)];
            int[] labels = [.. Enumerable.Range(0, n).Select(_ => random.Next(info.OutputWidth))];
            var outputs = new double[n * info.OutputWidth];
            var dOut = new double[outputs.Length];
            reference.Gradients.Clear();
            reference.Forward(inputs, state, tape, outputs);
            double loss = Losses.SoftmaxCrossEntropy<double>(outputs, labels, dOut);
            reference.Backward(tape, dOut, new double[inputs.Length], null);
            pipelined.Gradients.Clear();
            Assert.Equal(loss, pipeline.Run(team, inputs, labels, true, null, GradientTransform<double>.None), 1e-12);
            ReadOnlySpan<double> expected = reference.Gradients, actual = pipelined.Gradients;
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * (1 + Math.Abs(expected[i])), $"{info}: gradient {i} = {actual[i]}, expected {expected[i]}");
        }
    }

    // Dense targets (MSE and BCE on the logits): the steps from the first with a target count, each element of them; the
    // steps before have no loss. Against the model's own passes and Losses on those steps, for targets that start in A's
    // share of the head (the window's first seven eighths), in B's only (its last step here), at the start, and after the
    // window (no loss at all).
    [Theory]
    [InlineData(SequenceLoss.MeanSquaredError)]
    [InlineData(SequenceLoss.BinaryCrossEntropyWithLogits)]
    public void DenseTargets(SequenceLoss loss)
    {
        CheckDenseTargets<LstmD3x5>(loss);
        CheckDenseTargets<RnnReluD2x5>(loss);
        CheckDenseTargets<GruDTokens>(loss);
    }

    private static void CheckDenseTargets<TModel>(SequenceLoss loss) where TModel : class, IRecurrentModel<TModel, double>
    {
        ModelInfo info = TModel.Info;
        const int Steps = 9;
        int width = info.OutputWidth;
        var random = new Random(7);
        var (reference, pipelined, state, tape, pipeline) = Pair<TModel>(seed: 8, Steps);
        using var team = new CoreTeam(2, adaptive: false);
        foreach (int from in new[] { 2, 6, Steps - 1, 0, Steps })
        {
            int[] tokens = [.. Enumerable.Range(0, Steps).Select(_ => random.Next(info.InputSize))];
            double[] inputs = [.. Enumerable.Range(0, Steps * info.InputSize).Select(_ => 2 * random.NextDouble() - 1)];
            double[] targets = [.. Enumerable.Range(0, (Steps - from) * width).Select(_ => random.NextDouble())];
            var outputs = new double[Steps * width];
            var dOut = new double[outputs.Length];
            reference.Gradients.Clear();
            if (info.Tokens) reference.Forward(tokens, state, tape, outputs); else reference.Forward(inputs, state, tape, outputs);
            double expected = 0;
            if (from < Steps)
            {
                ReadOnlySpan<double> y = outputs.AsSpan(from * width);
                Span<double> g = dOut.AsSpan(from * width);
                expected = loss == SequenceLoss.MeanSquaredError ? Losses.MeanSquaredError<double>(y, targets, g) : Losses.BinaryCrossEntropyWithLogits<double>(y, targets, g);
            }
            reference.Backward(tape, dOut, info.Tokens ? default : new double[inputs.Length], null);

            pipelined.Gradients.Clear();
            var windowTargets = WindowTargets<double>.Dense(loss, targets, from);
            double actual = info.Tokens
                ? pipeline.Run(team, tokens, windowTargets, true, null, GradientTransform<double>.None)
                : pipeline.Run(team, inputs, windowTargets, true, null, GradientTransform<double>.None);
            Assert.Equal(expected, actual, 1e-12);
            Assert.Equal(0, pipeline.Correct);
            for (int i = 0; i < outputs.Length; i++)
                Assert.Equal(outputs[i], pipeline.Outputs[i], 1e-12);
            ReadOnlySpan<double> e = reference.Gradients, a = pipelined.Gradients;
            for (int i = 0; i < e.Length; i++)
                Assert.True(Math.Abs(e[i] - a[i]) <= 1e-12 * (1 + Math.Abs(e[i])), $"{info}, targets from {from}: gradient {i} = {a[i]}, expected {e[i]}");
        }
        // a target count that does not fit the window is refused
        Assert.Throws<ArgumentException>(() => info.Tokens
            ? pipeline.Run(null, new int[Steps], WindowTargets<double>.Dense(loss, new double[3], 1), true, null, GradientTransform<double>.None)
            : pipeline.Run(null, new double[Steps * info.InputSize], WindowTargets<double>.Dense(loss, new double[3], 1), true, null, GradientTransform<double>.None));
    }

    // A role that fails (here A, on a token outside the vocabulary) ends the call with its own exception, never with the
    // other role's give-up, whichever of the two reaches the team first (with the failing role held back, the give-up does).
    [Theory, InlineData(false), InlineData(true)]
    public void AFailingRole_SurfacesItsOwnException(bool giveUpFirst)
    {
        ModelInfo info = LstmFTokens.Info;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            var model = new LstmFTokens();
            model.InitializeParameters(1);
            var pipeline = new LayerPipeline<LstmFTokens, float>(model, 4);
            if (giveUpFirst) pipeline.BeforeFailureRethrown = () => Thread.Sleep(50);
            using var team = new CoreTeam(2, adaptive: false);
            var e = Assert.ThrowsAny<Exception>(() =>
                pipeline.Run(team, [1, 2, info.InputSize + 5, 3], [1, 2, 3, 4], true, new Sgd<float>(info.ParameterCount, learningRate: 0.1), GradientTransform<float>.None));
            Assert.IsType<ArgumentOutOfRangeException>(e);
        }
    }

    // With a clamp, the caller gets two norms: the gradients' as computed (an ∞ among them makes it ∞, so the trainer's
    // check refuses the step, as on one core, although the clamp would make it finite) and the clamped ones' (what a clip by
    // norm scales); the gradients it may read meanwhile are as computed, every core's.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WithAClamp_TheCallerSeesTheNormAsComputedAndTheClampedNorm(bool onTeam)
    {
        ModelInfo info = LstmFTokens.Info;
        var model = new LstmFTokens();
        model.InitializeParameters(1);
        var pipeline = new LayerPipeline<LstmFTokens, float>(model, 4) { ClampBeforeNorm = 1e-3f };
        int a = info.Find("weight_hh_l0")!.Offset, b = info.Find("weight_hh_l1")!.Offset; // A's and B's
        float atA = float.NaN, atB = float.NaN, norm = float.NaN, clampedNorm = float.NaN;
        pipeline.Decide = (_, n, c) =>
        {
            (norm, clampedNorm, atA, atB) = (n, c, model.Gradients[a], model.Gradients[b]);
            return (false, GradientTransform<float>.None);
        };
        using var team = onTeam ? new CoreTeam(2, adaptive: false) : null;
        pipeline.Run(team, [1, 2, 3, 4], [1, 2, 3, 4], true, new Sgd<float>(info.ParameterCount, learningRate: 0.1), GradientTransform<float>.None);
        float[] computed = model.Gradients.ToArray();
        float[] clamped = [.. computed.Select(g => Math.Clamp(g, -1e-3f, 1e-3f))];
        Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Norm<float>(computed), norm, 1e-4f * norm);
        Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Norm<float>(clamped), clampedNorm, 1e-4f * clampedNorm);
        Assert.True(norm > clampedNorm);
        Assert.Equal(computed[a], atA);
        Assert.Equal(computed[b], atB);
    }

    // The sums behind those norms, in one pass: an ∞ gives an ∞ raw sum and a finite clamped one; a NaN a NaN raw sum.
    [Theory]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    [InlineData(float.NaN)]
    [InlineData(3f)]
    public void SumsOfSquares_AsComputedAndClamped(float odd)
    {
        foreach (int n in new[] { 1, 15, 16, 17, 64, 100 })
        {
            var g = new float[n];
            for (int i = 0; i < n; i++) g[i] = (i % 3 - 1) * 0.5f;
            g[n / 2] = odd;
            var (clamped, raw) = Elementwise.SumsOfSquares(GradientTransform<float>.Clamp(1f), g);
            Assert.Equal(Elementwise.SumOfSquares(GradientTransform<float>.Clamp(1f), g), clamped);
            float expectedRaw = System.Numerics.Tensors.TensorPrimitives.SumOfSquares<float>(g);
            if (float.IsFinite(expectedRaw)) Assert.Equal(expectedRaw, raw, 1e-5f);
            else Assert.Equal(float.IsNaN(expectedRaw), float.IsNaN(raw));
            Assert.Equal(float.IsFinite(odd), float.IsFinite(raw));
        }
    }

    // For the trainer: the state in and out of a RecurrentState, the norm of the gradients from each core's share (after an
    // optional clamp), and a decision between the backward and the update that can skip the step.
    [Fact]
    public void StateNormAndDecision()
    {
        const int Steps = 8;
        ModelInfo info = LstmD3Tokens.Info;
        var random = new Random(12);
        int[] tokens = [.. Enumerable.Range(0, Steps).Select(_ => random.Next(info.InputSize))];
        int[] labels = [.. Enumerable.Range(0, Steps).Select(_ => random.Next(info.OutputWidth))];
        IRecurrentModel<LstmD3Tokens, double> reference = new LstmD3Tokens();
        reference.InitializeParameters(3);
        var pipelined = new LstmD3Tokens();
        reference.Parameters.CopyTo(pipelined.Parameters);
        pipelined.ParametersChanged();
        var start = reference.CreateState();
        for (int i = 0; i < start.Values.Length; i++) start.Values[i] = 0.5 * Math.Sin(i);
        var referenceState = reference.CreateState();
        start.Values.CopyTo(referenceState.Values);
        var tape = reference.CreateTape(Steps);
        var outputs = new double[Steps * info.OutputWidth];
        var dOut = new double[outputs.Length];
        reference.Forward(tokens, referenceState, tape, outputs);
        double loss = Losses.SoftmaxCrossEntropy<double>(outputs, labels, dOut);
        reference.Backward(tape, dOut, default, null);

        var pipeline = new LayerPipeline<LstmD3Tokens, double>(pipelined, Steps);
        var optimizer = new Sgd<double>(info.ParameterCount, learningRate: 0.1);
        using var team = new CoreTeam(2, adaptive: false);
        double seenLoss = double.NaN, seenNorm = double.NaN;
        double seenClampedNorm = double.NaN;
        pipeline.Decide = (l, norm, clampedNorm) => { seenLoss = l; seenNorm = norm; seenClampedNorm = clampedNorm; return (false, GradientTransform<double>.None); };
        pipeline.LoadState(start);
        double[] before = pipelined.Parameters.ToArray();
        Assert.Equal(loss, pipeline.Run(team, tokens, labels, true, optimizer, GradientTransform<double>.None), 1e-12);
        Assert.Equal(loss, seenLoss, 1e-12);
        Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Norm<double>(reference.Gradients), seenNorm, 1e-12);
        Assert.Equal(seenNorm, seenClampedNorm); // no clamp: one norm
        Assert.Equal(before, pipelined.Parameters.ToArray());       // skipped: no step taken
        Assert.Equal(0, optimizer.StepCount);
        var end = reference.CreateState();
        pipeline.SaveState(end);
        for (int i = 0; i < end.Values.Length; i++)
            Assert.Equal(referenceState.Values[i], end.Values[i], 1e-12);

        // clamped, then measured (and measured as computed); a step taken with the decision's transform
        pipelined.Gradients.Clear();
        pipeline.ClampBeforeNorm = 0.01;
        pipeline.Decide = (l, norm, clampedNorm) => { seenNorm = norm; seenClampedNorm = clampedNorm; return (true, GradientTransform<double>.None); };
        pipeline.LoadState(start);
        pipeline.Run(team, tokens, labels, true, optimizer, GradientTransform<double>.None);
        var clamped = reference.Gradients.ToArray();
        System.Numerics.Tensors.TensorPrimitives.Clamp(clamped, -0.01, 0.01, clamped);
        Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Norm<double>(clamped), seenClampedNorm, 1e-12);
        Assert.Equal(System.Numerics.Tensors.TensorPrimitives.Norm<double>(reference.Gradients), seenNorm, 1e-12);
        Assert.Equal(1, optimizer.StepCount);
        for (int i = 0; i < before.Length; i++)
            Assert.Equal(before[i] - 0.1 * clamped[i], pipelined.Parameters[i], 1e-12);
    }

    // The trainer pipelines dense targets too (MSE and BCE, many-to-one and many-to-many, windows shorter than the
    // sequences): the same bits on one worker and two, and the numbers of the model's own passes to double rounding.
    [Theory]
    [InlineData(SequenceLoss.MeanSquaredError)]
    [InlineData(SequenceLoss.BinaryCrossEntropyWithLogits)]
    public void TheTrainerPipelinesDenseTargets(SequenceLoss loss)
    {
        static (double[] Parameters, List<double> Losses, long Steps) Train(SequenceLoss loss, int workers, bool pipeline = true)
        {
            ModelInfo info = LstmD3x5.Info;
            var random = new Random(11);
            var items = new List<TrainingSequence<double>>();
            for (int i = 0; i < 8; i++)
            {
                int steps = 6 + i % 4, targetSteps = i % 2 == 0 ? 1 : steps;   // many-to-one and many-to-many
                double[] inputs = [.. Enumerable.Range(0, steps * info.InputSize).Select(_ => 2 * random.NextDouble() - 1)];
                double[] targets = [.. Enumerable.Range(0, targetSteps * info.OutputWidth).Select(_ => random.NextDouble())];
                items.Add(TrainingSequence<double>.FromVectors(inputs, targets));
            }
            var model = new LstmD3x5();
            model.InitializeParameters(23);
            var losses = new List<double>();
            var trainer = SequenceTrainer.Create(model, new Adam<double>(LstmD3x5.ParameterCount, learningRate: 0.01), new TrainerOptions
            {
                Epochs = 2, BatchSize = 1, WindowLength = 4, WorkerCount = workers, Seed = 3, Loss = loss, ClipGradientNorm = 0.5,
            });
            trainer.UsePipeline = pipeline;
            // the losses, and the norms reported (before clipping, on either path: the value clip of 0.3 cuts some gradients)
            var result = trainer.Train(new SequenceDataset<double>(items), progress: new SyncProgress<TrainingProgress>(p => losses.AddRange([p.Loss, p.GradientNorm])));
            Assert.Equal(pipeline, trainer.LastRunner!.Pipelined);
            return (model.Parameters.ToArray(), losses, result.Steps);
        }

        CheckWorkersAndPaths(workers => Train(loss, workers), () => Train(loss, 1, pipeline: false));
    }

    /// <summary>
    /// The pipelined trainer on one worker and on two gives the same bits, and the one-core path (the model's own passes)
    /// the same steps, losses and parameters to double rounding.
    /// </summary>
    private static void CheckWorkersAndPaths(Func<int, (double[] Parameters, List<double> Losses, long Steps)> pipelined,
        Func<(double[] Parameters, List<double> Losses, long Steps)> onePath)
    {
        var alone = pipelined(1);                                   // the pipeline's roles on the calling thread
        var two = pipelined(2);                                     // on two cores
        Assert.Equal(alone.Parameters, two.Parameters);             // the same bits whatever the worker count
        var one = onePath();                                        // the model's own Forward/Backward, the whole step
        Assert.Equal(one.Steps, two.Steps);
        Assert.Equal(one.Losses.Count, two.Losses.Count);
        for (int i = 0; i < one.Losses.Count; i++)
            Assert.True(double.IsNaN(one.Losses[i]) ? double.IsNaN(two.Losses[i]) : Math.Abs(one.Losses[i] - two.Losses[i]) <= 1e-10, $"loss {i}: {two.Losses[i]}, expected {one.Losses[i]}");
        for (int i = 0; i < one.Parameters.Length; i++)
            Assert.True(Math.Abs(one.Parameters[i] - two.Parameters[i]) <= 1e-9 * (1 + Math.Abs(one.Parameters[i])), $"parameter {i}: {two.Parameters[i]}, expected {one.Parameters[i]}");
    }

    // The trainer runs windows of one lane as a layer pipeline — on two cores with two workers, on the calling thread with
    // one, the same bits — and trains as with the model's own Forward/Backward and the whole optimizer step, to double rounding — many-to-many and many-to-one,
    // windows shorter than the sequences with the state carried, clipping by value and by norm, a schedule, Adam and RMSProp.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheTrainerOnTwoWorkers_TrainsAsOnOne(bool adamWithNormClip)
    {
        static (double[] Parameters, List<double> Losses, long Steps) Train(int workers, bool adam, bool pipeline = true)
        {
            var items = new List<TrainingSequence<double>>();
            for (int i = 0; i < 12; i++)
            {
                int[] tokens = TaskData.RandomTokens(7 + i % 5, 9, seed: 40 + i);
                int[] labels = i % 3 == 0 ? [tokens[0] % 9] : [.. tokens.Select((_, t) => t == 0 ? -1 : tokens[t - 1])];
                items.Add(TrainingSequence<double>.FromTokens(tokens, labels));
            }
            var model = new LstmD3Tokens();
            model.InitializeParameters(21);
            Optimizer<double> optimizer = adam ? new Adam<double>(LstmD3Tokens.ParameterCount, learningRate: 0.01) : new RmsProp<double>(LstmD3Tokens.ParameterCount, learningRate: 0.005);
            var losses = new List<double>();
            var trainer = SequenceTrainer.Create(model, optimizer, new TrainerOptions
            {
                Epochs = 2, BatchSize = 1, WindowLength = 4, WorkerCount = workers, Seed = 5,
                ClipGradientValue = 0.3, ClipGradientNorm = adam ? 0.5 : null,
                LearningRateSchedule = adam ? new StepDecaySchedule(0.01, 10, 0.5) : null,
            });
            trainer.UsePipeline = pipeline;
            // the losses, and the norms reported (before clipping, on either path: the value clip of 0.3 cuts some gradients)
            var result = trainer.Train(new SequenceDataset<double>(items), progress: new SyncProgress<TrainingProgress>(p => losses.AddRange([p.Loss, p.GradientNorm])));
            Assert.Equal(pipeline, trainer.LastRunner!.Pipelined);
            return (model.Parameters.ToArray(), losses, result.Steps);
        }

        CheckWorkersAndPaths(workers => Train(workers, adamWithNormClip), () => Train(1, adamWithNormClip, pipeline: false));
    }
}
