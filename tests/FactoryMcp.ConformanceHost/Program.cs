using FactoryMcp.ConformanceHost;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Hosting;
using FactoryMcp.Server.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Usage: FactoryMcp.ConformanceHost [--urls http://127.0.0.1:PORT]
// The product's HTTP endpoint (HttpHost.Build) with the fixtures' surface; the suite's requests carry no token,
// so they act as the anonymous builder "conformance" of a throwaway test ledger, as `--anonymous-agent` does.
var urls = args.Length == 2 && args[0] == "--urls" ? args[1] : "http://127.0.0.1:0";
var folder = Directory.CreateTempSubdirectory("factory-conformance-");
try
{
    var db = LedgerDatabase.Create(new LedgerPaths(Path.Combine(folder.FullName, "ledger.db")), "test");
    var listen = new HttpListenOptions
    {
        Urls = HttpListenOptions.ParseUrls(urls),
        RateLimitPerMinute = 100_000,
        AnonymousAgent = "conformance",
    };
    var app = HttpHost.Build(
        listen,
        new AgentRegistry(db),
        TimeProvider.System,
        logging => _ => Fixtures.Surface(logging)
    );
    Fixtures.Stopping = app.Lifetime.ApplicationStopping;
    await app.StartAsync();
    foreach (
        var address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
    )
        Console.Error.WriteLine($"Serving MCP at {address}/mcp");
    await app.WaitForShutdownAsync();
    await app.DisposeAsync();
}
finally
{
    folder.Delete(recursive: true);
}
return 0;
