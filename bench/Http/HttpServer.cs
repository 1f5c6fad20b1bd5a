using System.Text.RegularExpressions;
using FactoryMcp.Bench.Processes;
using FactoryMcp.ChildProcesses;

namespace FactoryMcp.Bench.Http;

/// <summary>A `factory serve --http` process on a free loopback port (read from the line it prints once listening).</summary>
internal sealed partial class HttpServer : IAsyncDisposable
{
    private readonly ChildProcess process;

    private HttpServer(ChildProcess process, Uri endpoint)
    {
        this.process = process;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }
    public int ProcessId => process.Id;
    public IReadOnlyList<string> Stderr => process.Stderr;

    public static async Task<HttpServer> StartAsync(ServerCommand command)
    {
        var process = await ChildProcess.StartAsync(
            command.FileName,
            command.Arguments,
            command.WorkingDirectory,
            command.Environment
        );
        try
        {
            var serving = await process.WaitForLineAsync(Serving(), TimeSpan.FromSeconds(60));
            return new HttpServer(process, new Uri(serving.Groups[1].Value));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public ProcessMemory Memory() => ProcessMemory.OfTree(process.Id);

    /// <summary>SIGTERM, as a service manager stops it; waits for the drain (killed after 90 s).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await process.TerminateAsync(TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException) { }
        await process.DisposeAsync();
    }

    [GeneratedRegex(@"Serving MCP at (http://\S+/mcp)")]
    private static partial Regex Serving();
}
