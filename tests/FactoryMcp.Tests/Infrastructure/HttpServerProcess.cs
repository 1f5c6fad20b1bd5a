using System.Text.RegularExpressions;
using FactoryMcp.ChildProcesses;
using ModelContextProtocol.Client;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// A real `factory serve --http` (or any published host) process on a free loopback port. The port is
/// read from the line the server prints on stderr once it listens; stop sends SIGTERM, as a service
/// manager would, and waits for a clean exit. The process itself is the shared <see cref="ChildProcess"/>.
/// </summary>
public sealed partial class HttpServerProcess : IAsyncDisposable
{
    private readonly ChildProcess process;

    private HttpServerProcess(ChildProcess process, Uri baseUrl)
    {
        this.process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }
    public Uri McpUrl => new(BaseUrl, "/mcp");
    public int Port => BaseUrl.Port;

    /// <summary>The webhook endpoint, when the server was started with --hooks-urls.</summary>
    public Uri? HooksUrl =>
        Stderr.Select(l => HooksLine().Match(l)).FirstOrDefault(m => m.Success) is { } m
            ? new Uri(m.Groups[1].Value)
            : null;

    public IReadOnlyList<string> Stderr => process.Stderr;

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
        var process = await ChildProcess.StartAsync(
            executable,
            args,
            workingDirectory,
            FactoryBinary.CleanEnvironment(env)
        );
        try
        {
            var serving = await process.WaitForLineAsync(ServingLine(), TimeSpan.FromSeconds(60));
            return new HttpServerProcess(process, new Uri(serving.Groups[1].Value + "/"));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
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
    public Task<int> StopAsync() => process.TerminateAsync(TimeSpan.FromSeconds(90));

    /// <summary>SIGKILL: the replica dies without a goodbye, as a crashed machine.</summary>
    public Task<int> KillAsync() => process.KillAsync();

    public ValueTask DisposeAsync() => process.DisposeAsync();

    [GeneratedRegex(@"Serving webhooks at (http://[^ ]+/github)")]
    private static partial Regex HooksLine();

    [GeneratedRegex(@"Serving MCP at (http://[^ ]+)/mcp")]
    private static partial Regex ServingLine();
}
