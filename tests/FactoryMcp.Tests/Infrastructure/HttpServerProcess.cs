using System.Diagnostics;
using System.Text.RegularExpressions;
using ModelContextProtocol.Client;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// A real `factory serve --http` (or any published host) process on a free loopback port. The port is
/// read from the line the server prints on stderr once it listens; stop sends SIGTERM, as a service
/// manager would, and waits for a clean exit.
/// </summary>
public sealed partial class HttpServerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly List<string> stderr = [];
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HttpServerProcess(Process process) => this.process = process;

    public Uri BaseUrl { get; private set; } = null!;
    public Uri McpUrl => new(BaseUrl, "/mcp");
    public int Port => BaseUrl.Port;

    /// <summary>The webhook endpoint, when the server was started with --hooks-urls.</summary>
    public Uri? HooksUrl =>
        Stderr.Select(l => HooksLine().Match(l)).FirstOrDefault(m => m.Success) is { } m
            ? new Uri(m.Groups[1].Value)
            : null;

    public IReadOnlyList<string> Stderr
    {
        get
        {
            lock (stderr)
                return stderr.ToList();
        }
    }

    public static Task<HttpServerProcess> StartFactoryAsync(
        string workingDirectory,
        IReadOnlyList<string>? extraArgs = null,
        IReadOnlyDictionary<string, string?>? env = null
    ) =>
        StartAsync(
            FactoryBinary.Path,
            ["serve", "--http", "--urls", "http://127.0.0.1:0", .. extraArgs ?? []],
            workingDirectory,
            env
        );

    /// <summary>Starts <paramref name="executable"/> and waits until it prints the address it serves.</summary>
    public static async Task<HttpServerProcess> StartAsync(
        string executable,
        IReadOnlyList<string> args,
        string workingDirectory,
        IReadOnlyDictionary<string, string?>? env = null
    )
    {
        var info = new ProcessStartInfo(executable)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var (key, value) in FactoryBinary.CleanEnvironment(env))
        {
            if (value is null)
                info.Environment.Remove(key);
            else
                info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var server = new HttpServerProcess(process);
        process.ErrorDataReceived += (_, e) => server.OnStderr(e.Data);
        process.OutputDataReceived += (_, _) => { };
        process.Exited += (_, _) => server.exited.TrySetResult();
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var first = await Task.WhenAny(server.listening.Task, server.exited.Task).WaitAsync(TimeSpan.FromSeconds(60));
        if (first != server.listening.Task)
        {
            await process.WaitForExitAsync();
            throw new InvalidOperationException(
                $"{executable} exited ({process.ExitCode}) before listening:\n{string.Join('\n', server.Stderr)}"
            );
        }
        server.BaseUrl = await server.listening.Task;
        return server;
    }

    private void OnStderr(string? line)
    {
        if (line is null)
            return;
        lock (stderr)
            stderr.Add(line);
        if (ServingLine().Match(line) is { Success: true } m)
            listening.TrySetResult(new Uri(m.Groups[1].Value + "/"));
    }

    /// <summary>The SDK's own Streamable HTTP client. A null protocol version lets it prefer 2026-07-28 (stateless).</summary>
    public Task<McpClient> ConnectAsync(
        string? token,
        string? protocolVersion = null,
        IDictionary<string, string>? headers = null
    )
    {
        var all = new Dictionary<string, string>(headers ?? new Dictionary<string, string>());
        if (token is not null)
            all["Authorization"] = "Bearer " + token;
        var transport = new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Endpoint = McpUrl,
                TransportMode = HttpTransportMode.StreamableHttp,
                AdditionalHeaders = all,
            }
        );
        return McpClient.CreateAsync(transport, new McpClientOptions { ProtocolVersion = protocolVersion });
    }

    /// <summary>SIGTERM, then the exit code once the server has drained and stopped.</summary>
    public async Task<int> StopAsync()
    {
        if (!process.HasExited)
        {
            using var kill = Process.Start(
                "kill",
                ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]
            );
            await kill.WaitForExitAsync();
        }
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        return process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException) { }
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }

    [GeneratedRegex(@"Serving webhooks at (http://[^ ]+/github)")]
    private static partial Regex HooksLine();

    [GeneratedRegex(@"Serving MCP at (http://[^ ]+)/mcp")]
    private static partial Regex ServingLine();
}
