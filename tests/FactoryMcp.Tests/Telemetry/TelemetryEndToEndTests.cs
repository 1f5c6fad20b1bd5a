using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Telemetry;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Telemetry;

/// <summary>
/// A real `factory serve --http` with telemetry on: the SDK's HTTP client claims a task with an agent's
/// traceparent in _meta and records evidence; the server exports its spans and metrics with the OpenTelemetry
/// OTLP exporter (http/protobuf, by the OTEL_* variables) into a real OTLP/HTTP receiver, and a real Prometheus
/// server scrapes its --metrics-urls endpoint and answers a PromQL query over its HTTP API. On both engines.
/// </summary>
public abstract partial class TelemetryEndToEndTests(LedgerEngine engine)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    [Fact]
    public async Task Claim_IsTraced_UnderTheAgentsTraceparent_ExportedOverOtlp_AndScrapedByPrometheus()
    {
        await using var otlp = await OtlpReceiver.StartAsync();
        using var project = await HttpProject.CreateAsync(
            null,
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            },
            engine
        );
        var humanToken = await project.AddAgentAsync("ada", "human");
        var builderToken = await project.AddAgentAsync("builder-1");
        await using var server = await HttpServerProcess.StartFactoryAsync(
            project.Path,
            ["--metrics-urls", "http://127.0.0.1:0"],
            new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Url.ToString().TrimEnd('/'),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
                ["OTEL_SERVICE_NAME"] = "factory-under-test",
            }
        );
        var metricsUrl = server
            .Stderr.Select(l => MetricsLine().Match(l))
            .Where(m => m.Success)
            .Select(m => new Uri(m.Groups[1].Value))
            .First();
        await using var human = await server.ConnectAsync(humanToken);
        await using var builder = await server.ConnectAsync(builderToken, "2025-11-25");
        var enqueued = await human.CallToolAsync(
            "enqueue_for_agent",
            new Dictionary<string, object?>
            {
                ["target_agent"] = "builder-1",
                ["packet"] = GateHarness.Packet(reproduction: null),
                ["approve"] = true,
            }
        );
        Assert.True(enqueued.IsError != true, Text(enqueued));

        // The agent CLI's own trace: the claim must become a child of this span.
        const string agentTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
        const string agentSpan = "00f067aa0ba902b7";
        var claimed = await builder.CallToolAsync(
            "get_task_packet",
            new Dictionary<string, object?>(),
            options: new RequestOptions
            {
                Meta = new JsonObject { ["traceparent"] = $"00-{agentTrace}-{agentSpan}-01" },
            }
        );
        Assert.True(claimed.IsError != true, Text(claimed));
        var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
        var recorded = await builder.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "fix the greeting",
            }
        );
        Assert.True(recorded.IsError != true, Text(recorded));
        var refused = await builder.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "no-such-kind",
                ["summary"] = "x",
            }
        );
        Assert.True(refused.IsError, Text(refused));

        // The run's trace id is the ledger's identity and the run id; the CLI prints the identity.
        var checkpoint = await FactoryBinary.RunAsync(project.Path, ["ledger", "checkpoint"]);
        Assert.True(checkpoint.ExitCode == 0, checkpoint.Output);
        var ledgerId = LedgerIdOf().Match(checkpoint.Output).Groups[1].Value;
        var runTrace = RunTrace.TraceIdOf(ledgerId, runId).ToHexString();

        var claim = await otlp.WaitForAsync(
            r => r.Spans().FirstOrDefault(s => s.Name == "tools/call get_task_packet"),
            Patience,
            "claim span"
        );
        Assert.Equal(agentTrace, claim.TraceId);
        Assert.Equal(agentSpan, claim.ParentSpanId);
        Assert.Equal("tools/call", claim.Attributes["mcp.method.name"]);
        Assert.Equal("get_task_packet", claim.Attributes["gen_ai.tool.name"]);
        Assert.Equal("execute_tool", claim.Attributes["gen_ai.operation.name"]);
        Assert.Equal(runId, claim.Attributes["factory.run.id"]);
        Assert.False(string.IsNullOrEmpty(claim.Attributes["mcp.session.id"] as string));

        var root = await otlp.WaitForAsync(
            r => r.Spans().FirstOrDefault(s => s.Name == "invoke_agent builder-1"),
            Patience,
            "root span"
        );
        Assert.Equal(runTrace, root.TraceId);
        Assert.Equal("", root.ParentSpanId);
        Assert.Equal("invoke_agent", root.Attributes["gen_ai.operation.name"]);
        Assert.Equal("builder-1", root.Attributes["gen_ai.agent.name"]);
        Assert.Equal(runId, root.Attributes["factory.run.id"]);
        Assert.Equal("bugfix", root.Attributes["factory.line"]);
        Assert.Equal([root.SpanId], claim.LinkedSpanIds);

        var evidence = await otlp.WaitForAsync(
            r =>
                r.Spans().Where(s => s.Name == "tools/call record_evidence").ToList() is { Count: 2 } both
                    ? both
                    : null,
            Patience,
            "two record_evidence spans"
        );
        Assert.All(
            evidence,
            s =>
            {
                Assert.Equal(runTrace, s.TraceId);
                Assert.Equal(root.SpanId, s.ParentSpanId);
            }
        );
        Assert.Single(evidence, s => s.Attributes.GetValueOrDefault("error.type") as string == "tool_error");

        var claimsOverOtlp = await otlp.WaitForAsync(
            r => r.Sums().LastOrDefault(s => s.Metric == "factory.claims"),
            Patience,
            "factory.claims over OTLP"
        );
        Assert.Equal(1, claimsOverOtlp.Value);

        await using var prometheus = await PrometheusServer.StartAsync(metricsUrl);
        var claims = await prometheus.QueryUntilAsync("sum(factory_claims_total)", "1", Patience);
        Assert.True(
            claims == "1",
            $"factory_claims_total: {claims ?? "no sample"}; target {await prometheus.TargetHealthAsync()}"
        );
        var builders = await prometheus.QueryUntilAsync(
            "sum(factory_claims_total{factory_line=\"bugfix\"})",
            "1",
            Patience
        );
        Assert.Equal("1", builders);
    }

    [GeneratedRegex(@"Serving Prometheus metrics at (http://[^ ]+/metrics)")]
    private static partial Regex MetricsLine();

    [GeneratedRegex(@"ledger=([0-9a-f]+) ")]
    private static partial Regex LedgerIdOf();
}

public sealed class TelemetryEndToEndTestsOnSqlite() : TelemetryEndToEndTests(LedgerEngine.Sqlite);

public sealed class TelemetryEndToEndTestsOnPostgreSql() : TelemetryEndToEndTests(LedgerEngine.PostgreSql);
