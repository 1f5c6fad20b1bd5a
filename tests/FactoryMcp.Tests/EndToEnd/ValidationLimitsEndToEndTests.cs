using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>Validation limits on a real server process: a flood of output, a host that cannot enforce the limits.</summary>
public sealed class ValidationLimitsEndToEndTests : IDisposable
{
    private readonly TempDirectory root = new("limits-e2e");

    public void Dispose() => root.Dispose();

    private async Task<TempRepo> ProjectAsync(string packet, string? linesYaml = null)
    {
        var repo = await TempRepo.CreateAsync(
            root.Combine("app"),
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            }
        );
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        await File.WriteAllTextAsync(
            Path.Combine(repo.Path, ".factory", "factory.yaml"),
            "declare_wait_seconds: 30\nvalidation_lease_seconds: 10\n"
        );
        if (linesYaml is not null)
            await File.WriteAllTextAsync(Path.Combine(repo.Path, ".factory", "lines.yaml"), linesYaml);
        var file = root.Combine("packet.md");
        await File.WriteAllTextAsync(file, packet);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["task", "add", file])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["approve", "1"])).ExitCode);
        return repo;
    }

    [Fact]
    public async Task CommandPrinting300MB_KeepsTheServersMemoryBounded_AndStoresACappedBlob()
    {
        // 200 MB on one line, then 100 MB of short lines: the flood the issue measured at 3 GB of server memory.
        var repo = await ProjectAsync(
            GateHarness.Packet(validation: "sh tests/test_greet.sh && sh tests/flood.sh", reproduction: null)
        );
        await using var server = await GateEndToEndTests.StartServerAsync(repo.Path, "claude-1");
        try
        {
            await using var client = await McpClient.CreateAsync(
                new StreamClientTransport(server.StandardInput, server.StandardOutput),
                FactoryBinary.ClientOptions
            );
            var (runId, workspace) = await GateEndToEndTests.ClaimAndFixAsync(client);
            await File.WriteAllTextAsync(
                Path.Combine(workspace, "tests", "flood.sh"),
                "#!/bin/sh\nhead -c 209715200 /dev/zero | tr '\\0' 'a'\necho\nyes 'one short line of output' | head -c 104857600\necho flood-done\n"
            );

            var outcome = await Redeclare.UntilDecidedAsync(client, GateEndToEndTests.PrReady(runId));
            var peak = PeakResidentBytes(server.Id);

            Assert.True(outcome.IsError != true, Redeclare.TextOf(outcome));
            Assert.Equal("accepted", Redeclare.OutcomeOf(outcome));
            // A correctness bound, not a speed target: holding the output whole took the server to about 3 GB.
            Assert.True(peak < 400L * 1024 * 1024, $"the server's peak RSS was {peak / (1024 * 1024)} MiB");
            var ledger = Path.Combine(repo.Path, ".factory", "ledger.db");
            var (summary, content, blob, _) = TestOutput(ledger);
            Assert.Contains("output truncated", summary);
            var printed = System.Text.RegularExpressions.Regex.Match(content, @"the command printed (\d+) bytes");
            Assert.True(printed.Success, content[..Math.Min(content.Length, 2000)]);
            Assert.True(long.Parse(printed.Groups[1].Value) > 300_000_000, printed.Value);
            Assert.Contains("flood-done", content); // the tail is inline
            var blobFile = Path.Combine(repo.Path, ".factory", "blobs", blob![..2], blob);
            Assert.Equal(16L * 1024 * 1024, new FileInfo(blobFile).Length);
        }
        finally
        {
            await server.DisposeAsync(); // the whole tree, before the temp folder goes
        }
    }

    [Fact]
    public async Task LineRequiringLimits_RefusesValidation_WhereTheHostCannotEnforceThem()
    {
        var repo = await ProjectAsync(GateHarness.Packet(reproduction: null), "bugfix:\n  require_limits: true\n");
        await using var client = await FactoryBinary.ConnectAsync(
            repo.Path,
            "gemini-1",
            env: new Dictionary<string, string?> { ["FACTORY_SANDBOX"] = "off" }
        );
        var (runId, _) = await GateEndToEndTests.ClaimAndFixAsync(client);

        var result = await Redeclare.UntilDecidedAsync(client, GateEndToEndTests.PrReady(runId));

        Assert.True(result.IsError);
        var text = Redeclare.TextOf(result);
        Assert.Contains("requires every validation limit (require_limits)", text);
        Assert.Contains("tmp_mib (no sandbox", text);
        var (_, content, _, _) = TestOutput(Path.Combine(repo.Path, ".factory", "ledger.db"));
        Assert.Contains("Not enforced on this host", content);
    }

    /// <summary>VmHWM: the most resident memory the process ever had.</summary>
    private static long PeakResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    private static (string Summary, string Content, string? Blob, long? Bytes) TestOutput(string ledger)
    {
        using var connection = new SqliteConnection($"Data Source={ledger};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT summary, content, blob_sha, blob_bytes FROM evidence WHERE kind = 'test_output' AND origin = 'server' ORDER BY id DESC LIMIT 1";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read(), "no server test_output evidence");
        return (
            reader.GetString(0),
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetInt64(3)
        );
    }
}
