using System.Numerics;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>
/// <c>Forward</c> runs a window in chunks of rows (steps × lanes), layer by layer: a layer's input half of the gate sums for
/// every row of a chunk in one product, then the recurrent half step by step. Above the in-place size, <c>Step</c> runs the
/// products of one step of one lane of a chunk (in place on the state), so every lane of a chunked <c>Forward</c> must give
/// Step's outputs and final state bit for bit: for one chunk, several, a partial last one, and more lanes than a chunk's
/// rows (one step per chunk).
/// </summary>
public class ChunkTests
{
    [Theory]
    [InlineData(1, 150)] [InlineData(3, 50)] [InlineData(13, 12)] [InlineData(70, 2)] [InlineData(2, 7)]
    public void Lstm_DenseTwoLayersHead(int lanes, int steps) => LanesEqualStep<LstmFChunked, float>(lanes, steps);

    [Theory]
    [InlineData(1, 300)] [InlineData(13, 25)] [InlineData(200, 2)]
    public void Gru_TokensTwoLayersNoHead(int lanes, int steps) => LanesEqualStep<GruFChunked, float>(lanes, steps);

    [Theory]
    [InlineData(1, 600)] [InlineData(5, 70)]
    public void Rnn_DenseDouble(int lanes, int steps) => LanesEqualStep<RnnDChunked, double>(lanes, steps);

    private static void LanesEqualStep<TModel, T>(int lanes, int steps)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ModelInfo info = TModel.Info;
        int width = info.OutputWidth, inputSize = info.InputSize;
        var model = Harness.NewModel<TModel, T>(seed: 3, scale: 1.5);
        int[] tokens = Harness.RandomTokens(lanes * steps, inputSize, seed: 4);
        T[] inputs = Harness.Random<T>(lanes * steps * inputSize, seed: 5);
        var states = new RecurrentState<T>[lanes];
        var stepped = new RecurrentState<T>[lanes];
        for (int b = 0; b < lanes; b++)
        {
            states[b] = model.CreateState();
            Harness.Random<T>(states[b].Values.Length, seed: 10 + b, scale: 0.8).CopyTo(states[b].Values);
            stepped[b] = model.CreateState();
            states[b].CopyTo(stepped[b]);
        }
        var outputs = new T[lanes * steps * width];
        var tape = model.CreateTape(steps, lanes);
        if (info.Tokens) model.Forward(tokens, states, tape, outputs);
        else model.Forward(inputs, states, tape, outputs);

        var output = new T[width];
        for (int b = 0; b < lanes; b++)
            for (int t = 0; t < steps; t++)
            {
                int row = b * steps + t; // lane-major
                if (info.Tokens) model.Step(tokens[row], stepped[b], output);
                else model.Step(inputs.AsSpan(row * inputSize, inputSize), stepped[b], output);
                Assert.True(output.AsSpan().SequenceEqual(outputs.AsSpan(row * width, width)),
                    $"{typeof(TModel).Name}, {lanes} lanes × {steps} steps: lane {b}, step {t} differs from Step");
            }
        for (int b = 0; b < lanes; b++)
            Assert.True(stepped[b].Values.SequenceEqual(states[b].Values), $"{typeof(TModel).Name}: final state of lane {b} differs from Step's");
    }
}
