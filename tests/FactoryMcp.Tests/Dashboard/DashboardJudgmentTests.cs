using System.Net;
using System.Text.RegularExpressions;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tests.Shipping;

namespace FactoryMcp.Tests.Dashboard;

/// <summary>Answering escalations, reviewing, deciding drafts and reading the funnel through the dashboard, always with a human session and CSRF token.</summary>
public sealed partial class DashboardJudgmentTests
{
    private static async Task<(HttpClient Client, string Csrf)> LoginAsync(HttpServerProcess server, string token)
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
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var board = await client.GetStringAsync("/");
        return (client, Csrf().Match(board).Groups[1].Value);
    }

    private static Task<HttpResponseMessage> PostAsync(
        HttpClient client,
        string path,
        Dictionary<string, string> form
    ) => client.PostAsync(path, new FormUrlEncodedContent(form));

    [Fact]
    public async Task Escalation_IsAnsweredFromTheBoard_AndAFormWithoutCsrfIsRefused()
    {
        var (gate, _) = await ShippingHarness.ApprovedAsync();
        using var _g = gate;
        await gate.Factory.ApprovedTaskAsync(
            FactoryMcp
                .Tests.Gate.GateHarness.Packet(reproduction: null)
                .Replace("Greeting says hello world", "Unclear task")
        );
        var builder = await gate.Factory.BuilderAsync("builder-2");
        var view = await gate.Factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        await gate.Factory.Services.Gate.DeclareAsync(
            builder,
            new FactoryMcp.Ledger.Declarations.DeclarationInput(
                view.RunId!.Value,
                "ESCALATE",
                "unclear",
                Question: "Which greeting?"
            )
        );
        var (_, token) = await gate.Factory.Services.Agents.AddAsync("cli", "ada", Roles.Human, null, []);
        await using var server = await HttpServerProcess.StartFactoryAsync(gate.Factory.Repo.Path);
        var (client, csrf) = await LoginAsync(server, token);
        using var __ = client;
        Assert.Contains("Which greeting?", await client.GetStringAsync("/"));

        using (
            var forged = await PostAsync(
                client,
                $"/tasks/{view.TaskId}/answer",
                new() { ["answer"] = "hello", ["action"] = "requeue" }
            )
        )
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        Assert.Equal("escalated", (await gate.Factory.Services.Tasks.GetAsync(view.TaskId!.Value)).State);
        using (
            var answered = await PostAsync(
                client,
                $"/tasks/{view.TaskId}/answer",
                new()
                {
                    ["answer"] = "ANSWER-DASH: hello world",
                    ["action"] = "requeue",
                    ["csrf"] = csrf,
                }
            )
        )
            Assert.Equal(HttpStatusCode.Redirect, answered.StatusCode);
        Assert.Equal("ready", (await gate.Factory.Services.Tasks.GetAsync(view.TaskId.Value)).State);
        // The server process runs on the real clock; bring this test's manual clock up to it before claiming.
        gate.Factory.Time.Advance(DateTimeOffset.UtcNow - gate.Factory.Time.GetUtcNow() + TimeSpan.FromMinutes(1));
        Assert.Contains(
            "ANSWER-DASH",
            (await gate.Factory.Services.Packets.GetTaskPacketAsync(builder, null, false)).ToMarkdown()
        );
    }

    [Fact]
    public async Task Drafts_AreDecidedOnTheirPage_AndTheFunnelIsCharted()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync();
        using var _g = gate;
        await gate.Factory.Services.Shipping.ShipAsync("human:tester", gate.RunId, review.ReviewedSha!, "cli", null);
        await gate.Factory.Services.Content.DrainAsync(includeTest: true);
        var (_, token) = await gate.Factory.Services.Agents.AddAsync("cli", "ada", Roles.Human, null, []);
        await using var server = await HttpServerProcess.StartFactoryAsync(gate.Factory.Repo.Path);
        var (client, csrf) = await LoginAsync(server, token);
        using var __ = client;

        var list = await client.GetStringAsync("/drafts");
        var first = Regex.Match(list, "/drafts/(\\d+)").Groups[1].Value;
        using (
            var approved = await PostAsync(
                client,
                $"/drafts/{first}/status",
                new() { ["status"] = "approved", ["csrf"] = csrf }
            )
        )
            Assert.Equal(HttpStatusCode.Redirect, approved.StatusCode);
        Assert.Equal("approved", (await gate.Factory.Services.Drafts.GetAsync(long.Parse(first))).Status);

        var funnel = await client.GetStringAsync("/funnel");
        Assert.Contains("<svg", funnel);
        Assert.Contains("No live figures in this ledger.", funnel);
        Assert.Contains("shipped: 1", funnel);
    }

    [GeneratedRegex("name=\"csrf\" value=\"([^\"]+)\"")]
    private static partial Regex Csrf();
}
