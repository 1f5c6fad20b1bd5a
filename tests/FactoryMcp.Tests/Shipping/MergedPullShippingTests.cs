using System.Net;
using System.Text;
using FactoryMcp.Server.Hooks;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Shipping;

/// <summary>A merged pull request ships a run through the webhook listener only when its head is the reviewed SHA; review and shipped events are announced.</summary>
public sealed class MergedPullShippingTests
{
    private const string Secret = "merge-secret";

    private static string MergedPull(int number, string headRef, string sha) =>
        """
            {"action":"closed","repository":{"full_name":"acme/app"},
             "pull_request":{"number":NUMBER,"title":"Fix the greeting","merged":true,"html_url":"https://github.com/acme/app/pull/NUMBER",
                             "head":{"ref":"HEADREF","sha":"SHA"},"base":{"ref":"main"},"merged_at":"2026-11-21T10:00:00Z"}}
            """.Replace("NUMBER", number.ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace(
            "HEADREF",
            headRef
        ).Replace("SHA", sha);

    private static async Task<string> DeliverAsync(Uri url, string delivery, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-GitHub-Event", "pull_request");
        request.Headers.Add("X-GitHub-Delivery", delivery);
        request.Headers.Add(
            "X-Hub-Signature-256",
            WebhookSignature.Sign(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(body))
        );
        using var response = await HttpProject.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task MergedPull_ShipsOnlyTheReviewedSha_AndTheShippedEventIsAnnounced()
    {
        await using var listener = await LocalListener.StartAsync();
        var (gate, review) = await ShippingHarness.ApprovedAsync();
        using var _ = gate;
        await File.WriteAllTextAsync(
            gate.Factory.Paths.FactoryConfig,
            $"notifications:\n  shipped: {listener.Url}shipped\n"
        );
        await using var server = await HttpServerProcess.StartFactoryAsync(
            gate.Factory.Repo.Path,
            ["--hooks-urls", "http://127.0.0.1:0"],
            new Dictionary<string, string?> { ["FACTORY_HOOKS_SECRET"] = Secret }
        );
        var branch = $"factory/{gate.TaskId}-{gate.RunId}";

        var other = await DeliverAsync(server.HooksUrl!, "d-1", MergedPull(1, branch, new string('c', 40)));
        Assert.Contains($"run {gate.RunId} not shipped", other);
        Assert.Contains("is not the reviewed SHA", other);
        Assert.Empty(await gate.Factory.Services.Shipping.EventsAsync());

        var merged = await DeliverAsync(server.HooksUrl!, "d-2", MergedPull(2, branch, review.ReviewedSha!));
        Assert.Contains($"run {gate.RunId} shipped", merged);
        var shipped = Assert.Single(await gate.Factory.Services.Shipping.EventsAsync());
        Assert.Equal("webhook", shipped.Source);
        Assert.Equal("https://github.com/acme/app/pull/2", shipped.PrUrl);
        var (path, body) = Assert.Single(listener.Received);
        Assert.Equal("/shipped", path);
        Assert.Contains($"\"run_id\":{gate.RunId}", body);
    }

    [Fact]
    public async Task TaskAwaitingReview_IsAnnounced()
    {
        await using var listener = await LocalListener.StartAsync();
        using var gate = await FactoryMcp.Tests.Gate.GateHarness.CreateAsync(
            FactoryMcp.Tests.Gate.GateHarness.Packet(reproduction: null)
        );
        await File.WriteAllTextAsync(
            gate.Factory.Paths.FactoryConfig,
            $"declare_wait_seconds: 0\nnotifications:\n  review: {listener.Url}review\n"
        );
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", FactoryMcp.Tests.Gate.GateHarness.FixedGreeting);
        Assert.Equal("awaiting_review", (await gate.DeclareAsync()).TaskState);
        var (path, body) = Assert.Single(listener.Received);
        Assert.Equal("/review", path);
        Assert.Contains($"\"task_id\":{gate.TaskId}", body);
    }
}
