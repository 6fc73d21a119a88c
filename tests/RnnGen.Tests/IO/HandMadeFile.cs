using System.Text;

namespace RnnGen.Tests.IO;

/// <summary>
/// Builds safetensors files byte by byte with <see cref="BinaryWriter"/> (always little-endian), so the
/// tests check the format independently of RnnGen's writer.
/// </summary>
internal static class HandMadeFile
{
    /// <summary>One header entry: <c>"name":{"dtype":..,"shape":..,"data_offsets":[b,e]}</c>.</summary>
    public static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    public static string Header(params string[] entries) => "{" + string.Join(",", entries) + "}";

    public static byte[] Build(string headerJson, byte[] data, ulong? headerLength = null) =>
        Build(Encoding.UTF8.GetBytes(headerJson), data, headerLength);

    public static byte[] Build(byte[] header, byte[] data, ulong? headerLength = null)
    {
        var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write(headerLength ?? (ulong)header.Length);
            w.Write(header);
            w.Write(data);
        }
        return stream.ToArray();
    }

    public static byte[] F32(params float[] values)
    {
        var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream)) foreach (float v in values) w.Write(v);
        return stream.ToArray();
    }

    public static byte[] F64(params double[] values)
    {
        var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream)) foreach (double v in values) w.Write(v);
        return stream.ToArray();
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    // ------------------------------------------------------------------ the reference file for IoTinyF / IoTinyD

    // Data order differs from both the header's key order and the model's layout order, so a reader must
    // use data_offsets: bias_hh_l0 [0, 8), weight_ih_l0 [8, 32), bias_ih_l0 [32, 40), weight_hh_l0 [40, 56).
    public static readonly string WeightHh = Entry("weight_hh_l0", "F32", "[2,2]", 40, 56);
    public static readonly string BiasHh = Entry("bias_hh_l0", "F32", "[2]", 0, 8);
    public static readonly string WeightIh = Entry("weight_ih_l0", "F32", "[2,3]", 8, 32);
    public static readonly string BiasIh = Entry("bias_ih_l0", "F32", "[2]", 32, 40);

    public static readonly string TinyHeader =
        Header("\"__metadata__\":{\"note\":\"hand made\"}", WeightHh, BiasHh, WeightIh, BiasIh);

    public static byte[] TinyBiasHh => F32(100.5f, -0f);
    public static byte[] TinyWeightIh => F32(0.5f, 1f, 1.5f, 2f, 2.5f, 3f);
    public static byte[] TinyBiasIh => F32(-1f, -2f);
    public static byte[] TinyWeightHh => F32(2.5f, 2.75f, 3f, 3.25f);

    public static byte[] TinyData => Concat(TinyBiasHh, TinyWeightIh, TinyBiasIh, TinyWeightHh);

    /// <summary>The model's Parameters after loading the reference file: layout order weight_ih, weight_hh, bias_ih, bias_hh.</summary>
    public static readonly float[] TinyParameters =
        [0.5f, 1f, 1.5f, 2f, 2.5f, 3f, /* weight_hh */ 2.5f, 2.75f, 3f, 3.25f, /* bias_ih */ -1f, -2f, /* bias_hh */ 100.5f, -0f];
}
