using System.Text.Json;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>
/// The list commands as scripts and pipes see them: plain text without colour codes, long titles cut (not
/// wrapped), --json; unknown commands and options are bad usage that names them.
/// </summary>
public sealed class CliOutputTests : IDisposable
{
    private readonly TempDirectory root = new("cli-output");

    public void Dispose() => root.Dispose();

    private async Task<TempRepo> ProjectWithLongTitleAsync(string title)
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        var file = root.Combine("packet.md");
        await File.WriteAllTextAsync(file, PacketText.Simple(title));
        var add = await FactoryBinary.RunAsync(repo.Path, ["task", "add", file]);
        Assert.True(add.ExitCode == 0, add.Output);
        var signals = root.Combine("signals.jsonl");
        await File.WriteAllTextAsync(signals, $$"""{"source":"sentry","id":"E1","title":"{{title}}"}""" + "\n");
        var ingest = await FactoryBinary.RunAsync(repo.Path, ["ingest", "jsonl", signals]);
        Assert.True(ingest.ExitCode == 0, ingest.Output);
        return repo;
    }

    [Fact]
    public async Task BoardAndSignals_NotATerminal_PrintPlainLinesWithTitlesCutToTheWidth()
    {
        var title = "Totals " + string.Join(' ', Enumerable.Repeat("round half up to cents", 12)) + " END";
        var repo = await ProjectWithLongTitleAsync(title);
        var env = new Dictionary<string, string?> { ["COLUMNS"] = "100" };
        foreach (var command in new[] { "board", "signals", "agents", "funnel" })
        {
            var run = await FactoryBinary.RunAsync(repo.Path, [command], env);
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.DoesNotContain('\u001b', run.StandardOutput);
            Assert.DoesNotContain("│", run.StandardOutput); // no table drawn for a pipe
            Assert.DoesNotContain("END", run.StandardOutput);
            Assert.All(
                run.StandardOutput.Split('\n').Where(l => l.Contains("Totals", StringComparison.Ordinal)),
                l => Assert.True(l.Replace("\t", "        ").Length <= 100 + 8 * 8, l)
            );
        }
        var board = await FactoryBinary.RunAsync(repo.Path, ["board"], env);
        Assert.Contains("Totals round half up", board.StandardOutput);
        Assert.Contains("…", board.StandardOutput);
    }

    [Fact]
    public async Task ListCommands_WithJson_PrintJsonWithWholeTitles()
    {
        var title = "Totals " + string.Join(' ', Enumerable.Repeat("round half up to cents", 12)) + " END";
        var repo = await ProjectWithLongTitleAsync(title);
        var board = JsonDocument.Parse((await FactoryBinary.RunAsync(repo.Path, ["board", "--json"])).StandardOutput);
        Assert.Equal(title, board.RootElement[0].GetProperty("title").GetString());
        Assert.Equal("proposed", board.RootElement[0].GetProperty("state").GetString());
        var signals = JsonDocument.Parse(
            (await FactoryBinary.RunAsync(repo.Path, ["signals", "--json"])).StandardOutput
        );
        Assert.Equal("sentry:E1", signals.RootElement[0].GetProperty("key").GetString());
        Assert.Equal(title, signals.RootElement[0].GetProperty("title").GetString());
        var agents = JsonDocument.Parse((await FactoryBinary.RunAsync(repo.Path, ["agents", "--json"])).StandardOutput);
        Assert.Equal(JsonValueKind.Array, agents.RootElement.ValueKind);
        var funnel = JsonDocument.Parse((await FactoryBinary.RunAsync(repo.Path, ["funnel", "--json"])).StandardOutput);
        Assert.Equal("test", funnel.RootElement.GetProperty("environment").GetString());
        Assert.Equal(1, funnel.RootElement.GetProperty("test").GetProperty("steps")[0].GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task SignalsDismiss_ClosesTheSignalWithTheReason_ThroughTheLedgerRuleTheToolUses()
    {
        var repo = await ProjectWithLongTitleAsync("Dark mode toggle is missing");
        var dismissed = await FactoryBinary.RunAsync(repo.Path, ["signals", "dismiss", "1", "--reason", "won't do"]);
        Assert.True(dismissed.ExitCode == 0, dismissed.Output);
        var signals = JsonDocument.Parse(
            (await FactoryBinary.RunAsync(repo.Path, ["signals", "--json"])).StandardOutput
        );
        Assert.Equal("dismissed", signals.RootElement[0].GetProperty("status").GetString());
        Assert.Contains("won't do", signals.RootElement[0].GetProperty("reason").GetString());
        var again = await FactoryBinary.RunAsync(repo.Path, ["signals", "dismiss", "1", "--reason", "again"]);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already dismissed", again.StandardError);
    }

    [Fact]
    public async Task UnknownCommandOrOption_IsBadUsageNamingIt_EvenWithHelp()
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        foreach (
            var (args, named) in new (string[], string)[]
            {
                (["janitor", "--help"], "janitor"), // (`worker` was the example until it became a command)
                (["janitor"], "janitor"),
                (["board", "--colour"], "--colour"),
                (["signals", "--frobnicate", "--help"], "--frobnicate"),
            }
        )
        {
            var run = await FactoryBinary.RunAsync(repo.Path, args);
            Assert.True(run.ExitCode == 2, $"{string.Join(' ', args)} exited {run.ExitCode}: {run.Output}");
            Assert.Contains($"'{named}'", run.StandardError);
        }
        var help = await FactoryBinary.RunAsync(repo.Path, ["board", "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--json", help.StandardOutput);
    }
}
