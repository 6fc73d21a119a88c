namespace RnnGen.Oracle.Tests;

/// <summary>The registry of models checked against libtorch (declared in Models.cs).</summary>
internal static class OracleModels
{
    public static readonly IReadOnlyList<OracleModel> All =
    [
        new OracleModel<Lstm_H1_L1_In1, float>(),
        new OracleModel<Lstm_H7_L1_In3, float>(),
        new OracleModel<Lstm_H13_L2_In5_Out3, float>(),
        new OracleModel<Lstm_H9_L3_In11_Out6, float>(),
        new OracleModel<Lstm_H65_L2_In37_Out7, float>(),
        new OracleModel<Lstm_H10_L2_Tokens17, float>(),

        new OracleModel<Gru_H1_L1_In1, float>(),
        new OracleModel<Gru_H5_L1_In3, float>(),
        new OracleModel<Gru_H13_L2_In5_Out3, float>(),
        new OracleModel<Gru_H9_L3_In11, float>(),
        new OracleModel<Gru_H65_L2_In37_Out7, float>(),
        new OracleModel<Gru_H10_L2_Tokens17, float>(),

        new OracleModel<RnnTanh_H1_L1_In1, float>(),
        new OracleModel<RnnTanh_H13_L2_In5_Out3, float>(),
        new OracleModel<RnnTanh_H9_L3_In11, float>(),
        new OracleModel<RnnTanh_H65_L1_In37_Out5, float>(),
        new OracleModel<RnnTanh_H10_L2_Tokens17, float>(),

        new OracleModel<RnnRelu_H7_L1_In3, float>(),
        new OracleModel<RnnRelu_H13_L2_In5_Out3, float>(),
        new OracleModel<RnnRelu_H9_L3_In11_Out6, float>(),
        new OracleModel<RnnRelu_H65_L2_In37, float>(),
        new OracleModel<RnnRelu_H10_L1_Tokens17, float>(),

        new OracleModel<LstmD_H9_L3_In11_Out6, double>(),
        new OracleModel<LstmD_H10_L2_Tokens17, double>(),
        new OracleModel<GruD_H13_L2_In5_Out3, double>(),
        new OracleModel<RnnTanhD_H9_L3_In11_Out6, double>(),
        new OracleModel<RnnReluD_H13_L2_In5, double>(),
    ];

    public static OracleModel Named(string name) =>
        All.SingleOrDefault(m => m.Name == name) ?? throw new ArgumentException($"No oracle model is called {name}.", nameof(name));
}
