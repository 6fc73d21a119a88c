using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using RnnGen.Kernels;

namespace RnnGen.Benchmarks.Streaming;

/// <summary>
/// The floor of a batch-1 step: the time to read every weight a step must read once (<see cref="StreamedBy"/>), with the widest vectors the
/// machine accelerates (Vector512 on AVX-512, else <see cref="Vector{T}"/>), eight independent accumulators so that
/// neither add latency nor a dependency chain limits it, from a 64-byte-aligned copy of the weights. A step must at
/// least read every weight, so <c>efficiency = floor time / step time</c> is at most about 1. The copy's pages are
/// chosen as a model's streamed weights are (<see cref="Placement"/>: the fastest of up to 24 placements, for weights of
/// 256 KB to 4 MB), so the floor is the best read of that many bytes, not one draw of the operating system's placement.
/// </summary>
internal sealed unsafe class WeightFloor : IStreamedWeights, IDisposable
{
    private const int Accumulators = 8;
    private float[] _array; // pinned
    private int _start;     // the 64-byte-aligned start in _array
    private float* _weights;
    private readonly int _count;

    /// <summary>
    /// What any step must read of a model's parameters: every weight matrix and the head, and one bias per layer — PyTorch's
    /// two (<c>bias_ih</c> and <c>bias_hh</c>) are summed, as RnnGen's packed copies and any implementation can fold them —
    /// except a GRU's <c>b_hn</c>, which the reset gate multiplies (<c>r ⊙ (W_hn·h + b_hn)</c>) and so stays apart.
    /// </summary>
    public static float[] StreamedBy(ModelInfo info, ReadOnlySpan<float> parameters)
    {
        var streamed = new List<float>(parameters.Length);
        foreach (ParameterTensor tensor in info.Layout)
        {
            if (tensor.Name.StartsWith("bias_hh_l", StringComparison.Ordinal)) continue; // summed into bias_ih below
            ReadOnlySpan<float> values = tensor.Slice(parameters);
            if (tensor.Name.StartsWith("bias_ih_l", StringComparison.Ordinal))
            {
                ReadOnlySpan<float> other = info.Find("bias_hh_l" + tensor.Name["bias_ih_l".Length..])!.Slice(parameters);
                int folded = info.Cell == CellKind.Gru ? 2 * info.HiddenSize : values.Length; // r, z folded; n apart
                for (int i = 0; i < values.Length; i++) streamed.Add(i < folded ? values[i] + other[i] : values[i]);
                for (int i = folded; i < values.Length; i++) streamed.Add(other[i]);
            }
            else
                foreach (float v in values) streamed.Add(v);
        }
        return [.. streamed];
    }

    public WeightFloor(ReadOnlySpan<float> weights)
    {
        _count = weights.Length;
        _array = Simd.AllocateAligned<float>(_count, out _start);
        _weights = (float*)Unsafe.AsPointer(ref _array[_start]);
        Placement.Choose(this);
        weights.CopyTo(new Span<float>(_weights, _count));
    }

    int IStreamedWeights.StreamedBytes => _count * sizeof(float);

    WeightStorage IStreamedWeights.Storage => new(_array, _start * sizeof(float));

    WeightStorage IStreamedWeights.Allocate() => new(Simd.AllocateAligned<float>(_count, out int start), start * sizeof(float));

    void IStreamedWeights.Use(WeightStorage storage)
    {
        _array = (float[])storage.Array;
        _start = storage.ByteOffset / sizeof(float);
        _weights = (float*)Unsafe.AsPointer(ref _array[_start]);
    }

    /// <summary>Width in bits of the vectors <see cref="Read"/> uses on this machine.</summary>
    public static int VectorBits => Vector512.IsHardwareAccelerated ? 512 : Vector<float>.Count * 32;

    /// <summary>Reads every weight once; returns their sum (consumed by the benchmark).</summary>
    public float Read() => Vector512.IsHardwareAccelerated ? Read512() : ReadVector();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float Read512()
    {
        float* p = _weights;
        int n = _count, i = 0;
        const int Width = 16; // Vector512<float>.Count
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (; i <= n - Accumulators * Width; i += Accumulators * Width)
        {
            a0 += Vector512.LoadAligned(p + i);
            a1 += Vector512.LoadAligned(p + i + Width);
            a2 += Vector512.LoadAligned(p + i + 2 * Width);
            a3 += Vector512.LoadAligned(p + i + 3 * Width);
            a4 += Vector512.LoadAligned(p + i + 4 * Width);
            a5 += Vector512.LoadAligned(p + i + 5 * Width);
            a6 += Vector512.LoadAligned(p + i + 6 * Width);
            a7 += Vector512.LoadAligned(p + i + 7 * Width);
        }
        for (; i <= n - Width; i += Width)
            a0 += Vector512.Load(p + i);
        float sum = Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
        for (; i < n; i++)
            sum += p[i];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float ReadVector()
    {
        float* p = _weights;
        int n = _count, i = 0, width = Vector<float>.Count;
        Vector<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (; i <= n - Accumulators * width; i += Accumulators * width)
        {
            a0 += Vector.Load(p + i);
            a1 += Vector.Load(p + i + width);
            a2 += Vector.Load(p + i + 2 * width);
            a3 += Vector.Load(p + i + 3 * width);
            a4 += Vector.Load(p + i + 4 * width);
            a5 += Vector.Load(p + i + 5 * width);
            a6 += Vector.Load(p + i + 6 * width);
            a7 += Vector.Load(p + i + 7 * width);
        }
        for (; i <= n - width; i += width)
            a0 += Vector.Load(p + i);
        float sum = Vector.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)));
        for (; i < n; i++)
            sum += p[i];
        return sum;
    }

    public void Dispose() => _weights = null; // the pinned array goes with the object
}
