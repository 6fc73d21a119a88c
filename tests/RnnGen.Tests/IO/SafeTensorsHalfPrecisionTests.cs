using static RnnGen.Tests.IO.HandMadeFile;
using static RnnGen.Tests.IO.IoTestUtil;

namespace RnnGen.Tests.IO;

/// <summary>
/// F16 and BF16 tensors (half-precision checkpoints) load into float and double models exactly. The file is made by
/// hand from bit patterns whose values the IEEE 754 half format and bfloat16 (the upper 16 bits of a float) define:
/// normal, subnormal, the largest finite values, signed zero.
/// </summary>
public class SafeTensorsHalfPrecisionTests
{
    // weight_ih [2,3] F16, weight_hh [2,2] BF16, bias_ih [2] F16, bias_hh [2] BF16
    private static readonly string HalfHeader = Header(
        Entry("weight_ih_l0", "F16", "[2,3]", 0, 12), Entry("weight_hh_l0", "BF16", "[2,2]", 12, 20),
        Entry("bias_ih_l0", "F16", "[2]", 20, 24), Entry("bias_hh_l0", "BF16", "[2]", 24, 28));

    private static byte[] Bits16(params ushort[] values)
    {
        var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream)) foreach (ushort v in values) w.Write(v);
        return stream.ToArray();
    }

    private static readonly byte[] HalfData = Concat(
        Bits16(0x3C00, 0xC000, 0x7BFF, 0x0001, 0x3555, 0x8000), // 1, −2, 65504 (largest half), 2⁻²⁴ (smallest subnormal), 0.333251953125, −0
        Bits16(0x3F80, 0xC000, 0x4049, 0x0001),                 // 1, −2, 3.140625, 2⁻¹³³ (a float subnormal)
        Bits16(0x3800, 0x4248),                                 // 0.5, 3.140625
        Bits16(0x7F7F, 0xBF00));                                // (2 − 2⁻⁷)·2¹²⁷ (largest bfloat16), −0.5

    // layout order: weight_ih, weight_hh, bias_ih, bias_hh
    private static readonly double[] Expected =
    [
        1, -2, 65504, Math.Pow(2, -24), 0.333251953125, -0.0,
        1, -2, 3.140625, Math.Pow(2, -133),
        0.5, 3.140625,
        (2 - Math.Pow(2, -7)) * Math.Pow(2, 127), -0.5,
    ];

    [Fact]
    public void HalfAndBFloat16Tensors_LoadExactly_IntoAFloatModel()
    {
        var model = SafeTensors.Load<IoTinyF, float>(new MemoryStream(Build(HalfHeader, HalfData)));
        Assert.Equal(Bits(Expected.Select(v => (float)v).ToArray()), Bits(model.Parameters)); // every value is a float: (float) is exact
    }

    [Fact]
    public void HalfAndBFloat16Tensors_LoadExactly_IntoADoubleModel()
    {
        var model = SafeTensors.Load<IoTinyD, double>(new MemoryStream(Build(HalfHeader, HalfData)));
        Assert.Equal(Bits(Expected), Bits(model.Parameters));
    }

    [Fact]
    public void WithoutPrecisionConversion_AHalfTensor_IsRefused_AndTheModelUnchanged()
    {
        var model = new IoTinyF();
        model.InitializeParameters(2);
        byte[] before = Bits(model.Parameters);
        var e = Assert.Throws<ModelFileException>(() => SafeTensors.Load(model, new MemoryStream(Build(HalfHeader, HalfData)),
            new SafeTensorsLoadOptions { AllowPrecisionConversion = false }));
        Assert.Contains("tensor 'weight_ih_l0' has dtype F16", e.Message);
        Assert.Equal(before, Bits(model.Parameters));
    }
}
