using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tools.Hosting;
using ModelContextProtocol.Server;

namespace FactoryMcp.Server.Hosting;

/// <summary>
/// `factory serve` over stdio: one caller per process, named by FACTORY_AGENT (with FACTORY_TOKEN for
/// verifiers and humans); the registry decides its role and therefore its tools.
/// </summary>
internal static class StdioHost
{
    public static async Task<int> RunAsync(LedgerPaths paths, CancellationToken ct)
    {
        using var logging = McpSurfaceHost.StderrLogging();
        var factory = FactoryServices.Open(paths, logging: logging);
        var caller = await factory.Agents.AuthenticateAsync(
            Environment.GetEnvironmentVariable("FACTORY_AGENT"),
            Environment.GetEnvironmentVariable("FACTORY_TOKEN"),
            Environment.GetEnvironmentVariable("FACTORY_ROLE"), ct);
        factory.Notifier.Logger = logging.CreateLogger("FactoryMcp.Notifications");
        // Every server process validates: it takes queued jobs and resumes those whose owner died.
        using var stopWorker = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Off the startup path: its first look for queued or orphaned jobs must not delay the initialize reply.
        var worker = Task.Run(() => factory.Worker.RunAsync(stopWorker.Token), CancellationToken.None);
        var (options, services) = McpSurfaceHost.ForCaller(factory, caller, logging);
        await using (services)
        {
            await using var server = McpServer.Create(new StdioServerTransport("factory", logging), options, logging, services);
            try
            {
                await server.RunAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
        }
        await stopWorker.CancelAsync();
        await worker;
        return 0;
    }
}
