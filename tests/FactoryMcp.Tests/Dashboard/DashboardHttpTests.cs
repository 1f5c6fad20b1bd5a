using System.Net;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Dashboard;

/// <summary>The dashboard's security rules over plain HTTP: who may log in, writes, evidence files.</summary>
public sealed class DashboardHttpTests
{
    private static async Task<HttpClient> LoginAsync(
        HttpServerProcess server,
        string token,
        HttpStatusCode expected = HttpStatusCode.Redirect
    )
    {
        var client = new HttpClient(
            new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }
        )
        {
            BaseAddress = server.BaseUrl,
        };
        using var login = await client.PostAsync(
            "/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token })
        );
        Assert.Equal(expected, login.StatusCode);
        return client;
    }

    [Fact]
    public async Task Login_OnlyHumanTokens_AndWritesNeedASession()
    {
        using var project = await HttpProject.CreateAsync();
        var builder = await project.AddAgentAsync("builder-1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);

        using var agentLogin = await LoginAsync(server, builder, HttpStatusCode.Forbidden);
        using var badLogin = await LoginAsync(server, "fmcp_nope", HttpStatusCode.Unauthorized);
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false })
        {
            BaseAddress = server.BaseUrl,
        };
        using (var board = await anonymous.GetAsync("/"))
            Assert.Equal("/login", board.Headers.Location?.ToString());
        using var write = await anonymous.PostAsync(
            "/tasks/1/approve",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = "guess" })
        );
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
    }

    [Fact]
    public async Task EvidenceFiles_AreNosniff_ImagesInline_EverythingElseAnAttachment()
    {
        using var project = await HttpProject.CreateAsync();
        var human = await project.AddAgentAsync("ada", "human");
        var builder = await project.AddAgentAsync("builder-1");
        var packet = project.Combine("p.md");
        await File.WriteAllTextAsync(packet, PacketText.Simple());
        await FactoryBinary.RunAsync(project.Path, ["task", "add", packet]);
        await FactoryBinary.RunAsync(project.Path, ["approve", "1"]);
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var agent = await server.ConnectAsync(builder);
        var claimed = (await agent.CallToolAsync("get_task_packet", new Dictionary<string, object?>()))
            .StructuredContent!
            .Value;
        var runId = claimed.GetProperty("run_id").GetInt64();
        var workspace = claimed.GetProperty("workspace").GetString()!;
        await File.WriteAllBytesAsync(
            Path.Combine(workspace, "shot.png"),
            Convert.FromBase64String(
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
            )
        );
        await File.WriteAllTextAsync(Path.Combine(workspace, "page.html"), "<script>alert(1)</script>");
        foreach (var (kind, file) in new[] { ("screenshot", "shot.png"), ("log", "page.html") })
        {
            var recorded = await agent.CallToolAsync(
                "record_evidence",
                new Dictionary<string, object?>
                {
                    ["run_id"] = runId,
                    ["kind"] = kind,
                    ["summary"] = file,
                    ["file"] = Path.Combine(workspace, file),
                }
            );
            Assert.True(recorded.IsError != true);
        }

        using var client = await LoginAsync(server, human);
        var page = await client.GetStringAsync($"/runs/{runId}");
        var links = System
            .Text.RegularExpressions.Regex.Matches(page, $"/runs/{runId}/evidence/(\\d+)")
            .Select(m => m.Value)
            .Distinct()
            .ToList();
        Assert.Equal(2, links.Count);
        using var image = await client.GetAsync(links[0]);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal("inline", image.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Contains("nosniff", image.Headers.GetValues("X-Content-Type-Options"));
        using var html = await client.GetAsync(links[1]);
        Assert.Equal("application/octet-stream", html.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", html.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Contains("nosniff", html.Headers.GetValues("X-Content-Type-Options"));
    }
}
