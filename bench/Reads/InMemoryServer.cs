using System.IO.Pipelines;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Mcp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Bench.Reads;

/// <summary>
/// The factory's MCP surface for one caller (the same <see cref="RoleSurface"/> stdio and HTTP serve) in
/// this process, with the SDK's client on two in-memory pipes: the tool path without any process boundary.
/// </summary>
internal sealed class InMemoryServer : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly ServiceProvider services;
    private Task? serverTask;

    private InMemoryServer(ServiceProvider services) => this.services = services;

    public McpClient Client { get; private set; } = null!;

    public static async Task<InMemoryServer> ConnectAsync(FactoryServices factory, Caller caller)
    {
        var services = new ServiceCollection()
            .AddSingleton(factory)
            .AddSingleton(caller)
            .AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance)
            .BuildServiceProvider();
        var host = new InMemoryServer(services);
        var options = RoleSurface.Build(caller, services, "bench");
        var clientToServer = new Pipe();
        var serverToClient = new Pipe();
        var server = McpServer.Create(
            new StreamServerTransport(clientToServer.Reader.AsStream(), serverToClient.Writer.AsStream()),
            options,
            NullLoggerFactory.Instance,
            services
        );
        host.serverTask = server.RunAsync(host.stop.Token);
        host.Client = await McpClient.CreateAsync(
            new StreamClientTransport(clientToServer.Writer.AsStream(), serverToClient.Reader.AsStream())
        );
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await stop.CancelAsync();
        try
        {
            if (serverTask is not null)
                await serverTask;
        }
        catch (OperationCanceledException) { }
        await services.DisposeAsync();
        stop.Dispose();
    }
}
