using FactoryMcp.Ledger;
using FactoryMcp.Tools.Drain;

namespace FactoryMcp.Tests.Tools;

public sealed class SessionCommandTests
{
    private static readonly Dictionary<string, string> Values = SessionCommand.Values(
        "Fix it; don't `rm -rf`",
        "/w/.git/factory-prompt.md",
        7,
        3,
        "/w",
        "claude-1",
        "/repo/.factory/ledger.db"
    );

    [Fact]
    public void Expand_FillsPlaceholdersInsideWords_AndLeavesJsonBracesAlone()
    {
        string[] words =
        [
            "claude",
            "-p",
            "{prompt}",
            "--mcp-config",
            """{"mcpServers":{"factory":{"env":{"FACTORY_AGENT":"{agent}","FACTORY_LEDGER":"{ledger}"}}}}""",
        ];

        var expanded = SessionCommand.Expand(words, Values);

        Assert.Equal("Fix it; don't `rm -rf`", expanded[2]);
        Assert.Equal(
            """{"mcpServers":{"factory":{"env":{"FACTORY_AGENT":"claude-1","FACTORY_LEDGER":"/repo/.factory/ledger.db"}}}}""",
            expanded[4]
        );
        Assert.Equal(5, expanded.Count); // the prompt stays one argument, whatever it holds
    }

    [Fact]
    public void Check_RefusesUnknownPlaceholders_AndAnEmptyCommand()
    {
        var e = Assert.Throws<LedgerException>(() => SessionCommand.Check(["codex", "exec", "{promt}"]));
        Assert.Contains("{promt}", e.Message);
        Assert.Throws<LedgerException>(() => SessionCommand.Check([]));
    }

    [Fact]
    public void Environment_NamesTheRunAndTheLedger_AndDropsFactoryRole()
    {
        var env = SessionCommand.Environment(Values);
        Assert.Equal("7", env["FACTORY_RUN_ID"]);
        Assert.Equal("/repo/.factory/ledger.db", env["FACTORY_LEDGER"]);
        Assert.Equal("claude-1", env["FACTORY_AGENT"]);
        Assert.True(env.ContainsKey("FACTORY_ROLE") && env["FACTORY_ROLE"] is null);
    }
}
