using System.Net;
using FactoryMcp.Server.Hosting;
using FactoryMcp.Server.Http;
using FactoryMcp.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace FactoryMcp.Tests.Http;

/// <summary>The product's HTTP endpoint in process on a loopback port, with a clock the test moves.</summary>
public sealed class SessionPruningTests
{
    [Fact]
    public async Task IdleSession_IsPrunedAfterTheIdleTimeout_ThenItsIdIs404()
    {
        using var factory = await TestFactory.CreateAsync();
        var (_, token) = await factory.Services.Agents.AddAsync("test", "a1", "agent", null, []);
        var listen = new HttpListenOptions
        {
            Urls = [new Uri("http://127.0.0.1:0")],
            SessionIdle = TimeSpan.FromMinutes(30),
        };
        var app = HttpHost.Build(
            listen,
            (logging, _) =>
            {
                var auth = new BearerAuthentication(factory.Services, new TokenRateLimiter(100), null);
                return (auth.ResolveAsync, caller => McpSurfaceHost.ForCaller(factory.Services, caller, logging));
            },
            out var sessions,
            factory.Time
        );
        await app.StartAsync();
        try
        {
            var url = new Uri(
                app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()
                    + "/mcp"
            );
            var busy = await McpClient.CreateAsync(
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
            var sessionId = busy.SessionId!;
            Assert.Equal(1, sessions.Count);

            // The client has its answer a moment before the server releases the request that sent it
            // (and stamps the session's last activity with the clock); the clock moves only after that.
            await WhenIdleAsync(sessions, sessionId);
            factory.Time.Advance(TimeSpan.FromMinutes(29));
            Assert.Equal(0, await sessions.PruneAsync());
            await busy.ListToolsAsync();
            await WhenIdleAsync(sessions, sessionId);
            factory.Time.Advance(TimeSpan.FromMinutes(31));
            Assert.Equal(1, await sessions.PruneAsync());

            using var after = await HttpProject.Http.SendAsync(
                HttpProject.Rpc(
                    url,
                    HttpProject.ToolsList,
                    token,
                    headers: new Dictionary<string, string>
                    {
                        ["Mcp-Session-Id"] = sessionId,
                        ["MCP-Protocol-Version"] = "2025-11-25",
                    }
                )
            );
            Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
            await busy.DisposeAsync();
        }
        finally
        {
            await app.StopAsync();
            await sessions.DisposeAllAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task WhenIdleAsync(McpSessionStore sessions, string sessionId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (sessions.TryGet(sessionId, out var session) && session.Busy)
        {
            Assert.True(DateTime.UtcNow < deadline, "the session stayed busy with no request in flight");
            await Task.Delay(10);
        }
    }
}
