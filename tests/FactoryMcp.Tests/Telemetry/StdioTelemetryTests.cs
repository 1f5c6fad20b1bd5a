using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Telemetry;

/// <summary>
/// A stdio `factory serve`, as an agent CLI starts it, with the OTEL_* variables set: its claim span and the run's
/// root span reach the in-test OTLP/HTTP receiver through the OpenTelemetry OTLP exporter (http/protobuf).
/// </summary>
public sealed class StdioTelemetryTests
{
    [Fact]
    public async Task StdioServer_ExportsTheClaimAndTheRunsRootSpan_OverOtlp()
    {
        await using var otlp = await OtlpReceiver.StartAsync();
        using var project = await HttpProject.CreateAsync();
        var token = await project.AddAgentAsync("builder-1");
        var file = project.Combine("packet.md");
        await File.WriteAllTextAsync(file, PacketText.Simple("Traced over stdio"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", file])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", "1"])).ExitCode);

        await using var client = await FactoryBinary.ConnectAsync(
            project.Path,
            "builder-1",
            token,
            new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.Url.ToString().TrimEnd('/'),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["OTEL_SERVICE_NAME"] = "factory-stdio-under-test",
            }
        );
        var claimed = await client.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        Assert.True(
            claimed.IsError != true,
            string.Join("\n", claimed.Content.OfType<TextContentBlock>().Select(b => b.Text))
        );
        var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();

        var claim = await otlp.WaitForAsync(
            r => r.Spans().FirstOrDefault(s => s.Name == "tools/call get_task_packet"),
            TimeSpan.FromSeconds(60),
            "claim span from the stdio server"
        );
        var root = await otlp.WaitForAsync(
            r => r.Spans().FirstOrDefault(s => s.Name == "invoke_agent builder-1"),
            TimeSpan.FromSeconds(60),
            "root span from the stdio server"
        );
        Assert.Equal(runId, claim.Attributes["factory.run.id"]);
        Assert.Equal("get_task_packet", claim.Attributes["gen_ai.tool.name"]);
        Assert.Equal(runId, root.Attributes["factory.run.id"]);
        Assert.Equal("", root.ParentSpanId);
        Assert.Equal("builder-1", root.Attributes["gen_ai.agent.name"]);
    }
}
