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

    /// <summary>
    /// Guessing tokens: 20 failed authentications a minute per address (wrong token or none), each refused before
    /// its body is read (a body that is not JSON still gets 401, not a parse error); then 429 for every
    /// unauthenticated request from that address, while a valid token there keeps working.
    /// </summary>
    [Fact]
    public async Task Http_FailedAuthentication_IsLimitedPerAddress_BeforeTheBodyIsRead_ValidTokensUnaffected()
    {
        using var project = await HttpProject.CreateAsync();
        var token = await project.AddAgentAsync("a1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        var notJson = "{\"jsonrpc\": " + new string('[', 64 * 1024);
        for (var i = 0; i < 20; i++)
        {
            using var refused = await HttpProject.Http.SendAsync(
                HttpProject.Rpc(server.McpUrl, notJson, i % 2 == 0 ? $"fmcp_guess-{i}" : null)
            );
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.StartsWith("Unauthorized", await HttpProject.ErrorTextAsync(refused));
        }
        foreach (var guess in new[] { "fmcp_guess-20", null })
        {
            using var limited = await HttpProject.Http.SendAsync(
                HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, guess)
            );
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.NotNull(limited.Headers.RetryAfter);
            Assert.Contains("failed authentications", await HttpProject.ErrorTextAsync(limited));
        }
        using var good = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, token)
        );
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    [Fact]
    public async Task Dashboard_FailedLogins_AreLimitedPerAddress_AtTwentyAMinute()
    {
        using var project = await HttpProject.CreateAsync();
        var human = await project.AddAgentAsync("ada", "human");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false })
        {
            BaseAddress = server.BaseUrl,
        };
        HttpContent Form(string token) =>
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token });
        for (var i = 0; i < 20; i++)
        {
            using var refused = await client.PostAsync("/login", Form($"fmcp_guess-{i}"));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        using var limited = await client.PostAsync("/login", Form(human));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Contains("Too many attempts", await limited.Content.ReadAsStringAsync());
        Assert.False(
            limited.Headers.TryGetValues("Set-Cookie", out var cookies)
                && cookies.Any(c => c.StartsWith("factory_session", StringComparison.Ordinal)),
            "a limited login must not sign anyone in"
        );
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
