using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>
/// The holder's get_task_packet through two `factory serve` processes of the same agent on one ledger: the packet
/// one process keeps for its holder (while the ledger is unchanged) never hides a write the other process made.
/// </summary>
public sealed class HeldPacketEndToEndTests : IDisposable
{
    private readonly TempDirectory root = new("held");

    public void Dispose() => root.Dispose();

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private static string[] Required(CallToolResult result) =>
        result
            .StructuredContent!.Value.GetProperty("evidence_required")
            .EnumerateArray()
            .Select(e => e.GetString()!)
            .ToArray();

    [Fact]
    public async Task EvidenceRecordedThroughAnotherServerProcess_IsNoLongerAskedFor_OnTheHoldersNextCall()
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        var file = root.Combine("packet.md");
        await File.WriteAllTextAsync(file, PacketText.Simple());
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["task", "add", file])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["approve", "1"])).ExitCode);
        var none = new Dictionary<string, object?>();

        await using var first = await FactoryBinary.ConnectAsync(repo.Path, "builder-1");
        await using var second = await FactoryBinary.ConnectAsync(repo.Path, "builder-1");
        var claimed = await first.CallToolAsync("get_task_packet", none);
        var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
        for (var i = 0; i < 3; i++)
            Assert.Equal(["plan"], Required(await first.CallToolAsync("get_task_packet", none)));

        var recorded = await second.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "the plan",
            }
        );
        Assert.True(recorded.IsError != true, Text(recorded));

        var resumed = await first.CallToolAsync("get_task_packet", none);
        Assert.Equal(runId, resumed.StructuredContent!.Value.GetProperty("run_id").GetInt64());
        Assert.Empty(Required(resumed));
        Assert.Contains("Evidence still required: none", Text(resumed));
    }
}
