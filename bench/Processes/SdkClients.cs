using ModelContextProtocol.Client;

namespace FactoryMcp.Bench.Processes;

/// <summary>The SDK's own MCP client on a server process, as agents' hosts connect.</summary>
internal static class SdkClients
{
    public static Task<McpClient> StdioAsync(ServerCommand command) =>
        McpClient.CreateAsync(
            new StdioClientTransport(
                new StdioClientTransportOptions
                {
                    Name = "factory-bench",
                    Command = command.FileName,
                    Arguments = [.. command.Arguments],
                    EnvironmentVariables = command.Environment.ToDictionary(p => p.Key, p => p.Value),
                    WorkingDirectory = command.WorkingDirectory,
                    StandardErrorLines = _ => { },
                }
            ),
            Options
        );

    /// <summary>Over Streamable HTTP; a null protocol version lets the client prefer 2026-07-28 (stateless).</summary>
    public static Task<McpClient> HttpAsync(Uri endpoint, string token, string? protocolVersion = null) =>
        McpClient.CreateAsync(
            new HttpClientTransport(
                new HttpClientTransportOptions
                {
                    Endpoint = endpoint,
                    TransportMode = HttpTransportMode.StreamableHttp,
                    AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + token },
                }
            ),
            new McpClientOptions { DiscoverProbeTimeout = Timeout.InfiniteTimeSpan, ProtocolVersion = protocolVersion }
        );

    /// <summary>Waits for the server/discover probe's answer rather than falling back after 5 s on a loaded machine (as the tests do).</summary>
    private static McpClientOptions Options => new() { DiscoverProbeTimeout = Timeout.InfiniteTimeSpan };
}
