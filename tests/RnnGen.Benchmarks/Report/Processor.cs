using System.Globalization;

namespace RnnGen.Benchmarks.Report;

/// <summary>
/// The processor as Linux describes it: vendor, family and model (with AMD's microarchitecture name where the family says
/// it), AVX-512, and each cache's size and associativity. BenchmarkDotNet prints only the brand string ("AMD EPYC"), and a
/// shared VM of one name has run on different microarchitectures (Zen 5 and Zen 4 on 2026-11-30: L2 bandwidth and the
/// 512-bit FMA rate halve from one to the other, and with them every memory- or compute-bound row).
/// </summary>
internal static class Processor
{
    /// <summary>One line, e.g. "AuthenticAMD family 25 model 17 stepping 1 (AMD Zen 4), AVX-512; L1d 32 KB 8-way, …"; null off Linux.</summary>
    public static string? Describe()
    {
        if (!File.Exists("/proc/cpuinfo")) return null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.Length == 0) break; // the first processor's block
            int colon = line.IndexOf(':');
            if (colon > 0) fields.TryAdd(line[..colon].Trim(), line[(colon + 1)..].Trim());
        }
        string Field(string name) => fields.GetValueOrDefault(name, "?");
        string text = $"{Field("vendor_id")} family {Field("cpu family")} model {Field("model")} stepping {Field("stepping")}";
        if (Microarchitecture(Field("vendor_id"), Field("cpu family"), Field("model")) is { } name) text += $" ({name})";
        if (Field("flags").Split(' ').Contains("avx512f")) text += ", AVX-512";
        string caches = string.Join(", ", Caches());
        return caches.Length > 0 ? $"{text}; {caches}" : text;
    }

    // AMD's families by their models (AMD's published family/model tables); other vendors by number only
    private static string? Microarchitecture(string vendor, string family, string model)
    {
        if (vendor != "AuthenticAMD" || !int.TryParse(family, out int f) || !int.TryParse(model, out int m)) return null;
        return f switch
        {
            0x17 => "AMD Zen, Zen+ or Zen 2",
            0x19 => m is >= 0x10 and <= 0x1F or >= 0x60 and <= 0x7F or >= 0xA0 and <= 0xAF ? "AMD Zen 4" : "AMD Zen 3",
            0x1A => "AMD Zen 5",
            _ => null,
        };
    }

    // /sys/devices/system/cpu/cpu0/cache/index*: "L1d 32 KB 8-way" per cache of the first core (L3: shared)
    private static IEnumerable<string> Caches()
    {
        const string root = "/sys/devices/system/cpu/cpu0/cache";
        if (!Directory.Exists(root)) yield break;
        foreach (string index in Directory.GetDirectories(root, "index*").Order(StringComparer.Ordinal))
        {
            string Read(string name) => File.Exists(Path.Combine(index, name)) ? File.ReadAllText(Path.Combine(index, name)).Trim() : "";
            string type = Read("type"), level = Read("level");
            if (type == "Instruction") continue;
            string kind = $"L{level}{(type == "Data" ? "d" : "")}";
            string size = Read("size").Replace("K", " KB", StringComparison.Ordinal);
            if (size.EndsWith(" KB", StringComparison.Ordinal) && int.TryParse(size[..^3], NumberStyles.None, CultureInfo.InvariantCulture, out int kb) && kb >= 1024 && kb % 1024 == 0)
                size = $"{kb / 1024} MB";
            string ways = Read("ways_of_associativity");
            yield return $"{kind} {size}{(ways.Length > 0 ? $" {ways}-way" : "")}";
        }
    }
}
