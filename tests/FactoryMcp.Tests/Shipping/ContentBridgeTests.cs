using FactoryMcp.Ledger.Content;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Shipping;

public sealed class ContentBridgeTests
{
    private const string Planted = "ghp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    private static string PlantedPacket() =>
        GateHarness
            .Packet(reproduction: null)
            .Replace("Greeting says hello world", "Greeting says hello world for alice@example.com")
            .Replace(
                "The greeting must say \"hello world\".",
                $"The greeting must say \"hello world\". Token {Planted} lives in /home/alice/secrets/app.env on build01.corp.internal, see https://github.com/acme/private-billing/issues/4."
            )
            .Replace("## Intent", "## Source\nhttps://github.com/acme/app/issues/12\n\n## Intent");

    [Fact]
    public async Task Drain_MakesDeterministicRedactedDrafts_OncePerEventAndKind_ExportedBesideTheLedger()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync(PlantedPacket());
        using var _ = gate;
        var f = gate.Factory.Services;
        await File.WriteAllTextAsync(
            gate.Factory.Paths.FactoryConfig,
            "declare_wait_seconds: 0\ncontent:\n  public_repositories: [acme/app]\n"
        );
        await f.Shipping.ShipAsync(
            "human:tester",
            gate.RunId,
            review.ReviewedSha!,
            "cli",
            "https://github.com/acme/app/pull/9"
        );

        var live = await f.Content.DrainAsync(includeTest: false);
        Assert.Equal(0, live.DraftsCreated); // a test ledger's events are not live: nothing is drafted unless asked

        var report = await f.Content.DrainAsync(includeTest: true);
        Assert.Equal(3, report.DraftsCreated);
        var again = await f.Content.DrainAsync(includeTest: true);
        Assert.Equal(0, again.DraftsCreated);

        var drafts = await f.Drafts.ListAsync();
        Assert.Equal(["blog", "changelog", "social"], drafts.Select(d => d.Kind).Order());
        Assert.All(drafts, d => Assert.Equal("drafted", d.Status));
        foreach (var draft in drafts)
        {
            Assert.DoesNotContain(Planted, draft.Content);
            Assert.DoesNotContain("alice@example.com", draft.Content);
            Assert.DoesNotContain("/home/alice", draft.Content);
            Assert.DoesNotContain("build01.corp.internal", draft.Content);
            Assert.DoesNotContain("private-billing", draft.Content);
            Assert.DoesNotContain(Planted, draft.BriefJson);
        }
        var blog = drafts.Single(d => d.Kind == "blog").Content;
        foreach (
            var key in new[]
            {
                "run:",
                "task:",
                "line: bugfix",
                "source: https://github.com/acme/app/issues/12",
                "shipped_at:",
                "pr: https://github.com/acme/app/pull/9",
            }
        )
            Assert.Contains(key, blog);
        Assert.True(drafts.Single(d => d.Kind == "social").Content.TrimEnd().Length <= 280);

        var folder = Path.Combine(gate.Factory.Paths.Drafts, "event-1");
        Assert.StartsWith(gate.Factory.Paths.Folder, folder);
        Assert.Equal(blog, await File.ReadAllTextAsync(Path.Combine(folder, "blog.md")));
    }

    [Fact]
    public async Task Drafts_AreDecidedByAHumanOnly()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync();
        using var _ = gate;
        var f = gate.Factory.Services;
        await f.Shipping.ShipAsync("human:tester", gate.RunId, review.ReviewedSha!, "cli", null);
        await f.Content.DrainAsync(includeTest: true);
        var draft = (await f.Drafts.ListAsync()).First();
        await Assert.ThrowsAsync<FactoryMcp.Ledger.LedgerException>(() =>
            f.Drafts.DecideAsync(gate.Builder, draft.Id, "approved")
        );
        Assert.Equal("approved", (await f.Drafts.DecideAsync(TestFactory.Human, draft.Id, "approved")).Status);
    }

    [Fact]
    public async Task MarketingLine_SendsAContentPacketToAWriter_WhoseOutputReplacesTheDraftAfterRedaction()
    {
        var lines = "bugfix:\n  lease_minutes: 30\nmarketing:\n  require_review: true\n";
        var (gate, review) = await ShippingHarness.ApprovedAsync(lines: lines);
        using var _ = gate;
        var f = gate.Factory.Services;
        await f.Shipping.ShipAsync("human:tester", gate.RunId, review.ReviewedSha!, "cli", null);
        var report = await f.Content.DrainAsync(includeTest: true);
        Assert.Equal(1, report.ContentPackets);
        Assert.Equal(0, (await f.Content.DrainAsync(includeTest: true)).ContentPackets);

        var content = (await f.Tasks.ListAsync("proposed", "marketing", null, 10)).Single();
        await f.Intake.ApproveAsync(TestFactory.Human, content.Id);
        var writer = await gate.Factory.BuilderAsync("writer-1");
        var view = await f.Packets.GetTaskPacketAsync(writer, null, false);
        Assert.Equal(content.Id, view.TaskId);
        Assert.Contains("## Brief", view.Packet);
        var folder = Path.Combine(view.Workspace!, "drafts", "event-1");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(
            Path.Combine(folder, "blog.md"),
            "# Hello world, finally\n\nWritten by a human-grade writer. Mail writer@example.com.\n"
        );
        await File.WriteAllTextAsync(Path.Combine(folder, "social.txt"), "Our greeting is fixed.\n");
        await File.WriteAllTextAsync(Path.Combine(folder, "changelog.md"), "- Fix the greeting\n");
        await f.Evidence.RecordEvidenceAsync(
            writer,
            new EvidenceInput(view.RunId!.Value, "plan", "rewrite"),
            f.Config.Lines
        );
        var input = new DeclarationInput(view.RunId.Value, "PR_READY", "drafts improved");
        await f.Gate.DeclareAsync(writer, input);
        await gate.RunWorkerAsync();
        Assert.Equal("accepted", (await f.Gate.DeclareAsync(writer, input)).Outcome);

        var blog = (await f.Drafts.ListAsync()).Single(d => d.Kind == DraftKinds.Blog);
        Assert.StartsWith("# Hello world, finally", blog.Content);
        Assert.Equal("writer:writer-1", blog.Author);
        Assert.DoesNotContain("writer@example.com", blog.Content);
        Assert.Equal("drafted", blog.Status);
    }

    private static IEnumerable<string> CorpusLines(string file) =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Shipping", "Corpus", file))
            .Where(l => l.Length > 0 && !l.StartsWith('#'));

    [Fact]
    public void Redactor_RemovesEverySecretOfAnIndependentCorpus()
    {
        var redactor = new Redactor(["acme/app"], ["private-billing"]);
        var cases = CorpusLines("secrets.txt").ToList();
        Assert.True(cases.Count >= 30, $"the corpus has only {cases.Count} cases");
        var leaks = new List<string>();
        foreach (var line in cases)
        {
            var secrets = System
                .Text.RegularExpressions.Regex.Matches(line, @"\[\[(.+?)\]\]")
                .Select(m => m.Groups[1].Value)
                .ToList();
            Assert.NotEmpty(secrets);
            var text = line.Replace("[[", "").Replace("]]", "");
            var redacted = redactor.Redact(text);
            foreach (var secret in secrets.Where(secret => redacted.Text.Contains(secret, StringComparison.Ordinal)))
                leaks.Add($"{secret}  <-  {redacted.Text}");
            Assert.True(redacted.Count > 0, $"nothing was counted as redacted in: {text}");
        }
        Assert.True(leaks.Count == 0, "leaked:\n" + string.Join("\n", leaks));
    }

    [Fact]
    public void Redactor_LeavesOrdinaryTextAndPublicLinksAlone()
    {
        var redactor = new Redactor(["acme/app"], ["private-billing"]);
        foreach (var line in CorpusLines("keep.txt"))
        {
            var redacted = redactor.Redact(line);
            Assert.Equal(line, redacted.Text);
            Assert.Equal(0, redacted.Count);
        }
    }

    /// <summary>
    /// The corpora through the path every draft takes (the bridge's redactor for a private repository, then
    /// <c>DraftLedger.StoreAsync</c>): each leak, one line at a time so the social draft's 280 characters hold
    /// it whole, is gone from the stored blog, social and changelog draft; each near-miss is stored unchanged.
    /// </summary>
    [Fact]
    public async Task Drafts_OfEveryKind_LoseEveryCorpusSecret_AndKeepEveryNearMiss()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync();
        using var _ = gate;
        var f = gate.Factory.Services;
        await File.WriteAllTextAsync(
            gate.Factory.Paths.FactoryConfig,
            "declare_wait_seconds: 0\ncontent:\n  public_repositories: [acme/app]\n"
        );
        await f.Shipping.ShipAsync("human:tester", gate.RunId, review.ReviewedSha!, "cli", null);
        await f.Content.DrainAsync(includeTest: true);
        var eventId = (await f.Drafts.ListAsync()).Select(d => d.EventId).Distinct().Single();
        var redactor = f.Content.RedactorFor("https://github.com/acme/private-billing.git");

        async Task<DraftRow> StoreAsync(string kind, string text) =>
            (
                await f.Drafts.StoreAsync(
                    "writer:writer-1",
                    eventId,
                    kind,
                    text,
                    "{}",
                    "writer:writer-1",
                    redactor,
                    replace: true
                )
            ).Draft;

        var leaks = new List<string>();
        foreach (var line in CorpusLines("secrets.txt"))
        {
            var secrets = System
                .Text.RegularExpressions.Regex.Matches(line, @"\[\[(.+?)\]\]")
                .Select(m => m.Groups[1].Value)
                .ToList();
            var text = line.Replace("[[", "").Replace("]]", "");
            Assert.True(text.Length < DraftLedger.SocialLimit, $"too long for a social draft: {text}");
            foreach (var kind in DraftKinds.All)
            {
                var draft = await StoreAsync(kind, text);
                Assert.Equal(kind, draft.Kind);
                Assert.True(draft.Redactions > 0, $"{kind}: nothing was counted as redacted in: {text}");
                leaks.AddRange(
                    secrets
                        .Where(secret => draft.Content.Contains(secret, StringComparison.Ordinal))
                        .Select(secret => $"{kind}: {secret}  <-  {draft.Content.TrimEnd()}")
                );
            }
        }
        Assert.True(leaks.Count == 0, "leaked:\n" + string.Join("\n", leaks));

        foreach (var line in CorpusLines("keep.txt"))
        foreach (var kind in DraftKinds.All)
        {
            var draft = await StoreAsync(kind, line);
            Assert.Equal(line + "\n", draft.Content);
            Assert.Equal(0, draft.Redactions);
        }
        Assert.Equal(3, (await f.Drafts.ListAsync(eventId)).Count);
    }
}
