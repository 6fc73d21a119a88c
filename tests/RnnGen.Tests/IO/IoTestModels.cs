using System.Runtime.InteropServices;

namespace RnnGen.Tests.IO;

// Models for the model-file tests (besides the shared ones in Models/TestModels.cs). All go through the real generator.

[GruModel(hidden: 4, layers: 2, Input = 3, Output = 2)]
public partial class IoGruF2x4Head { }

[RnnModel(hidden: 4, layers: 2, Input = 3)]
public partial class IoRnnTanhF2x4 { }

/// <summary>Same shapes as <c>RnnReluD2x5</c> but tanh: parameter-compatible, different model.</summary>
[RnnModel(hidden: 5, layers: 2, Input = 3, Output = 4, Precision = Precision.Double)]
public partial class IoRnnTanhD2x5Head { }

/// <summary>14 parameters: weight_ih_l0 [2, 3], weight_hh_l0 [2, 2], bias_ih_l0 [2], bias_hh_l0 [2].</summary>
[RnnModel(hidden: 2, layers: 1, Input = 3)]
public partial class IoTinyF { }

/// <summary>The same 14 parameters in double.</summary>
[RnnModel(hidden: 2, layers: 1, Input = 3, Precision = Precision.Double)]
public partial class IoTinyD { }

/// <summary>
/// A hand-written model that counts <see cref="ParametersChanged"/> calls and can fail on the n-th read of
/// <see cref="Parameters"/> (to break a save half-way). Only the members model files use are implemented.
/// </summary>
public sealed class ProbeModel : IRecurrentModel<ProbeModel, float>
{
    private readonly float[] _parameters = new float[Info.ParameterCount];
    private int _parameterReads;

    public static ModelInfo Info { get; } = new(CellKind.Rnn, 2, 3, 1, 0, false, Precision.Single, RnnActivation.Tanh,
        new ParameterTensor[]
        {
            new("weight_ih_l0", 0, 3, 2),
            new("weight_hh_l0", 6, 3, 3),
            new("bias_ih_l0", 15, 3),
            new("bias_hh_l0", 18, 3),
        });

    public static ProbeModel Create() => new();

    /// <summary>When positive, the read of <see cref="Parameters"/> with this number (1-based) throws.</summary>
    public int FailOnParameterRead { get; set; }

    public int ParametersChangedCalls { get; private set; }

    public Span<float> Parameters
    {
        get
        {
            if (++_parameterReads == FailOnParameterRead)
                throw new IOException("simulated failure while saving");
            return _parameters;
        }
    }

    public Span<float> Gradients => throw new NotSupportedException();
    public void InitializeParameters(int seed) => ParameterInit.Uniform<float>(_parameters, 0.5, seed);
    public void ParametersChanged() => ParametersChangedCalls++;
    public RecurrentState<float> CreateState() => throw new NotSupportedException();
    public RecurrentTape CreateTape(int maxSteps) => throw new NotSupportedException();
    public RecurrentTape CreateTape(int maxSteps, int lanes) => throw new NotSupportedException();
    public void Forward(ReadOnlySpan<float> inputs, ReadOnlySpan<RecurrentState<float>> states, RecurrentTape tape, Span<float> outputs) => throw new NotSupportedException();
    public void Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<RecurrentState<float>> states, RecurrentTape tape, Span<float> outputs) => throw new NotSupportedException();
    public void Step(ReadOnlySpan<float> input, RecurrentState<float> state, Span<float> output) => throw new NotSupportedException();
    public void Step(int token, RecurrentState<float> state, Span<float> output) => throw new NotSupportedException();
    public void Forward(ReadOnlySpan<float> inputs, RecurrentState<float> state, RecurrentTape tape, Span<float> outputs) => throw new NotSupportedException();
    public void Forward(ReadOnlySpan<int> tokens, RecurrentState<float> state, RecurrentTape tape, Span<float> outputs) => throw new NotSupportedException();
    public void Backward(RecurrentTape tape, ReadOnlySpan<float> outputGradients, Span<float> inputGradients, RecurrentState<float>? stateGradient) => throw new NotSupportedException();
}

/// <summary>Helpers shared by the model-file tests.</summary>
internal static class IoTestUtil
{
    /// <summary>The raw bytes of a span: "bit-identical" comparisons (NaN-safe, −0 vs +0 distinguished).</summary>
    public static byte[] Bits<T>(ReadOnlySpan<T> values) where T : unmanaged => MemoryMarshal.AsBytes(values).ToArray();

    public static byte[] Bits<T>(Span<T> values) where T : unmanaged => Bits((ReadOnlySpan<T>)values);

    public static byte[] Bits<T>(T[] values) where T : unmanaged => Bits((ReadOnlySpan<T>)values);
}

/// <summary>A folder under the temp directory, deleted at the end of a test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rnngen-io-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string[] Entries() => Directory.GetFileSystemEntries(Path).Select(System.IO.Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A stream that can only be read, forward (like a network stream or a pipe): its length is unknown to the reader.</summary>
internal abstract class ReadOnlyForwardStream : Stream
{
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
    public abstract override int Read(Span<byte> buffer);
}

/// <summary>A read-only stream of <c>data</c> that cannot seek, handing out a few bytes per read.</summary>
internal sealed class ForwardOnlyStream(byte[] data) : ReadOnlyForwardStream
{
    private int _position;

    public override int Read(Span<byte> buffer)
    {
        // Hand out at most 7 bytes per call: readers must loop.
        int n = Math.Min(Math.Min(buffer.Length, 7), data.Length - _position);
        data.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }
}
