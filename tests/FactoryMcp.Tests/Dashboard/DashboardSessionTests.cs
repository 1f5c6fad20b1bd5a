using System.Net;
using System.Text.RegularExpressions;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Dashboard;

/// <summary>A dashboard login ends on its next request once the human's token is re-issued or revoked, or the role changes.</summary>
public sealed partial class DashboardSessionTests
{
    private static readonly HttpClient Browserless = new(new HttpClientHandler { AllowAutoRedirect = false });

    /// <summary>Logs in and reads the board once: the cookies it ends up with (session, antiforgery) and a form token.</summary>
    private static async Task<(string Cookies, string Csrf)> LoginAsync(HttpServerProcess server, string token)
    {
        var cookies = new CookieContainer();
        using var client = new HttpClient(
            new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies }
        )
        {
            BaseAddress = server.BaseUrl,
        };
        using var login = await client.PostAsync(
            "/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token })
        );
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var board = await client.GetStringAsync("/");
        return (cookies.GetCookieHeader(server.BaseUrl), Csrf().Match(board).Groups[1].Value);
    }

    private static async Task<HttpResponseMessage> SendAsync(
        HttpServerProcess server,
        string cookies,
        HttpMethod method,
        string path,
        Dictionary<string, string>? form = null
    )
    {
        var request = new HttpRequestMessage(method, new Uri(server.BaseUrl, path))
        {
            Content = form is null ? null : new FormUrlEncodedContent(form),
        };
        request.Headers.Add("Cookie", cookies);
        return await Browserless.SendAsync(request);
    }

    private static async Task AssertLoggedOutAsync(HttpServerProcess server, string cookies, string csrf)
    {
        using var board = await SendAsync(server, cookies, HttpMethod.Get, "/");
        Assert.Equal(HttpStatusCode.Redirect, board.StatusCode);
        Assert.Equal("/login", board.Headers.Location?.ToString());
        using var write = await SendAsync(
            server,
            cookies,
            HttpMethod.Post,
            "/tasks/1/reject",
            new() { ["reason"] = "after the session ended", ["csrf"] = csrf }
        );
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
    }

    [Fact]
    public async Task DashboardSession_EndsOnTheNextRequest_WhenTheTokenIsReissuedRevokedOrTheRoleChanges()
    {
        using var project = await HttpProject.CreateAsync();
        var ada = await project.AddAgentAsync("ada", "human");
        var bob = await project.AddAgentAsync("bob", "human");
        var packet = project.Combine("p.md");
        await File.WriteAllTextAsync(packet, PacketText.Simple());
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", packet])).ExitCode);
        var home = project.Combine("home");
        Directory.CreateDirectory(home);
        await using var server = await HttpServerProcess.StartFactoryAsync(
            project.Path,
            env: new Dictionary<string, string?> { ["HOME"] = home }
        );

        var (adaCookies, adaCsrf) = await LoginAsync(server, ada);
        using (var board = await SendAsync(server, adaCookies, HttpMethod.Get, "/"))
            Assert.Equal(HttpStatusCode.OK, board.StatusCode);
        await project.AddAgentAsync("ada", "human"); // a new token for the same human
        await AssertLoggedOutAsync(server, adaCookies, adaCsrf);

        var (bobCookies, bobCsrf) = await LoginAsync(server, bob);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["agent", "revoke", "bob"])).ExitCode);
        await AssertLoggedOutAsync(server, bobCookies, bobCsrf);
        await project.AddAgentAsync("bob", "agent");
        await AssertLoggedOutAsync(server, bobCookies, bobCsrf);

        Assert.Contains(
            "State proposed",
            (await FactoryBinary.RunAsync(project.Path, ["task", "show", "1"])).StandardOutput
        );
        // Cookie and antiforgery keys stay in the server's memory: nothing lands in the user's home.
        Assert.Empty(Directory.EnumerateFileSystemEntries(home));
    }

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex Csrf();
}
