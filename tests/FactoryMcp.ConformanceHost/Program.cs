using FactoryMcp.ConformanceHost;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Server.Hosting;
using FactoryMcp.Server.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// Usage: FactoryMcp.ConformanceHost [--urls http://127.0.0.1:PORT]
var urls = args.Length == 2 && args[0] == "--urls" ? args[1] : "http://127.0.0.1:0";
var listen = new HttpListenOptions { Urls = HttpListenOptions.ParseUrls(urls), RateLimitPerMinute = 100_000 };
var caller = new Caller(0, "conformance", Roles.Agent);
var app = HttpHost.Build(
    listen,
    (logging, stopping) =>
    {
        Fixtures.Stopping = stopping;
        return (_ => Task.FromResult<Caller?>(caller), _ => Fixtures.Surface(logging));
    },
    out var sessions
);
await app.StartAsync();
foreach (var address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses)
    Console.Error.WriteLine($"Serving MCP at {address}/mcp");
await app.WaitForShutdownAsync();
await sessions.DisposeAllAsync();
return 0;
