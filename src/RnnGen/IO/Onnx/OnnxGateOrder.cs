namespace RnnGen;

/// <summary>
/// The gate blocks of PyTorch's layout and of ONNX's recurrent operators, and the block permutation between them.
/// PyTorch stacks LSTM rows as i, f, g, o and GRU rows as r, z, n; ONNX's <c>LSTM</c> wants i, o, f, c (c = PyTorch's g)
/// and its <c>GRU</c> wants z, r, h (h = PyTorch's n). A vanilla RNN has one block.
/// </summary>
internal static class OnnxGateOrder
{
    private static readonly int[] Lstm = [0, 3, 1, 2]; // ONNX i, o, f, c  ←  PyTorch i(0), o(3), f(1), g(2)
    private static readonly int[] Gru = [1, 0, 2];     // ONNX z, r, h     ←  PyTorch z(1), r(0), n(2)
    private static readonly int[] Rnn = [0];

    /// <summary>For each ONNX gate block j, the index of the PyTorch gate block that goes there.</summary>
    public static ReadOnlySpan<int> TorchBlockOfOnnxBlock(CellKind cell) => cell switch
    {
        CellKind.Lstm => Lstm,
        CellKind.Gru => Gru,
        _ => Rnn,
    };

    /// <summary>ONNX's gate names in ONNX order, for documentation and messages.</summary>
    public static string OnnxGateNames(CellKind cell) => cell switch
    {
        CellKind.Lstm => "i, o, f, c",
        CellKind.Gru => "z, r, h",
        _ => "one gate",
    };

    /// <summary>
    /// Copies a gate-stacked tensor (G equal blocks along its first axis) from PyTorch's block order into ONNX's.
    /// </summary>
    public static void TorchToOnnx<T>(CellKind cell, ReadOnlySpan<T> torch, Span<T> onnx)
    {
        ReadOnlySpan<int> order = TorchBlockOfOnnxBlock(cell);
        int block = BlockLength(torch.Length, onnx.Length, order.Length);
        for (int j = 0; j < order.Length; j++)
            torch.Slice(order[j] * block, block).CopyTo(onnx.Slice(j * block, block));
    }

    /// <summary>The inverse of <see cref="TorchToOnnx{T}"/>: from ONNX's block order back into PyTorch's.</summary>
    public static void OnnxToTorch<T>(CellKind cell, ReadOnlySpan<T> onnx, Span<T> torch)
    {
        ReadOnlySpan<int> order = TorchBlockOfOnnxBlock(cell);
        int block = BlockLength(onnx.Length, torch.Length, order.Length);
        for (int j = 0; j < order.Length; j++)
            onnx.Slice(j * block, block).CopyTo(torch.Slice(order[j] * block, block));
    }

    private static int BlockLength(int source, int destination, int gates)
    {
        if (source != destination || source % gates != 0)
            throw new ArgumentException($"Gate permutation of {source} values into {destination} with {gates} gates.");
        return source / gates;
    }
}
