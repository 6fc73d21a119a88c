using RnnGen.Oracle.Tests;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnGen.Benchmarks.Torch;

/// <summary>Builds libtorch modules holding an RnnGen model's weights (copied by PyTorch state dict name).</summary>
internal static class TorchModels
{
    /// <summary>nn.LSTM or nn.GRU (float32, time-major) with <paramref name="parameters"/>; in evaluation mode with no parameter requiring grad unless <paramref name="trainable"/>.</summary>
    public static nn.Module Recurrent(ModelInfo info, ReadOnlySpan<float> parameters, bool trainable)
    {
        TorchRuntime.EnsureReady();
        nn.Module module = info.Cell switch
        {
            CellKind.Lstm => nn.LSTM(info.InputSize, info.HiddenSize, info.LayerCount),
            CellKind.Gru => nn.GRU(info.InputSize, info.HiddenSize, info.LayerCount),
            _ => throw new NotSupportedException($"No torch peer for {info.Cell}."),
        };
        Load(module, name => name, info, parameters, trainable);
        if (!trainable)
            module.eval();
        return module;
    }

    /// <summary>One nn.LSTMCell or nn.GRUCell per layer, layer k holding RnnGen's <c>*_l{k}</c> tensors.</summary>
    public static nn.Module[] Cells(ModelInfo info, ReadOnlySpan<float> parameters)
    {
        TorchRuntime.EnsureReady();
        var cells = new nn.Module[info.LayerCount];
        for (int k = 0; k < cells.Length; k++)
        {
            int input = k == 0 ? info.InputSize : info.HiddenSize;
            cells[k] = info.Cell switch
            {
                CellKind.Lstm => nn.LSTMCell(input, info.HiddenSize),
                CellKind.Gru => nn.GRUCell(input, info.HiddenSize),
                _ => throw new NotSupportedException($"No torch peer for {info.Cell}."),
            };
            int layer = k;
            Load(cells[k], name => $"{name}_l{layer}", info, parameters, trainable: false);
            cells[k].eval();
        }
        return cells;
    }

    /// <summary>Copies every torch parameter from the RnnGen tensor <paramref name="rnnGenName"/>(torch name), checking shapes.</summary>
    public static void Load(nn.Module module, Func<string, string> rnnGenName, ModelInfo info, ReadOnlySpan<float> parameters, bool trainable)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in module.named_parameters())
        {
            ParameterTensor slot = info.Find(rnnGenName(name))
                ?? throw new InvalidOperationException($"torch parameter {name} has no RnnGen tensor {rnnGenName(name)} in {info}.");
            long[] shape = [.. slot.Shape.Select(d => (long)d)];
            if (!shape.SequenceEqual(parameter.shape))
                throw new InvalidOperationException($"torch {name} is [{string.Join(", ", parameter.shape)}], RnnGen {slot.Name} is [{string.Join(", ", shape)}].");
            using Tensor source = tensor(slot.Slice(parameters).ToArray(), shape);
            parameter.copy_(source);
            parameter.requires_grad = trainable;
        }
    }
}
