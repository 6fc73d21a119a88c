using System.Runtime.InteropServices;
using TorchSharp;

namespace RnnGen.Oracle.Tests;

/// <summary>
/// Gets libtorch ready for the oracle tests: on Linux, first makes sure the symbol
/// <c>std::ios_base_library_init()</c> (version GLIBCXX_3.4.32) can be found, then initialises TorchSharp's CPU backend
/// with one thread (the machine is small and shared; one thread also keeps libtorch's sums in a fixed order).
/// See README.md, "The GLIBCXX_3.4.32 workaround".
/// </summary>
internal static class TorchRuntime
{
    /// <summary>The shim library the build compiles from Native/ios_base_library_init_shim.cpp into the output folder.</summary>
    public const string ShimFileName = "libios_base_library_init_shim.so";

    private const string MissingSymbol = "_ZSt21ios_base_library_initv"; // std::ios_base_library_init()
    private const string MissingVersion = "GLIBCXX_3.4.32";

    private static readonly Lazy<string> s_ready = new(Initialize, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Idempotent; call before the first torch call. Returns what was done, for the test output.</summary>
    public static string EnsureReady() => s_ready.Value;

    private static string Initialize()
    {
        string glibcxx = OperatingSystem.IsLinux() ? LoadShimIfNeeded() : "not Linux: no GLIBCXX shim needed";
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(
                "TorchSharp could not load libtorch. On Debian 12 and other systems whose libstdc++ is older than GCC 13, " +
                "the project's build must have marked libLibTorchSharp.so's need of GLIBCXX_3.4.32 weak " +
                "(target TorchSharpWeakenGlibcxxNeed in tests/TorchSharp.targets) and copied " + ShimFileName + " next to the assembly " +
                "(target TorchSharpCompileShim): rebuild the project and read tests/RnnGen.Oracle.Tests/README.md. " +
                $"GLIBCXX check: {glibcxx}. Cause: {e.Message}", e);
        }
        torch.set_num_threads(1);
        return $"{glibcxx}; libtorch CPU backend initialised, 1 thread";
    }

    /// <summary>
    /// Loads the shim with RTLD_GLOBAL when the process's libstdc++ does not define the symbol at the version
    /// libLibTorchSharp.so was linked against; once loaded globally, its definition serves any later lookup.
    /// </summary>
    private static string LoadShimIfNeeded()
    {
        nint libstdcxx = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_GLOBAL);
        if (libstdcxx != 0 && dlvsym(libstdcxx, MissingSymbol, MissingVersion) != 0)
            return $"libstdc++ provides {MissingVersion}: shim not needed";

        string shim = Path.Combine(AppContext.BaseDirectory, ShimFileName);
        if (!File.Exists(shim))
            throw new InvalidOperationException(
                $"libstdc++ lacks {MissingVersion} and {shim} does not exist: build the project with its own project file, " +
                "which imports tests/TorchSharp.targets (target TorchSharpCompileShim needs g++); see tests/RnnGen.Oracle.Tests/README.md.");
        if (dlopen(shim, RTLD_NOW | RTLD_GLOBAL) == 0)
            throw new InvalidOperationException($"dlopen({shim}) failed: {Marshal.PtrToStringUTF8(dlerror())}");
        return $"libstdc++ lacks {MissingVersion}: loaded {ShimFileName} with RTLD_GLOBAL";
    }

    private const int RTLD_NOW = 0x2;
    private const int RTLD_GLOBAL = 0x100;

    // libdl.so.2 exports these on every glibc (since 2.34 they live in libc.so.6 and libdl.so.2 forwards to them).
    [DllImport("libdl.so.2", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern nint dlopen(string fileName, int flags);

    [DllImport("libdl.so.2", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern nint dlvsym(nint handle, string symbol, string version);

    [DllImport("libdl.so.2")]
    private static extern nint dlerror();
}
