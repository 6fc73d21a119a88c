namespace RnnGen.Oracle.Tests.Onnx;

/// <summary>
/// The models run through ONNX Runtime: every float model of Models.cs (the libtorch oracle's models). Not the double ones:
/// ORT's CPU provider (1.31) has no double LSTM/GRU ("does not support double yet") and no double RNN kernel.
/// </summary>
internal static class OnnxOracleModels
{
    public static readonly IReadOnlyList<OnnxOracleModel> All =
    [
        new OnnxOracleModel<Lstm_H1_L1_In1, float>(),
        new OnnxOracleModel<Lstm_H7_L1_In3, float>(),
        new OnnxOracleModel<Lstm_H13_L2_In5_Out3, float>(),
        new OnnxOracleModel<Lstm_H9_L3_In11_Out6, float>(),
        new OnnxOracleModel<Lstm_H65_L2_In37_Out7, float>(),
        new OnnxOracleModel<Lstm_H10_L2_Tokens17, float>(),

        new OnnxOracleModel<Gru_H1_L1_In1, float>(),
        new OnnxOracleModel<Gru_H5_L1_In3, float>(),
        new OnnxOracleModel<Gru_H13_L2_In5_Out3, float>(),
        new OnnxOracleModel<Gru_H9_L3_In11, float>(),
        new OnnxOracleModel<Gru_H65_L2_In37_Out7, float>(),
        new OnnxOracleModel<Gru_H10_L2_Tokens17, float>(),

        new OnnxOracleModel<RnnTanh_H1_L1_In1, float>(),
        new OnnxOracleModel<RnnTanh_H13_L2_In5_Out3, float>(),
        new OnnxOracleModel<RnnTanh_H9_L3_In11, float>(),
        new OnnxOracleModel<RnnTanh_H65_L1_In37_Out5, float>(),
        new OnnxOracleModel<RnnTanh_H10_L2_Tokens17, float>(),

        new OnnxOracleModel<RnnRelu_H7_L1_In3, float>(),
        new OnnxOracleModel<RnnRelu_H13_L2_In5_Out3, float>(),
        new OnnxOracleModel<RnnRelu_H9_L3_In11_Out6, float>(),
        new OnnxOracleModel<RnnRelu_H65_L2_In37, float>(),
        new OnnxOracleModel<RnnRelu_H10_L1_Tokens17, float>(),
    ];

    public static OnnxOracleModel Named(string name) =>
        All.SingleOrDefault(m => m.Name == name) ?? throw new ArgumentException($"No ONNX oracle model is called {name}.", nameof(name));
}
