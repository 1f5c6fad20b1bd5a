using System.Diagnostics;
using System.Text.RegularExpressions;
using FactoryMcp.Bench.Processes;

namespace FactoryMcp.Bench.Http;

/// <summary>A `factory serve --http` process on a free loopback port (read from the line it prints once listening).</summary>
internal sealed partial class HttpServer : IAsyncDisposable
{
    private readonly Process process;
    private readonly List<string> stderr = [];
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HttpServer(Process process) => this.process = process;

    public Uri Endpoint { get; private set; } = null!;
    public int ProcessId => process.Id;
    public IReadOnlyList<string> Stderr
    {
        get
        {
            lock (stderr)
                return stderr.ToList();
        }
    }

    public static async Task<HttpServer> StartAsync(ServerCommand command)
    {
        var info = new ProcessStartInfo(command.FileName)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in command.Arguments)
            info.ArgumentList.Add(arg);
        foreach (var (key, value) in command.Environment)
        {
            if (value is null)
                info.Environment.Remove(key);
            else
                info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new HttpServer(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
                return;
            lock (server.stderr)
                server.stderr.Add(line);
            if (Serving().Match(line) is { Success: true } m)
                server.listening.TrySetResult(new Uri(m.Groups[1].Value));
        };
        process.OutputDataReceived += (_, _) => { };
        process.Exited += (_, _) =>
            server.listening.TrySetException(
                new InvalidOperationException(
                    $"factory serve --http exited ({process.ExitCode}) before listening:\n{string.Join('\n', server.Stderr)}"
                )
            );
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        server.Endpoint = await server.listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return server;
    }

    public ProcessMemory Memory() => ProcessMemory.OfTree(process.Id);

    /// <summary>SIGTERM, as a service manager stops it; waits for the drain.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            using (
                var kill = Process.Start(
                    "kill",
                    ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]
                )
            )
                await kill.WaitForExitAsync();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        process.Dispose();
    }

    [GeneratedRegex(@"Serving MCP at (http://\S+/mcp)")]
    private static partial Regex Serving();
}
