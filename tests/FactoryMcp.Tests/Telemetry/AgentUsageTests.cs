using System.Globalization;
using System.Text;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tests.Shipping;
using FactoryMcp.Tools.Telemetry;
using FactoryMcp.Tools.Telemetry.Otlp;

namespace FactoryMcp.Tests.Telemetry;

/// <summary>
/// The agents' own usage in: the vendors' OTLP/JSON payloads (Telemetry/Fixtures) decoded and attributed to a
/// real run of a real ledger, the bundle and the funnel reading the measured figures. On both engines.
/// </summary>
public abstract class AgentUsageTests(LedgerEngine engine) : EngineTests(engine)
{
    internal static byte[] Fixture(string name, long runId, long taskId = 1) =>
        Encoding.UTF8.GetBytes(
            File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Telemetry", "Fixtures", name))
                .Replace("{{run_id}}", runId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
                .Replace("{{task_id}}", taskId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        );

    private static async Task<OtlpIntake.Outcome> SendAsync(
        TestFactory factory,
        OtlpSignal signal,
        byte[] json,
        long? runScope = null
    ) =>
        await new OtlpIntake(new UsageLedger(factory.Services.Db)).AcceptAsync(
            signal,
            OtlpJson.Decode(signal, json, 10_000),
            runScope
        );

    private static async Task<long> ClaimAsync(TestFactory factory, string builder = "builder-1")
    {
        await factory.ApprovedTaskAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(await factory.BuilderAsync(builder), null, false);
        return view.RunId!.Value;
    }

    [Fact]
    public async Task ClaudeCodeLogsAndMetrics_LandOnTheRun_CountedOnceFromTheLogEvents_AndTheBundleShowsThem()
    {
        using var factory = await CreateFactoryAsync();
        var runId = await ClaimAsync(factory);

        var logs = await SendAsync(factory, OtlpSignal.Logs, Fixture("claude-code-logs.json", runId));
        var metrics = await SendAsync(factory, OtlpSignal.Metrics, Fixture("claude-code-metrics.json", runId));

        Assert.Equal((4, 0, (string?)null), (logs.Accepted, logs.Rejected, logs.Message));
        Assert.Equal((9, 0), (metrics.Accepted, metrics.Rejected));
        var usage = await new UsageLedger(factory.Services.Db).ForRunAsync(runId);
        Assert.NotNull(usage);
        // The same two requests arrive as events and as counters: counted once, from the events.
        Assert.Equal(UsageLedger.Logs, usage.Origin);
        Assert.Equal((1500, 430, 8000, 500), (usage.Input, usage.Output, usage.CacheRead, usage.CacheCreation));
        Assert.Equal(0.043, usage.CostUsd, 6);
        Assert.Equal(["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"], usage.Models);
        Assert.Equal(["claude-code"], usage.Services);

        var bundle = await factory.Services.Bundles.BuildAsync(runId);
        Assert.Contains(
            "- [telemetry] 10430 tokens (input 1500, output 430, cache read 8000, cache write 500), cost 0.043 USD; model claude-haiku-4-5-20251001, claude-sonnet-4-5-20250929; from claude-code log events",
            bundle.Markdown
        );
    }

    [Fact]
    public async Task DeltaMetricsAlone_AddUp_AndCumulativeSeriesKeepTheirHighestValue()
    {
        using var factory = await CreateFactoryAsync();
        var runId = await ClaimAsync(factory);

        await SendAsync(factory, OtlpSignal.Metrics, Fixture("claude-code-metrics.json", runId));
        await SendAsync(factory, OtlpSignal.Metrics, Fixture("claude-code-metrics.json", runId));
        var twice = await new UsageLedger(factory.Services.Db).ForRunAsync(runId);
        Assert.Equal(UsageLedger.Metrics, twice!.Origin);
        // Delta points are increments: two exports of the same delta are two requests' worth.
        Assert.Equal((3000, 860, 16000, 1000), (twice.Input, twice.Output, twice.CacheRead, twice.CacheCreation));
        Assert.Equal(0.086, twice.CostUsd, 6);

        var cumulative = Encoding
            .UTF8.GetString(Fixture("claude-code-metrics.json", runId))
            .Replace("\"aggregationTemporality\": 1", "\"aggregationTemporality\": 2", StringComparison.Ordinal);
        var other = await ClaimAsync(factory, "builder-2");
        var cumulativeOther = cumulative.Replace(
            $"\"stringValue\": \"{runId}\"",
            $"\"stringValue\": \"{other}\"",
            StringComparison.Ordinal
        );
        Assert.NotEqual(cumulative, cumulativeOther);
        await SendAsync(factory, OtlpSignal.Metrics, Encoding.UTF8.GetBytes(cumulativeOther));
        await SendAsync(factory, OtlpSignal.Metrics, Encoding.UTF8.GetBytes(cumulativeOther));
        var kept = await new UsageLedger(factory.Services.Db).ForRunAsync(other);
        // A cumulative counter re-exported is the same total, not twice it.
        Assert.Equal((1500, 430, 8000, 500), (kept!.Input, kept.Output, kept.CacheRead, kept.CacheCreation));
        Assert.Equal(0.043, kept.CostUsd, 6);
    }

    [Fact]
    public async Task CodexSseEvents_CountTheCompletedResponses_CachedInputKeptApartFromInput()
    {
        using var factory = await CreateFactoryAsync();
        var runId = await ClaimAsync(factory);

        var outcome = await SendAsync(factory, OtlpSignal.Logs, Fixture("codex-logs.json", runId));

        Assert.Equal((5, 0), (outcome.Accepted, outcome.Rejected));
        var usage = await new UsageLedger(factory.Services.Db).ForRunAsync(runId);
        Assert.Equal((30241, 47, 1920, 0), (usage!.Input, usage.Output, usage.CacheRead, usage.CacheCreation));
        Assert.Equal(0, usage.CostUsd);
        Assert.Equal(["gpt-5-codex"], usage.Models);
        Assert.Equal(["codex_exec"], usage.Services);
    }

    [Fact]
    public async Task CodexTokenHistogram_CountsEachTurnsTokensOnce_CachedInputKeptApart_OtherMetricsSkipped()
    {
        using var factory = await CreateFactoryAsync();
        var runId = await ClaimAsync(factory);

        var outcome = await SendAsync(factory, OtlpSignal.Metrics, Fixture("codex-metrics.json", runId));

        Assert.Equal(0L, outcome.Rejected);
        var usage = await new UsageLedger(factory.Services.Db).ForRunAsync(runId);
        Assert.Equal(UsageLedger.Metrics, usage!.Origin);
        // The same two turns as codex-logs.json: 30,241 input of which 1,920 cached, 47 output.
        Assert.Equal((28321, 47, 1920, 0), (usage.Input, usage.Output, usage.CacheRead, usage.CacheCreation));
        Assert.Equal(["gpt-5-codex"], usage.Models);
        Assert.Equal(["codex_exec"], usage.Services);

        // A second interval's delta points add up; the logs, once they come, are the figure (never both).
        await SendAsync(factory, OtlpSignal.Metrics, Fixture("codex-metrics.json", runId));
        Assert.Equal(2 * 28321L, (await new UsageLedger(factory.Services.Db).ForRunAsync(runId))!.Input);
        await SendAsync(factory, OtlpSignal.Logs, Fixture("codex-logs.json", runId));
        var fromLogs = await new UsageLedger(factory.Services.Db).ForRunAsync(runId);
        Assert.Equal(UsageLedger.Logs, fromLogs!.Origin);
        Assert.Equal((30241L, 47L, 1920L), (fromLogs.Input, fromLogs.Output, fromLogs.CacheRead));
    }

    [Fact]
    public async Task UsageNamingNoRunAnUnknownRunOrAnotherRun_IsRejectedAndCounted_AndNothingIsRecorded()
    {
        using var factory = await CreateFactoryAsync();
        var runId = await ClaimAsync(factory);
        var withoutRun = Encoding
            .UTF8.GetString(Fixture("claude-code-logs.json", runId))
            .Replace("factory.run.id", "unrelated.attribute", StringComparison.Ordinal);

        var unattributed = await SendAsync(factory, OtlpSignal.Logs, Encoding.UTF8.GetBytes(withoutRun));
        var unknown = await SendAsync(factory, OtlpSignal.Logs, Fixture("claude-code-logs.json", 999));
        var notANumber = await SendAsync(
            factory,
            OtlpSignal.Logs,
            Encoding.UTF8.GetBytes(
                Encoding
                    .UTF8.GetString(Fixture("claude-code-logs.json", runId))
                    .Replace(
                        $"\"stringValue\": \"{runId}\"",
                        "\"stringValue\": \"1; DROP TABLE runs\"",
                        StringComparison.Ordinal
                    )
            ),
            runScope: runId
        );
        var foreign = await SendAsync(factory, OtlpSignal.Logs, Fixture("claude-code-logs.json", runId), runScope: 999);

        Assert.Equal((2, 2), (unattributed.Accepted, unattributed.Rejected));
        Assert.Contains("2 usage figure(s) name no run", unattributed.Message);
        Assert.Equal(2, unknown.Rejected);
        Assert.Contains("2 usage figure(s) name unknown run(s) 999", unknown.Message);
        Assert.Equal(2, notANumber.Rejected);
        Assert.Equal(2, foreign.Rejected);
        Assert.Contains("name a run this token was not issued for", foreign.Message);
        Assert.Null(await new UsageLedger(factory.Services.Db).ForRunAsync(runId));
        Assert.Empty(await new UsageLedger(factory.Services.Db).ForRunsAsync(null));

        // With the run's own token and no run attribute, the usage is the token's run.
        var scoped = await SendAsync(factory, OtlpSignal.Logs, Encoding.UTF8.GetBytes(withoutRun), runScope: runId);
        Assert.Equal(0, scoped.Rejected);
        Assert.Equal(10430, (await new UsageLedger(factory.Services.Db).ForRunAsync(runId))!.Tokens);
    }

    [Fact]
    public async Task FunnelCostPerShippedChange_UsesMeasuredUsageBeforeSelfReportedCostEvidence_AndSaysWhich()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync(
            whileOpen: g =>
                g.Factory.Services.Evidence.RecordEvidenceAsync(
                    g.Builder,
                    new EvidenceInput(g.RunId, "cost", "tokens", "{\"tokens\": 5000, \"money\": 0.5}"),
                    g.Factory.Services.Config.Lines
                ),
            engine: Engine
        );
        using var _ = gate;
        var f = gate.Factory.Services;
        await f.Shipping.ShipAsync("human:tester", gate.RunId, review.ReviewedSha!, "cli", null);
        var selfReported = (await f.Funnel.ReportAsync()).Test!;
        Assert.Equal(
            (0.5, "money", "evidence"),
            (selfReported.CostPerShippedChange, selfReported.CostUnit, selfReported.CostSource)
        );

        await SendAsync(gate.Factory, OtlpSignal.Logs, Fixture("claude-code-logs.json", gate.RunId));

        var measured = (await f.Funnel.ReportAsync()).Test!;
        Assert.Equal(
            (0.043, "money", "measured"),
            (measured.CostPerShippedChange, measured.CostUnit, measured.CostSource)
        );
        Assert.Contains(
            "- cost per shipped change: 0.04 (money, measured)",
            FactoryMcp.Tools.Funnel.FunnelText.Render(await f.Funnel.ReportAsync())
        );
    }
}

public sealed class AgentUsageTestsOnSqlite() : AgentUsageTests(LedgerEngine.Sqlite);

public sealed class AgentUsageTestsOnPostgreSql() : AgentUsageTests(LedgerEngine.PostgreSql);
