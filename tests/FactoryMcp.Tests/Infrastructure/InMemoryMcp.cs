using System.IO.Pipelines;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Server.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>The SDK's own client connected to our server surface in memory over two pipes.</summary>
public sealed class InMemoryMcp : IAsyncDisposable
{
    private readonly CancellationTokenSource stop;
    private readonly Task serverTask;
    private readonly IAsyncDisposable services;

    private InMemoryMcp(McpClient client, Task serverTask, IAsyncDisposable services, CancellationTokenSource stop)
    {
        Client = client;
        this.serverTask = serverTask;
        this.services = services;
        this.stop = stop;
    }

    public McpClient Client { get; }

    public static async Task<InMemoryMcp> ConnectAsync(TestFactory factory, Caller caller)
    {
        var clientToServer = new Pipe();
        var serverToClient = new Pipe();
        var (options, services) = McpSurfaceHost.ForCaller(factory.Services, caller, NullLoggerFactory.Instance);
        var server = McpServer.Create(
            new StreamServerTransport(clientToServer.Reader.AsStream(), serverToClient.Writer.AsStream()),
            options,
            NullLoggerFactory.Instance,
            services
        );
        var stop = new CancellationTokenSource();
        var serverTask = server.RunAsync(stop.Token);
        var client = await McpClient.CreateAsync(
            new StreamClientTransport(clientToServer.Writer.AsStream(), serverToClient.Reader.AsStream())
        );
        return new InMemoryMcp(client, serverTask, services, stop);
    }

    public async Task<CallToolResult> CallAsync(string tool, Dictionary<string, object?> arguments) =>
        await Client.CallToolAsync(tool, arguments);

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await stop.CancelAsync();
        try
        {
            await serverTask;
        }
        catch (OperationCanceledException) { }
        await services.DisposeAsync();
        stop.Dispose();
    }
}
