using BenchmarkDotNet.Attributes;
using RnnGen.Benchmarks.Onnx;
using RnnGen.Benchmarks.Torch;
using TorchSharp;

namespace RnnGen.Benchmarks.Streaming;

/// <summary>
/// Streaming inference at batch 1 for one model: every engine runs the same weights (RnnGen's
/// <c>InitializeParameters(Seed)</c>) on the same fixed input vector, one step per call with the state carried.
/// A derived class per model adds the RnnGen row (the baseline), calling the generated <c>Step</c> directly.
/// Before anything is timed, <see cref="Setup"/> checks that every engine's outputs match RnnGen's: the naive C# reference
/// must (else RnnGen is wrong and nothing is timed); a peer that does not is not timed, and the report says so.
/// </summary>
/// <typeparam name="TModel">The generated model.</typeparam>
public abstract class StreamingBenchmark<TModel> where TModel : class, IRecurrentModel<TModel, float>
{
    /// <summary>Steps per call of the whole-sequence row (time per step = call time / this).</summary>
    public const int SequenceLength = 1000;

    private const int Seed = 20240601;
    /// <summary>Calls compared with RnnGen's before anything is timed.</summary>
    protected const int CheckSteps = 4;

    private IStreamingEngine _naive = null!, _torchModule = null!, _torchSequence = null!, _torchCells = null!, _onnx = null!;
    private WeightFloor _floor = null!;

    /// <summary>The RnnGen model (weights from <see cref="Seed"/>).</summary>
    protected TModel Model { get; private set; } = null!;

    /// <summary>The input fed at every step (InputSize values in [−1, 1)).</summary>
    protected float[] Input { get; private set; } = null!;

    /// <summary>RnnGen's output buffer (OutputWidth values).</summary>
    protected float[] Output { get; private set; } = null!;

    /// <summary>The row of RnnGen's <c>Step</c> on a <see cref="CoreTeam"/> of both cores (the large models only).</summary>
    public const string TwoCores = "RnnGen, 2 cores";

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1); // libtorch's rows run on one thread, except the one that says otherwise
        ModelInfo info = TModel.Info;
        Model = TModel.Create();
        Model.InitializeParameters(Seed);
        var random = new Random(Seed);
        Input = [.. Enumerable.Range(0, info.InputSize).Select(_ => (float)(2 * random.NextDouble() - 1))];
        Output = new float[info.OutputWidth];
        ReadOnlySpan<float> parameters = Model.Parameters;

        _floor = new WeightFloor(WeightFloor.StreamedBy(info, parameters));
        _naive = Checked(new NaiveRecurrent(info, parameters, Input), "naive C#", peer: false);
        _torchModule = Checked(new TorchModuleEngine(info, parameters, Input, stepsPerCall: 1), "TorchSharp module");
        _torchCells = Checked(new TorchCellsEngine(info, parameters, Input), "TorchSharp cells");
        _torchSequence = Checked(new TorchModuleEngine(info, parameters, Input, stepsPerCall: SequenceLength), "TorchSharp sequence");
        _onnx = Checked(new OnnxEngine(OnnxFile.ExportToBytes(Model), info, Input), "ONNX Runtime");
        Report.ThreadAllocations.Measure($"{typeof(TModel).Name}: Step", () => RnnGen());
    }

    /// <summary>RnnGen's row: one generated <c>Step</c> (declared by each model's class, the baseline).</summary>
    public abstract float RnnGen();

    /// <summary>As <see cref="Setup"/>, with libtorch on both cores.</summary>
    [GlobalSetup(Targets = [nameof(TorchModuleTwoThreads), nameof(TorchSequenceTwoThreads)])]
    public void SetupTwoThreads()
    {
        Setup();
        torch.set_num_threads(2);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        torch.set_num_threads(1);
        foreach (IDisposable d in new IDisposable[] { _floor, _naive, _torchModule, _torchCells, _torchSequence, _onnx })
            d?.Dispose();
    }

    /// <summary>Reads every weight once (the floor); see <see cref="WeightFloor"/>.</summary>
    [Benchmark(Description = "floor")]
    public float Floor() => _floor.Read();

    [Benchmark(Description = "naive C#")]
    public float Naive() => _naive.Step();

    [Benchmark(Description = "TorchSharp module")]
    public float TorchModule() => _torchModule.Step();

    [Benchmark(Description = "TorchSharp module, 2 threads")]
    public float TorchModuleTwoThreads() => _torchModule.Step();

    [Benchmark(Description = "TorchSharp cells")]
    public float TorchCells() => _torchCells.Step();

    [Benchmark(Description = "TorchSharp sequence", OperationsPerInvoke = SequenceLength)]
    public float TorchSequence() => _torchSequence.Step();

    [Benchmark(Description = "TorchSharp sequence, 2 threads", OperationsPerInvoke = SequenceLength)]
    public float TorchSequenceTwoThreads() => _torchSequence.Step();

    [Benchmark(Description = "ONNX Runtime")]
    public float OnnxRuntime() => _onnx.Step();

    /// <summary>
    /// Runs <paramref name="engine"/> and RnnGen (through <see cref="IRecurrentModel{TSelf, T}"/>) from zero state for
    /// <see cref="CheckSteps"/> calls and compares every call's last output; then zeroes the engine's state and returns it.
    /// A <paramref name="peer"/> that disagrees comes back as a <see cref="NotTimed"/> engine (recorded for the report);
    /// the naive reference (checked first) throws, since then RnnGen is what is wrong.
    /// </summary>
    private IStreamingEngine Checked(IStreamingEngine engine, string row, bool peer = true)
    {
        ModelInfo info = TModel.Info;
        RecurrentState<float> state = Model.CreateState();
        var expected = new float[info.OutputWidth];
        engine.Reset();
        for (int call = 0; call < CheckSteps; call++)
        {
            for (int t = 0; t < engine.StepsPerCall; t++)
                Model.Step(Input, state, expected);
            engine.Step();
            float[] actual = engine.LastOutput();
            double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            // float32 engines summing in different orders: ~1e-6 per step; the whole-sequence rows run 1000 steps.
            double tolerance = engine.StepsPerCall == 1 ? 1e-4 : 1e-3;
            if (actual.Length != expected.Length || !(worst <= tolerance))
            {
                string difference = $"at call {call} of {CheckSteps} from a zero state: max |difference| {worst:g3} > {tolerance:g1}";
                if (!peer)
                    throw new InvalidOperationException($"RnnGen disagrees with the {row} reference on {info} {difference}: RnnGen's step is wrong; nothing is timed.");
                Report.Disagreements.Add(GetType(), info.ToString(), row, $"disagreed with RnnGen, which the naive C# reference matched, {difference}");
                engine.Dispose();
                return new NotTimed($"{row} disagrees with RnnGen on {info} {difference}: not timed.");
            }
        }
        engine.Reset();
        return engine;
    }

    /// <summary>A peer whose results disagreed: every timed call throws, so BenchmarkDotNet reports no time for its rows.</summary>
    private sealed class NotTimed(string reason) : IStreamingEngine
    {
        public int StepsPerCall => 1;
        public void Reset() { }
        public float Step() => throw new InvalidOperationException(reason);
        public float[] LastOutput() => throw new InvalidOperationException(reason);
        public void Dispose() { }
    }
}
