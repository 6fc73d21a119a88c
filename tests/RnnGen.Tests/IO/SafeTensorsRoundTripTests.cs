using System.Numerics;
using RnnGen.Tests.Models;
using static RnnGen.Tests.IO.IoTestUtil;

namespace RnnGen.Tests.IO;

/// <summary>Save then load: identical parameters (bit for bit) and identical outputs, for every cell kind and precision.</summary>
public class SafeTensorsRoundTripTests
{
    [Fact] public void LstmFloat() => RoundTrip<LstmF3x5, float>();
    [Fact] public void LstmDouble() => RoundTrip<LstmD3x5, double>();
    [Fact] public void LstmFloatWithHead() => RoundTrip<LstmF2x6Head, float>();
    [Fact] public void LstmDoubleWithHead() => RoundTrip<LstmD2x6Head, double>();
    [Fact] public void LstmFloatTokens() => RoundTrip<LstmFTokens, float>();
    [Fact] public void LstmDoubleTokens() => RoundTrip<LstmDTokens, double>();
    [Fact] public void GruFloatWithHead() => RoundTrip<IoGruF2x4Head, float>();
    [Fact] public void GruDouble() => RoundTrip<GruD3x5, double>();
    [Fact] public void RnnTanhFloat() => RoundTrip<IoRnnTanhF2x4, float>();
    [Fact] public void RnnTanhDouble() => RoundTrip<RnnTanhD3x5, double>();
    [Fact] public void RnnReluDoubleWithHead() => RoundTrip<RnnReluD2x5, double>();

    private static void RoundTrip<TModel, T>()
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var original = TModel.Create();
        original.InitializeParameters(seed: 1234);
        using var folder = new TempFolder();
        string path = folder.File("model.safetensors");

        SafeTensors.Save(original, path);
        var fromFile = SafeTensors.Load<TModel, T>(path);

        var stream = new MemoryStream();
        SafeTensors.Save(original, stream);
        stream.Position = 0;
        var fromStream = TModel.Create();
        SafeTensors.Load(fromStream, stream);

        Assert.Equal(Bits(original.Parameters), Bits(fromFile.Parameters));
        Assert.Equal(Bits(original.Parameters), Bits(fromStream.Parameters));
        Assert.Equal(File.ReadAllBytes(path), stream.ToArray());
        Assert.Equal(new[] { "model.safetensors" }, folder.Entries());

        var expected = Run(original);
        Assert.Contains(expected, v => v != T.Zero);
        Assert.Equal(Bits(expected), Bits(Run(fromFile)));
        Assert.Equal(Bits(expected), Bits(Run(fromStream)));
    }

    /// <summary>Six steps from a zero state; returns every output.</summary>
    private static T[] Run<TModel, T>(IRecurrentModel<TModel, T> model)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var info = TModel.Info;
        const int steps = 6;
        var outputs = new T[steps * info.OutputWidth];
        var state = model.CreateState();
        var input = new T[info.InputSize];
        for (int t = 0; t < steps; t++)
        {
            var output = outputs.AsSpan(t * info.OutputWidth, info.OutputWidth);
            if (info.Tokens)
            {
                model.Step((3 * t + 1) % info.InputSize, state, output);
            }
            else
            {
                for (int i = 0; i < input.Length; i++) input[i] = T.CreateTruncating(Math.Sin(0.7 * t + 1.3 * i));
                model.Step(input, state, output);
            }
        }
        return outputs;
    }

    [Fact]
    public void DoubleFileLoadsIntoFloatModelRoundedToNearest()
    {
        var source = new LstmD3x5();
        source.InitializeParameters(seed: 5);
        var stream = new MemoryStream();
        SafeTensors.Save(source, stream);
        stream.Position = 0;

        var target = new LstmF3x5();
        SafeTensors.Load(target, stream);

        for (int i = 0; i < LstmD3x5.ParameterCount; i++)
            Assert.Equal((float)source.Parameters[i], target.Parameters[i]);
    }

    [Fact]
    public void FloatFileLoadsIntoDoubleModelExactly()
    {
        var source = new LstmF3x5();
        source.InitializeParameters(seed: 5);
        var stream = new MemoryStream();
        SafeTensors.Save(source, stream);
        stream.Position = 0;

        var target = new LstmD3x5();
        SafeTensors.Load(target, stream);

        for (int i = 0; i < LstmF3x5.ParameterCount; i++)
            Assert.Equal((double)source.Parameters[i], target.Parameters[i]);
    }

    [Fact]
    public void SavingReplacesAnExistingFile()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.safetensors");
        var first = new IoTinyF();
        first.InitializeParameters(1);
        SafeTensors.Save(first, path);
        var second = new IoTinyF();
        second.InitializeParameters(2);
        SafeTensors.Save(second, path);

        var loaded = SafeTensors.Load<IoTinyF, float>(path);
        Assert.Equal(Bits(second.Parameters), Bits(loaded.Parameters));
        Assert.NotEqual(Bits(first.Parameters), Bits(loaded.Parameters));
        Assert.Equal(new[] { "m.safetensors" }, folder.Entries());
    }

    [Fact]
    public void UserMetadataRoundTripsThroughReadHeader()
    {
        var model = new IoTinyF();
        var vocabulary = "[\"a\",\"\\\"\",\"é\",\"\\n\",\"日\",\"<\"]"; // a JSON string, as a char-rnn sample stores it
        var stream = new MemoryStream();
        SafeTensors.Save(model, stream, new Dictionary<string, string> { ["charrnn.vocab"] = vocabulary, ["empty"] = "" });
        stream.Position = 0;

        var header = SafeTensors.ReadHeader(stream);

        Assert.Equal(vocabulary, header.Metadata["charrnn.vocab"]);
        Assert.Equal("", header.Metadata["empty"]);
        Assert.Equal("rnn", header.Metadata[SafeTensorsMetadataKeys.Cell]);
    }

    [Fact]
    public void LoadCallsParametersChangedOnceAndAFailedLoadNever()
    {
        var source = new ProbeModel();
        source.InitializeParameters(3);
        var stream = new MemoryStream();
        SafeTensors.Save(source, stream);
        byte[] file = stream.ToArray();

        var target = new ProbeModel();
        SafeTensors.Load(target, new MemoryStream(file));
        Assert.Equal(1, target.ParametersChangedCalls);
        Assert.Equal(Bits(source.Parameters), Bits(target.Parameters));

        var other = new ProbeModel();
        Assert.Throws<ModelFileException>(() => SafeTensors.Load(other, new MemoryStream(file[..^1])));
        Assert.Equal(0, other.ParametersChangedCalls);
    }
}
