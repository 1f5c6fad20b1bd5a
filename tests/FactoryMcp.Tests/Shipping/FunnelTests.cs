using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Shipping;

public abstract class FunnelTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task Funnel_CountsEveryStep_AndKeepsTestFiguresApartFromLive()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync(
            whileOpen: g =>
                g.Factory.Services.Evidence.RecordEvidenceAsync(
                    g.Builder,
                    new FactoryMcp.Ledger.Evidence.EvidenceInput(
                        g.RunId,
                        "cost",
                        "tokens",
                        "{\"tokens\": 5000, \"money\": 0.5}"
                    ),
                    g.Factory.Services.Config.Lines
                ),
            engine: Engine
        );
        using var _ = gate;
        var f = gate.Factory.Services;
        await f.Shipping.ShipAsync("human:tester", gate.RunId, review.ReviewedSha!, "cli", null);
        await f.Content.DrainAsync(includeTest: true);

        var report = await f.Funnel.ReportAsync();

        Assert.Equal("test", report.Environment);
        Assert.Null(report.Live);
        var test = report.Test!;
        var steps = test.Steps.ToDictionary(s => s.Name, s => s.Count);
        Assert.Equal(1, steps["proposed"]);
        Assert.Equal(1, steps["approved"]);
        Assert.Equal(1, steps["claimed"]);
        Assert.Equal(1, steps["pr_ready"]);
        Assert.Equal(1, steps["reviewed"]);
        Assert.Equal(1, steps["shipped"]);
        Assert.Equal(1, steps["drafted"]);
        Assert.Null(test.LiveEventBridgeCoverage);
        Assert.NotNull(test.MedianMinutes["claimed_to_pr_ready"]);
        Assert.Contains(test.Agents, a => a.Agent == "builder-1" && a.Runs == 1);
        // One shipped change whose run reported 0.5 in money (money wins over tokens when both are stated).
        Assert.Equal(0.5, test.CostPerShippedChange);
        Assert.Equal("money", test.CostUnit);
        Assert.Equal(
            "Live: no live figures in this ledger.",
            FactoryMcp
                .Tools.Funnel.FunnelText.Render(report)
                .Split('\n')
                .First(l => l.StartsWith("Live", StringComparison.Ordinal))
                .Trim()
        );
    }

    [Fact]
    public async Task Export_EventsAndRuns_AsJsonLines()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync(engine: Engine);
        using var _ = gate;
        var f = gate.Factory.Services;
        await f.Shipping.ShipAsync("human:tester", gate.RunId, review.ReviewedSha!, "cli", null);
        var events = new StringWriter();
        await f.Export().WriteEventsAsync(events);
        var line = Assert.Single(events.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("\"environment\":\"test\"", line);
        var runs = new StringWriter();
        await f.Export().WriteRunsAsync(runs);
        var run = System
            .Text.Json.JsonDocument.Parse(runs.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Single())
            .RootElement;
        Assert.Equal(gate.RunId, run.GetProperty("run_id").GetInt64());
        Assert.Contains(
            run.GetProperty("evidence").EnumerateArray(),
            e => e.GetProperty("origin").GetString() == "server"
        );
        Assert.Contains(
            run.GetProperty("evidence").EnumerateArray(),
            e => e.GetProperty("origin").GetString() == "agent"
        );
        Assert.Equal("approve", run.GetProperty("review")[0].GetProperty("outcome").GetString());
        Assert.Contains("## Intent", run.GetProperty("packet").GetString());
    }
}

public sealed class FunnelTestsOnSqlite() : FunnelTests(LedgerEngine.Sqlite);

public sealed class FunnelTestsOnPostgreSql() : FunnelTests(LedgerEngine.PostgreSql);
