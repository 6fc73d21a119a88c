using System.Numerics;
using System.Runtime.InteropServices;

namespace RnnGen.Tests.Fuzz;

/// <summary>
/// Runs one fuzzed call of the public API and judges it: it succeeds, or it throws an exception of the allowed families
/// with a message that names the argument; when it throws, every watched buffer keeps its bits.
/// </summary>
internal sealed class Probe
{
    private readonly List<(string Name, Func<byte[]> Read, byte[] Before)> _watched = new();

    /// <summary>The failures found so far, one line each (the call and what went wrong).</summary>
    public List<string> Failures { get; } = new();

    public int Calls { get; private set; }

    /// <summary>Watches a buffer: it must hold the same bits after a call that throws.</summary>
    public void Watch<T>(string name, Func<ReadOnlySpan<T>> read) where T : unmanaged
    {
        byte[] Bytes() => MemoryMarshal.AsBytes(read()).ToArray();
        _watched.Add((name, Bytes, Array.Empty<byte>()));
    }

    public void Watch(string name, Func<long> read) =>
        _watched.Add((name, () => BitConverter.GetBytes(read()), Array.Empty<byte>()));

    public void ClearWatches() => _watched.Clear();

    /// <summary>
    /// Runs <paramref name="action"/>, described as <paramref name="call"/>. On success <paramref name="check"/> (if any)
    /// returns null or what is wrong with the result. <paramref name="mayChangeOnThrow"/> accepts the documented throws after
    /// which the watched state may have changed (the trainer's non-finite parameters).
    /// </summary>
    public Exception? Run(string call, Action action, Func<string?>? check = null, Func<Exception, bool>? mayChangeOnThrow = null)
    {
        Calls++;
        for (int i = 0; i < _watched.Count; i++)
            _watched[i] = (_watched[i].Name, _watched[i].Read, _watched[i].Read());
        Exception? thrown = null;
        try
        {
            action();
        }
        catch (Exception e)
        {
            thrown = e;
        }

        if (thrown is null)
        {
            string? wrong = check?.Invoke();
            if (wrong is not null)
                Failures.Add($"{call}: succeeded with {wrong}");
            return null;
        }

        string? problem = Judge(thrown);
        if (problem is not null)
            Failures.Add($"{call}: {problem}: {thrown.GetType().Name}: {thrown.Message}");
        if (mayChangeOnThrow?.Invoke(thrown) != true)
        {
            foreach (var (name, read, before) in _watched)
            {
                if (!read().AsSpan().SequenceEqual(before))
                    Failures.Add($"{call}: threw {thrown.GetType().Name} ({thrown.Message}) after changing {name}");
            }
        }
        return thrown;
    }

    private static string? Judge(Exception e)
    {
        switch (e)
        {
            case ArgumentException a:
                if (string.IsNullOrEmpty(a.ParamName))
                    return "an ArgumentException without ParamName";
                if (a.Message.Length < 20 + a.ParamName.Length)
                    return "a message too short to say what is expected";
                return null;
            case InvalidOperationException or NonFiniteStepException or ModelFileException:
                return e.Message.Length < 20 ? "a message too short to say what is expected" : null;
            default:
                return $"a {e.GetType().Name} (not an ArgumentException, InvalidOperationException or documented exception)\n{e.StackTrace}";
        }
    }

    /// <summary>Fails the test with every failure found, if any.</summary>
    public void AssertClean()
    {
        Assert.True(Failures.Count == 0,
            $"{Failures.Count} of {Calls} fuzzed calls went wrong:\n" + string.Join("\n", Failures.Distinct().Take(40)));
    }

    /// <summary>Runs <paramref name="body"/> on another thread and fails if it has not finished after <paramref name="seconds"/>.</summary>
    public static void WithinSeconds(int seconds, Action body)
    {
        var task = Task.Run(body);
        Assert.True(task.Wait(TimeSpan.FromSeconds(seconds)), $"the fuzz test did not finish in {seconds} s (a hang?)");
        task.GetAwaiter().GetResult();
    }

    public static bool AllFinite<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (T v in values)
            if (!T.IsFinite(v)) return false;
        return true;
    }

    public static string Show<T>(T[]? values) => values is null ? "null" : values.Length <= 8
        ? "[" + string.Join(", ", values) + "]"
        : $"[{values.Length}: {string.Join(", ", values.Take(6))}, …]";
}
