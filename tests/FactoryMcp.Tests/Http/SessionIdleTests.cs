using System.Diagnostics;
using System.Net;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Hosting;
using FactoryMcp.Server.Http;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ModelContextProtocol.Client;

namespace FactoryMcp.Tests.Http;

/// <summary>
/// The product's HTTP endpoint in process on a loopback port. The ledger's clock is a FakeTimeProvider the
/// test moves, and the SDK's session idle timeout runs on that same clock.
/// </summary>
public sealed class SessionIdleTests
{
    [Fact]
    public async Task IdleSession_IsClosedAfterTheIdleTimeoutOnTheLedgersClock_ThenItsIdIs404()
    {
        using var root = new TempDirectory("idle");
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        var factory = new FactoryServices(
            LedgerDatabase.Create(new LedgerPaths(root.Combine("ledger.db")), "test", time)
        );
        var (_, token) = await factory.Agents.AddAsync("test", "a1", "agent", null, []);
        var (_, otherToken) = await factory.Agents.AddAsync("test", "a2", "agent", null, []);
        var listen = new HttpListenOptions
        {
            Urls = [new Uri("http://127.0.0.1:0")],
            SessionIdle = TimeSpan.FromMinutes(30),
        };
        await using var app = HttpHost.Build(
            listen,
            factory.Agents,
            factory.Db.Time,
            logging => caller => McpSurfaceHost.ForCaller(factory, caller, logging).Options
        );
        // The client has its answer a moment before the server releases the session (and stamps its last
        // activity with the clock); the test moves the clock only once every request has fully finished.
        var finished = new SemaphoreSlim(0);
        app.Use(
            async (context, next) =>
            {
                try
                {
                    await next(context);
                }
                finally
                {
                    finished.Release();
                }
            }
        );
        await app.StartAsync();
        var url = new Uri(
            app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()
                + "/mcp"
        );
        await using var client = await McpClient.CreateAsync(
            new HttpClientTransport(
                new HttpClientTransportOptions
                {
                    Endpoint = url,
                    TransportMode = HttpTransportMode.StreamableHttp,
                    EnableStandaloneGetStream = false,
                    AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + token },
                }
            ),
            new McpClientOptions { ProtocolVersion = "2025-11-25" }
        );
        var sessionId = client.SessionId!;
        await DrainAsync(finished, 2); // initialize, notifications/initialized

        time.Advance(TimeSpan.FromMinutes(29));
        await client.ListToolsAsync(); // activity restarts the idle clock
        await DrainAsync(finished, 1);
        time.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(HttpStatusCode.Forbidden, await ProbeAsync(url, sessionId, otherToken, finished));

        time.Advance(TimeSpan.FromMinutes(2));
        // The SDK prunes on its own timer (on the same clock), off the request path: wait for it to run.
        var clock = Stopwatch.StartNew();
        var status = await ProbeAsync(url, sessionId, otherToken, finished);
        while (status == HttpStatusCode.Forbidden && clock.Elapsed < TimeSpan.FromSeconds(20))
            status = await ProbeAsync(url, sessionId, otherToken, finished);
        Assert.Equal(HttpStatusCode.NotFound, status);
        await app.StopAsync();
    }

    /// <summary>
    /// Asks about the session with another caller's token: 403 while it lives, 404 once it is gone. A refused
    /// request never touches the session, so probing does not keep it alive.
    /// </summary>
    private static async Task<HttpStatusCode> ProbeAsync(
        Uri url,
        string sessionId,
        string otherToken,
        SemaphoreSlim finished
    )
    {
        using var response = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(
                url,
                HttpProject.ToolsList,
                otherToken,
                headers: new Dictionary<string, string>
                {
                    ["Mcp-Session-Id"] = sessionId,
                    ["MCP-Protocol-Version"] = "2025-11-25",
                }
            )
        );
        await DrainAsync(finished, 1);
        return response.StatusCode;
    }

    private static async Task DrainAsync(SemaphoreSlim finished, int requests)
    {
        for (var i = 0; i < requests; i++)
            Assert.True(await finished.WaitAsync(TimeSpan.FromSeconds(30)), "a request never finished");
    }
}
