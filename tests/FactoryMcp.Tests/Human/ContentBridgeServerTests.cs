using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tests.Shipping;
using static FactoryMcp.Tests.Human.HumanMcp;

namespace FactoryMcp.Tests.Human;

/// <summary>No manual seam between shipping and drafts: a long-running server runs the content bridge itself.</summary>
public sealed class ContentBridgeServerTests
{
    [Fact]
    public async Task MarkShippedOverHttp_DraftsAppearWithNoCliStep_AndTheBridgeCoverageIsOne()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync();
        using var _ = gate;
        var f = gate.Factory.Services;
        var (_, token) = await f.Agents.AddAsync("cli", "lead", Roles.Human, null, []);
        await using var server = await HttpServerProcess.StartFactoryAsync(gate.Factory.Repo.Path);
        await using var human = await server.ConnectAsync(token);

        var shipped = await human.CallToolAsync(
            "mark_shipped",
            new Dictionary<string, object?> { ["run_id"] = gate.RunId, ["sha"] = review.ReviewedSha }
        );
        Assert.True(shipped.IsError != true, Text(shipped));
        var eventId = shipped.StructuredContent!.Value.GetProperty("event_id").GetInt64();

        // The ledger's drafts first, then their export to files (the ledger is authoritative): wait for both.
        var blog = Path.Combine(gate.Factory.Paths.Drafts, $"event-{eventId}", "blog.md");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await f.Drafts.ListAsync(eventId)).Count < 3 || !File.Exists(blog))
        {
            Assert.True(DateTime.UtcNow < deadline, "the server never drafted and exported the shipped event");
            await Task.Delay(50);
        }
        Assert.Equal(["blog", "changelog", "social"], (await f.Drafts.ListAsync(eventId)).Select(d => d.Kind).Order());

        var funnel = await human.CallToolAsync("funnel_report", new Dictionary<string, object?>());
        var test = funnel.StructuredContent!.Value.GetProperty("test");
        Assert.Equal(1.0, test.GetProperty("event_bridge_coverage").GetDouble());
        Assert.Contains("test event bridge coverage: 100%", Text(funnel));

        var listed = await human.CallToolAsync("list_records", new Dictionary<string, object?> { ["kind"] = "drafts" });
        var draftId = listed.StructuredContent!.Value.GetProperty("drafts")[0].GetProperty("draft_id").GetInt64();
        var decided = await human.CallToolAsync(
            "decide_draft",
            new Dictionary<string, object?> { ["draft_id"] = draftId, ["decision"] = "approve" }
        );
        Assert.True(decided.IsError != true, Text(decided));
        Assert.Equal("approved", (await f.Drafts.GetAsync(draftId)).Status);
    }
}
