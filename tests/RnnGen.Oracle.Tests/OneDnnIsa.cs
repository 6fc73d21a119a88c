using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RnnGen.Oracle.Tests;

/// <summary>
/// Keeps libtorch's oneDNN to AVX2 in the test process (README.md, "oneDNN's AVX-512 LSTM"): on a Zen 5 with AVX-512
/// (2026-12-01) oneDNN's AVX-512 LSTM, which a float <c>nn.LSTM</c> without grad runs, was wrong by up to 0.13 for hidden
/// sizes not a multiple of 32; its AVX2 kernels are right. <c>SmokeTests.LibTorchFloatLstm_AgreesWithItsDoublePath</c>
/// checks the reference itself. (The benchmarks do not pin it: they time libtorch as it runs, and mark a row whose results
/// disagree.)
/// </summary>
internal static class OneDnnIsa
{
    /// <summary>
    /// Sets <c>ONEDNN_MAX_CPU_ISA=AVX2</c> in the process's native environment unless it is set already. A module initializer
    /// runs as the test assembly loads, before anything can load libtorch; oneDNN reads the variable once, at its first use.
    /// The native environment, since on Unix <c>Environment.SetEnvironmentVariable</c> changes only .NET's own copy.
    /// </summary>
    [ModuleInitializer]
    internal static void KeepToAvx2()
    {
        if (OperatingSystem.IsLinux() && setenv("ONEDNN_MAX_CPU_ISA", "AVX2", overwrite: 0) != 0)
            throw new InvalidOperationException($"setenv(ONEDNN_MAX_CPU_ISA) failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    [DllImport("libc.so.6", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true, SetLastError = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
