using System.Diagnostics.Metrics;
using System.IO.Compression;
using System.Net;
using System.Text;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Drain;
using FactoryMcp.Tools.Telemetry;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace FactoryMcp.Tests.Telemetry;

/// <summary>
/// The OTLP receiver of a real `factory serve --http --hooks-urls`: the OpenTelemetry .NET SDK's own OTLP exporter
/// (http/protobuf) sends Claude Code's counters and api_request events for a run claimed over MCP; JSON bodies
/// (gzip too), wrong tokens, wrong media types and oversized exports get the documented answers.
/// </summary>
public sealed class OtlpReceiverTests
{
    private const string Secret = "s3cret-for-otlp-tests";

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private static async Task<(HttpProject Project, HttpServerProcess Server, long RunId, Uri Otlp)> StartWithRunAsync()
    {
        var project = await HttpProject.CreateAsync(
            "hooks:\n  otlp_max_items: 40\n",
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            }
        );
        var humanToken = await project.AddAgentAsync("ada", "human");
        var builderToken = await project.AddAgentAsync("builder-1");
        var server = await HttpServerProcess.StartFactoryAsync(
            project.Path,
            ["--hooks-urls", "http://127.0.0.1:0"],
            new Dictionary<string, string?> { ["FACTORY_HOOKS_SECRET"] = Secret }
        );
        await using (var human = await server.ConnectAsync(humanToken))
        {
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
        }
        long runId;
        await using (var builder = await server.ConnectAsync(builderToken))
        {
            var claimed = await builder.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
            Assert.True(claimed.IsError != true, Text(claimed));
            runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
        }
        return (project, server, runId, new Uri(server.HooksUrl!, "/otlp/"));
    }

    private static UsageLedger Usage(HttpProject project) =>
        new(LedgerDatabase.Open(new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db"))));

    private static async Task<HttpResponseMessage> PostAsync(
        Uri url,
        byte[] body,
        string? token,
        string mediaType = "application/json",
        bool gzip = false
    )
    {
        if (gzip)
        {
            using var packed = new MemoryStream();
            await using (var zip = new GZipStream(packed, CompressionLevel.Fastest))
                await zip.WriteAsync(body);
            body = packed.ToArray();
        }
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(mediaType);
        if (gzip)
            content.Headers.ContentEncoding.Add("gzip");
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        if (token is not null)
            request.Headers.Add(OtlpTokens.Header, token);
        return await HttpProject.Http.SendAsync(request);
    }

    [Fact]
    public async Task OpenTelemetrySdkExporter_SendsClaudeCodeUsageOverHttpProtobuf_WithTheRunToken_AndItLandsOnTheRun()
    {
        var (project, server, runId, otlp) = await StartWithRunAsync();
        using var _ = project;
        await using var __ = server;
        var token = OtlpTokens.ForRun(Encoding.UTF8.GetBytes(Secret), runId);
        // The run token alone attributes the usage: this exporter sets no factory.run.id (the CLI may not either).
        var resource = ResourceBuilder.CreateEmpty().AddService("claude-code", serviceVersion: "2.0.14");

        using (var meter = new Meter("com.anthropic.claude_code"))
        using (
            var metrics = Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(resource)
                .AddMeter(meter.Name)
                .AddOtlpExporter(
                    (o, reader) =>
                    {
                        o.Endpoint = new Uri(otlp, "v1/metrics");
                        o.Protocol = OtlpExportProtocol.HttpProtobuf;
                        o.Headers = $"{OtlpTokens.Header}={token}";
                        reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
                    }
                )
                .Build()
        )
        {
            var tokens = meter.CreateCounter<double>("claude_code.token.usage", "tokens");
            var cost = meter.CreateCounter<double>("claude_code.cost.usage", "USD");
            const string model = "claude-sonnet-4-5-20250929";
            tokens.Add(1200, new("type", "input"), new("model", model));
            tokens.Add(350, new("type", "output"), new("model", model));
            cost.Add(0.04, new KeyValuePair<string, object?>("model", model));
            Assert.True(metrics.ForceFlush(10_000));
            // Cumulative: the second export repeats the running totals, which must not be added twice.
            tokens.Add(100, new("type", "input"), new("model", model));
            Assert.True(metrics.ForceFlush(10_000));
        }
        var fromMetrics = await Usage(project).ForRunAsync(runId);
        Assert.NotNull(fromMetrics);
        Assert.Equal((UsageLedger.Metrics, 1300L, 350L), (fromMetrics.Origin, fromMetrics.Input, fromMetrics.Output));
        Assert.Equal(0.04, fromMetrics.CostUsd, 6);

        using (
            var logging = LoggerFactory.Create(b =>
                b.AddOpenTelemetry(o =>
                {
                    o.SetResourceBuilder(resource);
                    o.AddOtlpExporter(e =>
                    {
                        e.Endpoint = new Uri(otlp, "v1/logs");
                        e.Protocol = OtlpExportProtocol.HttpProtobuf;
                        e.Headers = $"{OtlpTokens.Header}={token}";
                    });
                })
            )
        )
        {
            var logger = logging.CreateLogger("com.anthropic.claude_code.events");
#pragma warning disable CA1848, CA2254 // the event's attributes are the template's names, as Claude Code's are
            logger.Log(
                LogLevel.Information,
                new EventId(1, "claude_code.api_request"),
                "{event.name} {model} {input_tokens} {output_tokens} {cache_read_tokens} {cache_creation_tokens} {cost_usd}",
                "api_request",
                "claude-sonnet-4-5-20250929",
                1200,
                350,
                8000,
                500,
                0.0423
            );
#pragma warning restore CA1848, CA2254
        }
        var fromLogs = await Usage(project).ForRunAsync(runId);
        Assert.Equal(
            (UsageLedger.Logs, 1200L, 350L, 8000L, 500L),
            (fromLogs!.Origin, fromLogs.Input, fromLogs.Output, fromLogs.CacheRead, fromLogs.CacheCreation)
        );
        Assert.Equal(0.0423, fromLogs.CostUsd, 6);

        var bundle = await FactoryBinary.RunAsync(
            project.Path,
            ["bundle", runId.ToString(System.Globalization.CultureInfo.InvariantCulture)]
        );
        Assert.True(bundle.ExitCode == 0, bundle.Output);
        Assert.Contains(
            "- [telemetry] 10050 tokens (input 1200, output 350, cache read 8000, cache write 500)",
            bundle.StandardOutput
        );
    }

    [Fact]
    public async Task JsonAndGzip_AreRead_WrongTokensMediaTypesAndOversizedExportsAreRefused_UnknownRunsCounted()
    {
        var (project, server, runId, otlp) = await StartWithRunAsync();
        using var _ = project;
        await using var __ = server;
        var secret = Encoding.UTF8.GetBytes(Secret);
        var logs = new Uri(otlp, "v1/logs");
        var fixture = AgentUsageTests.Fixture("codex-logs.json", runId);

        using (var anonymous = await PostAsync(logs, fixture, null))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using (var forged = await PostAsync(logs, fixture, OtlpTokens.ForRun(Encoding.UTF8.GetBytes("other"), runId)))
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        using (var text = await PostAsync(logs, fixture, OtlpTokens.Intake(secret), "text/plain"))
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, text.StatusCode);
        using (
            var garbage = await PostAsync(logs, [0x0A, 0xFF, 0xFF], OtlpTokens.Intake(secret), "application/x-protobuf")
        )
        {
            Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
            Assert.Contains("not valid OTLP protobuf", await garbage.Content.ReadAsStringAsync());
        }
        var many = Encoding.UTF8.GetBytes(
            "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":["
                + string.Join(",", Enumerable.Repeat("{\"body\":{\"stringValue\":\"x\"}}", 41))
                + "]}]}]}"
        );
        using (var oversized = await PostAsync(logs, many, OtlpTokens.Intake(secret)))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, oversized.StatusCode);
            Assert.Contains("more than 40", await oversized.Content.ReadAsStringAsync());
        }
        Assert.Null(await Usage(project).ForRunAsync(runId));

        using (
            var unknown = await PostAsync(
                logs,
                AgentUsageTests.Fixture("codex-logs.json", 4242),
                OtlpTokens.Intake(secret)
            )
        )
        {
            Assert.Equal(HttpStatusCode.OK, unknown.StatusCode);
            Assert.Contains(
                "\"partialSuccess\":{\"rejectedLogRecords\":\"1\",\"errorMessage\":\"1 usage figure(s) name unknown run(s) 4242.\"}",
                await unknown.Content.ReadAsStringAsync()
            );
        }
        using (var zipped = await PostAsync(logs, fixture, OtlpTokens.Intake(secret), gzip: true))
        {
            Assert.Equal(HttpStatusCode.OK, zipped.StatusCode);
            Assert.Equal("{}", await zipped.Content.ReadAsStringAsync());
        }
        Assert.Equal(32208, (await Usage(project).ForRunAsync(runId))!.Tokens);
        var printed = await FactoryBinary.RunAsync(
            project.Path,
            ["otlp-token"],
            new Dictionary<string, string?> { ["FACTORY_HOOKS_SECRET"] = Secret }
        );
        Assert.Equal(OtlpTokens.Intake(secret), printed.StandardOutput.Trim());
    }

    [Fact]
    public void DrainSessionEnvironment_SendsTheAgentsTelemetryToTheReceiver_TaggedWithTheRun_WithoutTheSecret()
    {
        var secret = Encoding.UTF8.GetBytes(Secret);
        var telemetry = new SessionCommand.Telemetry("http://127.0.0.1:7272/otlp", secret, "FACTORY_HOOKS_SECRET");
        var values = SessionCommand.Values("p", "/w/p.md", 12, 5, "/w", "claude-1", "/l/ledger.db", telemetry);

        var environment = SessionCommand.Environment(values, telemetry);

        Assert.Equal(OtlpTokens.ForRun(secret, 12), values["otlp_token"]);
        Assert.Equal((true, (long?)12), OtlpTokens.Check(secret, values["otlp_token"]));
        Assert.Equal((false, (long?)null), OtlpTokens.Check(secret, "r13" + values["otlp_token"][3..]));
        Assert.Equal("http://127.0.0.1:7272/otlp", environment["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("http/protobuf", environment["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal($"x-factory-otlp-token={values["otlp_token"]}", environment["OTEL_EXPORTER_OTLP_HEADERS"]);
        Assert.EndsWith("factory.run.id=12,factory.task.id=5", environment["OTEL_RESOURCE_ATTRIBUTES"]);
        Assert.Equal("1", environment["CLAUDE_CODE_ENABLE_TELEMETRY"]);
        Assert.True(environment.ContainsKey("FACTORY_HOOKS_SECRET"));
        Assert.Null(environment["FACTORY_HOOKS_SECRET"]);
        Assert.False(SessionCommand.Environment(values).ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT"));
    }
}
