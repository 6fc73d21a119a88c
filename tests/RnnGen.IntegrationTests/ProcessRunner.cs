using System.Diagnostics;
using System.Text;
using Xunit.Sdk;

namespace RnnGen.IntegrationTests;

/// <summary>What a finished child process printed and returned.</summary>
public sealed record ProcessResult(string CommandLine, string WorkingDirectory, int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed)
{
    /// <summary>The command, exit code, time and both output streams, for a failure message.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine($"`{CommandLine}` in {WorkingDirectory} exited with {ExitCode} after {Elapsed.TotalSeconds:F1} s.");
        text.AppendLine("--- stdout ---").AppendLine(Tail(StandardOutput));
        text.AppendLine("--- stderr ---").AppendLine(Tail(StandardError));
        return text.ToString();
    }

    /// <summary>Throws with <see cref="Describe"/> unless the exit code is 0.</summary>
    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0) throw new XunitException("A child process failed.\n" + Describe());
        return this;
    }

    // Build logs end with the errors; keep the end of very long ones.
    private static string Tail(string text, int max = 30_000) =>
        text.Length <= max ? text : "[… " + (text.Length - max) + " characters cut …]\n" + text[^max..];
}

/// <summary>Runs child processes with a timeout and captured output; runs the <c>dotnet</c> CLI in a clean environment.</summary>
public static class ProcessRunner
{
    /// <summary>Longest time one build, pack or publish may take before the test fails.</summary>
    public static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Longest time a built program may run.</summary>
    public static readonly TimeSpan ProgramTimeout = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Runs <c>dotnet <paramref name="arguments"/></c>. MSBuild nodes and the compiler server are not kept alive
    /// (they would outlive the test and hold its output pipes open); environment variables that the outer
    /// <c>dotnet test</c> set for its own MSBuild are removed, so the child resolves its SDK as a user's would.
    /// </summary>
    public static ProcessResult DotNet(string workingDirectory, params string[] arguments) =>
        DotNet(workingDirectory, new Dictionary<string, string>(), arguments);

    /// <summary>As <see cref="DotNet(string, string[])"/>, with <paramref name="variables"/> set in the child's environment.</summary>
    public static ProcessResult DotNet(string workingDirectory, IReadOnlyDictionary<string, string> variables, params string[] arguments)
    {
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            ["DOTNET_CLI_UI_LANGUAGE"] = "en",
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["UseSharedCompilation"] = "false",
        };
        foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) && !name.Equals("MSBUILDDISABLENODEREUSE", StringComparison.OrdinalIgnoreCase))
                environment[name] = null;
        }
        foreach (var (name, value) in variables) environment[name] = value;
        return Run(DotNetHost(), arguments, workingDirectory, environment, standardInput: null, BuildTimeout);
    }

    /// <summary>Runs a built program, optionally writing <paramref name="standardInput"/> to it.</summary>
    public static ProcessResult Program(string path, string[] arguments, string workingDirectory, string? standardInput = null) =>
        Run(path, arguments, workingDirectory, new Dictionary<string, string?>(), standardInput, ProgramTimeout);

    private static string DotNetHost()
    {
        // Set by the SDK for the processes it starts (the test host among them); else the dotnet on PATH.
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }

    private static ProcessResult Run(string fileName, string[] arguments, string workingDirectory,
        Dictionary<string, string?> environment, string? standardInput, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (name, value) in environment)
        {
            if (value is null) info.Environment.Remove(name);
            else info.Environment[name] = value;
        }
        string commandLine = string.Join(' ', new[] { Path.GetFileName(fileName) }.Concat(arguments.Select(Quote)));

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new XunitException($"Could not start `{commandLine}`.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            // Bytes straight to the pipe, so that nothing stays buffered in the writer if the program ends without
            // reading all of its input (one that rejects its arguments does): its exit code and output say why.
            try { process.StandardInput.BaseStream.Write(Encoding.UTF8.GetBytes(standardInput)); }
            catch (IOException) { }
            try { process.StandardInput.Close(); }
            catch (IOException) { }
        }

        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10));
            var partial = new ProcessResult(commandLine, workingDirectory, -1,
                stdout.IsCompletedSuccessfully ? stdout.Result : "", stderr.IsCompletedSuccessfully ? stderr.Result : "", clock.Elapsed);
            throw new XunitException($"Timed out after {timeout.TotalMinutes:F0} min and was killed.\n" + partial.Describe());
        }
        if (!Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(30)))
            throw new XunitException($"`{commandLine}` exited with {process.ExitCode}, but something it started still holds its output open.");
        return new ProcessResult(commandLine, workingDirectory, process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c == '"') ? argument : '"' + argument.Replace("\"", "\\\"") + '"';
}
