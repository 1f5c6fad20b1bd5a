using System.Net;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Http;

/// <summary>Tokens, Origin and Host checks, limits and startup refusals of `factory serve --http`.</summary>
public sealed class HttpSecurityTests
{
    [Fact]
    public async Task Http_NoTokenOrBadToken_Is401_AndRevokedTokenStopsWorking()
    {
        using var project = await HttpProject.CreateAsync();
        var token = await project.AddAgentAsync("a1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);

        using var none = await HttpProject.Http.SendAsync(HttpProject.Rpc(server.McpUrl, HttpProject.Initialize));
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Contains("Bearer", none.Headers.WwwAuthenticate.ToString());
        using var bad = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, "fmcp_not-a-real-token")
        );
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        using var good = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, token)
        );
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);

        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["agent", "revoke", "a1"])).ExitCode);
        using var revoked = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, token)
        );
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
    }

    [Fact]
    public async Task Http_SessionUsedWithAnotherCallersToken_Is403()
    {
        using var project = await HttpProject.CreateAsync();
        var alice = await project.AddAgentAsync("alice");
        var bob = await project.AddAgentAsync("bob");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var client = await server.ConnectAsync(alice, "2025-11-25");
        using var stolen = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(
                server.McpUrl,
                HttpProject.ToolsList,
                bob,
                headers: new Dictionary<string, string>
                {
                    ["Mcp-Session-Id"] = client.SessionId!,
                    ["MCP-Protocol-Version"] = "2025-11-25",
                }
            )
        );
        Assert.Equal(HttpStatusCode.Forbidden, stolen.StatusCode);
    }

    [Fact]
    public async Task Http_ForeignOrigin_Is403_ForeignHost_IsRefused_OwnOriginPasses()
    {
        using var project = await HttpProject.CreateAsync();
        var token = await project.AddAgentAsync("a1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);

        using var evil = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(
                server.McpUrl,
                HttpProject.Initialize,
                token,
                headers: new Dictionary<string, string> { ["Origin"] = "http://evil.example" }
            )
        );
        Assert.Equal(HttpStatusCode.Forbidden, evil.StatusCode);
        Assert.Contains(
            "Origin 'http://evil.example' may not call this server",
            await HttpProject.ErrorTextAsync(evil)
        );
        using var otherPort = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(
                server.McpUrl,
                HttpProject.Initialize,
                token,
                headers: new Dictionary<string, string> { ["Origin"] = "http://localhost:1" }
            )
        );
        Assert.Equal(HttpStatusCode.Forbidden, otherPort.StatusCode);
        var rebinding = HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, token);
        rebinding.Headers.Host = $"evil.example:{server.Port}";
        using var rebound = await HttpProject.Http.SendAsync(rebinding);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, rebound.StatusCode);
        Assert.Contains(
            $"Host 'evil.example:{server.Port}' is not served here",
            await HttpProject.ErrorTextAsync(rebound)
        );
        using var own = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(
                server.McpUrl,
                HttpProject.Initialize,
                token,
                headers: new Dictionary<string, string> { ["Origin"] = $"http://127.0.0.1:{server.Port}" }
            )
        );
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task Http_BodyOverTheConfiguredLimit_Is413()
    {
        using var project = await HttpProject.CreateAsync("http:\n  body_limit_bytes: 2048\n");
        var token = await project.AddAgentAsync("a1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        var big = HttpProject.Initialize.Replace("\"raw\"", "\"" + new string('x', 4096) + "\"");
        using var response = await HttpProject.Http.SendAsync(HttpProject.Rpc(server.McpUrl, big, token));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("body_limit_bytes", await response.Content.ReadAsStringAsync());
        using var small = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, token)
        );
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }

    [Fact]
    public async Task Http_OverThePerTokenRate_Is429_OtherTokensUnaffected()
    {
        using var project = await HttpProject.CreateAsync("http:\n  rate_limit_per_minute: 3\n");
        var busy = await project.AddAgentAsync("busy");
        var calm = await project.AddAgentAsync("calm");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        for (var i = 0; i < 3; i++)
        {
            using var ok = await HttpProject.Http.SendAsync(
                HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, busy)
            );
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var limited = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, busy)
        );
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        using var other = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, calm)
        );
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task Http_BindingBeyondLoopbackWithoutTokens_IsRefusedAtStartup()
    {
        using var project = await HttpProject.CreateAsync("http:\n  allowed_hosts: [factory.internal]\n");
        var noTokens = await FactoryBinary.RunAsync(project.Path, ["serve", "--http", "--urls", "http://0.0.0.0:0"]);
        Assert.Equal(1, noTokens.ExitCode);
        Assert.Contains("no agent holds a token", noTokens.StandardError);
        await project.AddAgentAsync("a1");
        var anonymous = await FactoryBinary.RunAsync(
            project.Path,
            ["serve", "--http", "--urls", "http://0.0.0.0:0", "--anonymous-agent", "x"]
        );
        Assert.Equal(1, anonymous.ExitCode);
        Assert.Contains("every caller needs a bearer token", anonymous.StandardError);
        Assert.Equal(2, (await FactoryBinary.RunAsync(project.Path, ["serve", "--anonymous-agent", "x"])).ExitCode);
    }
}
