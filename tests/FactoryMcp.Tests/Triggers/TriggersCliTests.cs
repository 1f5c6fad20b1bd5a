using System.Text.Json;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.Triggers;

/// <summary>`factory triggers` of the published binary: each trigger with its last and next firing, what it produced, its last error.</summary>
public sealed class TriggersCliTests
{
    private const string FactoryYaml = """
        triggers:
          - name: nightly
            schedule: "0 3 * * *"
            line: deps
            command: "echo garbage"
            format: pip-audit
          - name: weekly
            schedule: "30 6 * * MON"
            line: deps
            command: "true"
        """;

    [Fact]
    public async Task Triggers_ListsLastAndNextFiring_WhatItProduced_AndTheLastError_TextAndJson()
    {
        using var project = await HttpProject.CreateAsync(FactoryYaml);
        var paths = new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db"));
        var factory = new FactoryServices(LedgerDatabase.Open(paths));
        var scheduled = new DateTimeOffset(2026, 11, 20, 3, 0, 0, TimeSpan.Zero);
        var firing = await factory.TriggerFirings.ClaimAsync("nightly", scheduled, "test");
        await factory.TriggerFirings.FinishAsync(firing!.Id, 0, 0, "the output is not the JSON pip-audit prints");

        var text = await FactoryBinary.RunAsync(
            project.Path,
            ["triggers"],
            new Dictionary<string, string?> { ["TZ"] = "UTC" }
        );
        Assert.True(text.ExitCode == 0, text.Output);
        Assert.Contains("nightly  \"0 3 * * *\" (UTC)  line deps  format pip-audit", text.StandardOutput);
        Assert.Contains(
            "last:  2026-11-20T03:00:00.000Z: failed: the output is not the JSON pip-audit prints",
            text.StandardOutput
        );
        Assert.Contains(
            "error: 2026-11-20T03:00:00.000Z: the output is not the JSON pip-audit prints",
            text.StandardOutput
        );
        Assert.Contains("weekly  \"30 6 * * MON\" (UTC)  line deps  format jsonl", text.StandardOutput);
        Assert.Contains("last:  never fired", text.StandardOutput);

        var json = await FactoryBinary.RunAsync(
            project.Path,
            ["triggers", "--json"],
            new Dictionary<string, string?> { ["TZ"] = "UTC" }
        );
        Assert.True(json.ExitCode == 0, json.Output);
        var list = JsonDocument.Parse(json.StandardOutput).RootElement;
        Assert.Equal(2, list.GetArrayLength());
        var nightly = list[0];
        Assert.Equal("nightly", nightly.GetProperty("name").GetString());
        Assert.Equal("failed", nightly.GetProperty("last").GetProperty("status").GetString());
        var next = DateTimeOffset.Parse(
            nightly.GetProperty("next").GetString()!,
            System.Globalization.CultureInfo.InvariantCulture
        );
        // The 20th's firing is the last; a later 03:00 is already due (overdue: a running server fires it at its next tick).
        Assert.Equal(TimeSpan.FromHours(3), next.UtcDateTime.TimeOfDay);
        Assert.True(next > scheduled);
        Assert.Contains("(due: a running server fires it at its next check)", text.StandardOutput);
    }

    [Fact]
    public async Task BadCron_RefusesFactoryYaml_NamingTheTriggerAndTheField()
    {
        using var project = await HttpProject.CreateAsync(FactoryYaml.Replace("30 6 * * MON", "30 6 * * MONDAY"));
        var result = await FactoryBinary.RunAsync(project.Path, ["triggers"]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("trigger weekly: the day of week field 'MONDAY' is not valid", result.Output);
    }
}
