using BenchmarkDotNet.Attributes;
using RnnGen.Benchmarks.Onnx;
using RnnGen.Benchmarks.Torch;
using TorchSharp;

namespace RnnGen.Benchmarks.Streaming;

/// <summary>
/// Several independent streams of one model (the LSTM 64→128×2), each with its own state, advanced one step per call
/// together: a server holding many conversations, or a plug-in processing several audio channels. Times are per stream
/// and step (<c>OperationsPerInvoke</c> = <see cref="Streams"/>). RnnGen's baseline steps the streams one after the other
/// with <c>Step</c>; its lockstep row advances all of them with one lane <c>Forward</c> of one step on a
/// <c>Tape(1, Streams)</c>, which reads every weight once for all streams; libtorch and ONNX Runtime run them as a batch.
/// Stream b's input is the streaming benchmarks' input vector rotated by b places, so the streams differ; before anything
/// is timed, <see cref="Setup"/> checks every engine against RnnGen's <c>Step</c> per stream.
/// </summary>
public class ManyStreams
{
    /// <summary>Streams advanced per call.</summary>
    public const int Streams = 8;

    private const int Seed = 20240601, CheckSteps = 4;

    // Row names (the report reads them).
    internal const string StepEach = "RnnGen, Step per stream", Lockstep = "RnnGen, lockstep lanes",
        TorchBatch = "TorchSharp module, batch", TorchBatch2 = "TorchSharp module, batch, 2 threads", OnnxBatch = "ONNX Runtime, batch";

    private Lstm64x128x2 _model = null!;
    private Lstm64x128x2.State[] _states = null!;
    private Lstm64x128x2.Tape _tape = null!;
    private float[] _inputs = null!, _outputs = null!;
    private TorchModuleEngine _torch = null!;
    private OnnxEngine _onnx = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        const int n = Lstm64x128x2.InputSize;
        _model = new Lstm64x128x2();
        _model.InitializeParameters(Seed);
        var random = new Random(Seed);
        float[] input = [.. Enumerable.Range(0, n).Select(_ => (float)(2 * random.NextDouble() - 1))];
        _inputs = new float[Streams * n];
        for (int b = 0; b < Streams; b++)
            for (int i = 0; i < n; i++)
                _inputs[b * n + i] = input[(i + b) % n];
        _outputs = new float[Streams * Lstm64x128x2.OutputWidth];
        _states = [.. Enumerable.Range(0, Streams).Select(_ => new Lstm64x128x2.State())];
        _tape = new Lstm64x128x2.Tape(maxSteps: 1, maxLanes: Streams);
        _torch = new TorchModuleEngine(Lstm64x128x2.Info, _model.Parameters, _inputs, stepsPerCall: 1, batch: Streams);
        _onnx = new OnnxEngine(OnnxFile.ExportToBytes(_model), Lstm64x128x2.Info, _inputs, batch: Streams);
        Check();
        Report.ThreadAllocations.Measure($"{nameof(Lstm64x128x2)}: Step per stream, {Streams} streams", () => RnnGenStepEach());
        Report.ThreadAllocations.Measure($"{nameof(Lstm64x128x2)}: lane Forward of one step, {Streams} streams", () => RnnGenLockstep());
    }

    /// <summary>As <see cref="Setup"/>, with libtorch on both cores.</summary>
    [GlobalSetup(Target = nameof(TorchModuleTwoThreads))]
    public void SetupTwoThreads()
    {
        Setup();
        torch.set_num_threads(2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        torch.set_num_threads(1);
        _torch?.Dispose();
        _onnx?.Dispose();
    }

    [Benchmark(Baseline = true, Description = StepEach, OperationsPerInvoke = Streams)]
    public float RnnGenStepEach()
    {
        const int n = Lstm64x128x2.InputSize, width = Lstm64x128x2.OutputWidth;
        for (int b = 0; b < Streams; b++)
            _model.Step(_inputs.AsSpan(b * n, n), ref _states[b], _outputs.AsSpan(b * width, width));
        return _outputs[0];
    }

    [Benchmark(Description = Lockstep, OperationsPerInvoke = Streams)]
    public float RnnGenLockstep()
    {
        _model.Forward(_inputs, _states, _tape, _outputs);
        return _outputs[0];
    }

    [Benchmark(Description = TorchBatch, OperationsPerInvoke = Streams)]
    public float TorchModule() => _torch.Step();

    [Benchmark(Description = TorchBatch2, OperationsPerInvoke = Streams)]
    public float TorchModuleTwoThreads() => _torch.Step();

    [Benchmark(Description = OnnxBatch, OperationsPerInvoke = Streams)]
    public float OnnxRuntime() => _onnx.Step();

    /// <summary>
    /// From zero states, <see cref="CheckSteps"/> calls of each engine against RnnGen's <c>Step</c> per stream: the
    /// lockstep lanes to float rounding (they sum in another order), libtorch and ONNX Runtime to 1e-4; then every state is
    /// zeroed again.
    /// </summary>
    private void Check()
    {
        const int n = Lstm64x128x2.InputSize, width = Lstm64x128x2.OutputWidth;
        var expected = new float[Streams * width];
        var states = Enumerable.Range(0, Streams).Select(_ => new Lstm64x128x2.State()).ToArray();
        _torch.Reset();
        _onnx.Reset();
        for (int call = 0; call < CheckSteps; call++)
        {
            for (int b = 0; b < Streams; b++)
                _model.Step(_inputs.AsSpan(b * n, n), ref states[b], expected.AsSpan(b * width, width));
            RnnGenLockstep();
            _torch.Step();
            _onnx.Step();
            foreach (var (engine, actual) in new[] { ("lockstep lanes", _outputs), ("TorchSharp", _torch.LastOutput()), ("ONNX Runtime", _onnx.LastOutput()) })
            {
                double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
                if (actual.Length != expected.Length || !(worst <= 1e-4))
                    throw new InvalidOperationException($"{engine} disagrees with RnnGen's Step per stream at call {call}: max |difference| {worst:g3} > 1e-4.");
            }
        }
        foreach (Lstm64x128x2.State s in _states)
            s.Reset();
        _torch.Reset();
        _onnx.Reset();
    }
}
