using BenchmarkDotNet.Attributes;
using TorchSharp;

namespace RnnGen.Benchmarks.Training;

/// <summary>
/// Training with char-rnn's configuration (LSTM 2×128 over 65 tokens, head 65; sequences of 50 steps, state carried;
/// forward + BPTT + clip + RMSProp). Every row's time is per character trained (OperationsPerInvoke = characters per
/// call), so characters per second = 1e9 / ns. Set-up checks that RnnGen and TorchSharp give the same losses over three
/// updates (the forward pass, then the gradients, clip and RMSProp behind the next two), and that the driver gives the
/// same bits on one worker and on two.
/// </summary>
public class CharRnnTraining
{
    private const int Seed = 20240602;
    private const int Batch = 50;
    private const int Characters1 = CharRnnBatch.Steps, Characters50 = Batch * CharRnnBatch.Steps;

    private RnnGenCharRnnTrainer _rnnGen1 = null!, _rnnGen50 = null!;
    private TorchCharRnnTrainer _torch1 = null!, _torch50 = null!;
    private DriverCharRnnTrainer _driver1 = null!, _driver2 = null!, _driverOne1 = null!, _driverOne2 = null!;

    [GlobalSetup]
    public void Setup()
    {
        var one = new CharRnnBatch(1, Seed);
        var fifty = new CharRnnBatch(Batch, Seed);
        _rnnGen1 = new RnnGenCharRnnTrainer(one, Seed);
        _rnnGen50 = new RnnGenCharRnnTrainer(fifty, Seed);
        _torch1 = new TorchCharRnnTrainer(one, Seed);
        _torch50 = new TorchCharRnnTrainer(fifty, Seed);
        _driver1 = new DriverCharRnnTrainer(workers: 1, Seed);
        _driver2 = new DriverCharRnnTrainer(workers: 2, Seed);
        _driverOne1 = new DriverCharRnnTrainer(workers: 1, Seed, streams: 1);
        _driverOne2 = new DriverCharRnnTrainer(workers: 2, Seed, streams: 1);
        torch.set_num_threads(1);
        // three updates each: the first loss checks the forward pass at the initial weights, the next two the gradients,
        // the clip and RMSProp that produced the weights they are computed with
        for (int update = 1; update <= 3; update++)
        {
            CheckSameLoss(_rnnGen1.Update(), _torch1.Update(), $"batch 1, update {update}");
            CheckSameLoss(_rnnGen50.Update(), _torch50.Update(), $"batch 50, update {update}");
        }
        // the runtime's driver: one worker and two give the same bits (the groups and their order do not depend on the
        // threads; tests/RnnGen.Tests checks the driver against the loop written out)
        if (_driver1.Epoch() != _driver2.Epoch())
            throw new InvalidOperationException("The SequenceTrainer rows disagree: one worker and two gave different losses.");
        // the batch-1 rows too, which run as the layer pipeline (its roles on one thread, or on both cores)
        if (_driverOne1.Epoch() != _driverOne2.Epoch())
            throw new InvalidOperationException("The SequenceTrainer batch-1 rows disagree: one worker and two gave different losses.");
        _rnnGen1.Forward();
        _rnnGen1.PrepareBackward();
        Report.ThreadAllocations.Measure("CharRnn: Forward + loss + Backward + clip + RMSProp, batch 1", () => _rnnGen1.Update());
        Report.ThreadAllocations.Measure("CharRnn: the same, batch 50 in lane groups", () => _rnnGen50.Update());
        Report.ThreadAllocations.Measure("CharRnn: Forward (50 steps)", () => _rnnGen1.Forward());
        Report.ThreadAllocations.Measure("CharRnn: Backward (50 steps)", () => _rnnGen1.Backward());
        _rnnGen1.Forward();
        _rnnGen1.PrepareBackward();
    }

    /// <summary>As <see cref="Setup"/>, with libtorch on both cores.</summary>
    [GlobalSetup(Targets = [nameof(TorchBatch1TwoThreads), nameof(TorchBatch50TwoThreads)])]
    public void SetupTwoThreads()
    {
        Setup();
        torch.set_num_threads(2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        torch.set_num_threads(1);
        _torch1?.Dispose();
        _torch50?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "RnnGen batch 1", OperationsPerInvoke = Characters1)]
    public float RnnGenBatch1() => _rnnGen1.Update();

    /// <summary>The runtime's driver at batch 1 (one stream, windows of 50): one worker.</summary>
    [Benchmark(Description = "RnnGen SequenceTrainer batch 1, 1 worker", OperationsPerInvoke = DriverCharRnnTrainer.CharactersPerEpoch)]
    public double DriverBatch1OneWorker() => _driverOne1.Epoch();

    /// <summary>The same on two workers: windows of one lane run as the layer pipeline on both cores.</summary>
    [Benchmark(Description = "RnnGen SequenceTrainer batch 1, 2 workers", OperationsPerInvoke = DriverCharRnnTrainer.CharactersPerEpoch)]
    public double DriverBatch1TwoWorkers() => _driverOne2.Epoch();

    [Benchmark(Description = "RnnGen batch 50, 1 thread", OperationsPerInvoke = Characters50)]
    public float RnnGenBatch50() => _rnnGen50.Update();

    /// <summary>The runtime's sequence driver: 10 updates of 50 × 50 characters per call, one worker thread.</summary>
    [Benchmark(Description = "RnnGen SequenceTrainer batch 50, 1 worker", OperationsPerInvoke = DriverCharRnnTrainer.CharactersPerEpoch)]
    public double DriverOneWorker() => _driver1.Epoch();

    /// <summary>The runtime's sequence driver on both cores: 10 updates of 50 × 50 characters per call, two worker threads.</summary>
    [Benchmark(Description = "RnnGen SequenceTrainer batch 50, 2 workers", OperationsPerInvoke = DriverCharRnnTrainer.CharactersPerEpoch)]
    public double DriverTwoWorkers() => _driver2.Epoch();

    [Benchmark(Description = "TorchSharp batch 1, 1 thread", OperationsPerInvoke = Characters1)]
    public float TorchBatch1() => _torch1.Update();

    [Benchmark(Description = "TorchSharp batch 1, 2 threads", OperationsPerInvoke = Characters1)]
    public float TorchBatch1TwoThreads() => _torch1.Update();

    [Benchmark(Description = "TorchSharp batch 50, 1 thread", OperationsPerInvoke = Characters50)]
    public float TorchBatch50() => _torch50.Update();

    [Benchmark(Description = "TorchSharp batch 50, 2 threads", OperationsPerInvoke = Characters50)]
    public float TorchBatch50TwoThreads() => _torch50.Update();

    /// <summary>The forward half of RnnGen's batch-1 update (50 steps recorded on the tape).</summary>
    [Benchmark(Description = "RnnGen Forward (50 steps)", OperationsPerInvoke = Characters1)]
    public float RnnGenForward() => _rnnGen1.Forward();

    /// <summary>The BPTT half of RnnGen's batch-1 update (50 steps, gradients added).</summary>
    [Benchmark(Description = "RnnGen Backward (50 steps)", OperationsPerInvoke = Characters1)]
    public float RnnGenBackward() => _rnnGen1.Backward();

    private static void CheckSameLoss(float rnnGen, float torch, string what)
    {
        // Same weights, same tokens, float32 both: the losses agree to rounding (≈ ln 65 ≈ 4.17 at first).
        if (!(Math.Abs(rnnGen - torch) <= 1e-4 * Math.Abs(torch)))
            throw new InvalidOperationException($"The training losses differ at {what}: RnnGen {rnnGen}, TorchSharp {torch}.");
    }
}
