using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Registration;

/// <summary>
/// `factory init` registrations read by the real agent CLIs from npm. `claude mcp list` and
/// `gemini mcp list` start the server and report whether it connected (they exit 0 either way, so
/// the text is read); `codex mcp list` does not connect, so its JSON listing is checked. The trust
/// steps init prints are done here in a private HOME, as the user would do them once.
/// </summary>
public sealed class AgentCliTests
{
    private static string FactoryLine(string output) =>
        output
            .Split('\n')
            .FirstOrDefault(l =>
                l.Contains("factory", StringComparison.Ordinal)
                && (
                    l.Contains("Connected", StringComparison.Ordinal)
                    || l.Contains("Failed", StringComparison.Ordinal)
                    || l.Contains("Disconnected", StringComparison.Ordinal)
                    || l.Contains("Pending", StringComparison.Ordinal)
                    || l.Contains("Disabled", StringComparison.Ordinal)
                )
            )
        ?? $"(no factory line in:\n{output})";

    private static async Task<string> TrustedHomeAsync(HttpProject project, string name)
    {
        var home = project.Combine("home-" + name);
        Directory.CreateDirectory(Path.Combine(home, ".gemini"));
        Directory.CreateDirectory(Path.Combine(home, ".codex"));
        var root = project.Path;
        await File.WriteAllTextAsync(
            Path.Combine(home, ".claude.json"),
            new JsonObject
            {
                ["projects"] = new JsonObject
                {
                    [root] = new JsonObject
                    {
                        ["hasTrustDialogAccepted"] = true,
                        ["enabledMcpjsonServers"] = new JsonArray("factory"),
                    },
                },
            }.ToJsonString()
        );
        await File.WriteAllTextAsync(
            Path.Combine(home, ".gemini", "trustedFolders.json"),
            new JsonObject { [root] = "TRUST_FOLDER" }.ToJsonString()
        );
        await File.WriteAllTextAsync(
            Path.Combine(home, ".codex", "config.toml"),
            $"[projects.\"{root}\"]\ntrust_level = \"trusted\"\n"
        );
        return home;
    }

    private static async Task<JsonElement> CodexListAsync(HttpProject project, string home)
    {
        var list = await ExternalClients.RunAsync(
            "codex",
            ["mcp", "list", "--json"],
            project.Path,
            home,
            new Dictionary<string, string?> { ["CODEX_HOME"] = Path.Combine(home, ".codex") }
        );
        Assert.True(list.ExitCode == 0, list.Output);
        var json = list.StandardOutput[list.StandardOutput.IndexOf('[', StringComparison.Ordinal)..];
        return JsonDocument
            .Parse(json)
            .RootElement.EnumerateArray()
            .Single(e => e.GetProperty("name").GetString() == "factory");
    }

    [Fact]
    public async Task Init_Stdio_ClaudeAndGeminiConnect_CodexListsTheServer()
    {
        await ExternalClients.RequireAsync(["claude", "gemini", "codex"]);
        using var project = await HttpProject.CreateAsync();
        var home = await TrustedHomeAsync(project, "stdio");

        var claude = await ExternalClients.RunAsync("claude", ["mcp", "list"], project.Path, home);
        Assert.Contains("Connected", FactoryLine(claude.Output));
        var gemini = await ExternalClients.RunAsync("gemini", ["mcp", "list"], project.Path, home);
        Assert.Contains("Connected", FactoryLine(gemini.Output));
        var codex = await CodexListAsync(project, home);
        Assert.Equal(FactoryBinary.Path, codex.GetProperty("transport").GetProperty("command").GetString());
        Assert.Equal("serve", codex.GetProperty("transport").GetProperty("args")[0].GetString());
        Assert.Equal(
            "codex-1",
            codex.GetProperty("transport").GetProperty("env").GetProperty("FACTORY_AGENT").GetString()
        );

        // The builders the CLIs started registered on first contact under the names init wrote.
        var agents = await FactoryBinary.RunAsync(project.Path, ["agents"]);
        Assert.Contains("claude-1", agents.StandardOutput);
        Assert.Contains("gemini-1", agents.StandardOutput);
    }

    [Fact]
    public async Task Init_Http_CliSendsTheTokenFromTheEnvironment_ABadTokenDoesNotConnect()
    {
        await ExternalClients.RequireAsync(["claude", "gemini", "codex"]);
        using var project = await HttpProject.CreateAsync();
        var token = await project.AddAgentAsync("remote-1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        var init = await FactoryBinary.RunAsync(project.Path, ["init", "--http", server.BaseUrl.ToString()]);
        Assert.True(init.ExitCode == 0, init.Output);
        Assert.Contains("FACTORY_TOKEN", init.StandardOutput);
        var home = await TrustedHomeAsync(project, "http");
        var good = new Dictionary<string, string?> { ["FACTORY_TOKEN"] = token };
        var bad = new Dictionary<string, string?> { ["FACTORY_TOKEN"] = "fmcp_wrong" };

        Assert.Contains(
            "Connected",
            FactoryLine((await ExternalClients.RunAsync("claude", ["mcp", "list"], project.Path, home, good)).Output)
        );
        Assert.DoesNotContain(
            "Connected",
            FactoryLine((await ExternalClients.RunAsync("claude", ["mcp", "list"], project.Path, home, bad)).Output)
        );
        Assert.Contains(
            "Connected",
            FactoryLine((await ExternalClients.RunAsync("gemini", ["mcp", "list"], project.Path, home, good)).Output)
        );
        Assert.DoesNotContain(
            "Connected",
            FactoryLine((await ExternalClients.RunAsync("gemini", ["mcp", "list"], project.Path, home, bad)).Output)
        );
        var codex = await CodexListAsync(project, home);
        Assert.Equal(server.McpUrl.ToString(), codex.GetProperty("transport").GetProperty("url").GetString());
        Assert.Equal("FACTORY_TOKEN", codex.GetProperty("transport").GetProperty("bearer_token_env_var").GetString());
    }

    [Fact]
    public async Task Init_OverAnElaborateCodexConfig_KeepsTheRest_AndCodexReadsIt()
    {
        await ExternalClients.RequireAsync(["codex"]);
        using var project = await HttpProject.CreateAsync();
        var config = System.IO.Path.Combine(project.Path, ".codex", "config.toml");
        const string mine = """"
            # my codex settings
            model = "o3"
            notes = '''
            [mcp_servers.factory]
            not a table
            '''
            developer_instructions = """
            Be brief. \
              Really."""

            [mcp_servers.factory]
            command = "stale"

            [[skills.config]]
            path = "/tmp/skill-a"
            enabled = false

            [mcp_servers.other]
            command = "other-server"
            env = { KEY = "v" }   # inline

            [sandbox_workspace_write]
            writable_roots = [
                "/tmp/a", # first
            ]

            """";
        await File.WriteAllTextAsync(config, mine);

        var init = await FactoryBinary.RunAsync(project.Path, ["init", "--test"]);
        Assert.True(init.ExitCode == 0, init.Output);
        var written = await File.ReadAllTextAsync(config);
        var again = await FactoryBinary.RunAsync(project.Path, ["init", "--test"]);

        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(written, await File.ReadAllTextAsync(config));
        Assert.StartsWith(mine[..mine.IndexOf("command = \"stale\"", StringComparison.Ordinal)], written);
        Assert.Contains(
            mine[
                mine.IndexOf("\n[[skills.config]]", StringComparison.Ordinal)..mine.IndexOf(
                    "[sandbox",
                    StringComparison.Ordinal
                )
            ],
            written
        );
        Assert.Contains(
            $"    \"{System.IO.Path.Combine(project.Path, ".factory-runs")}\",\n    \"/tmp/a\", # first\n]",
            written
        );
        var home = await TrustedHomeAsync(project, "elaborate");
        var codex = await CodexListAsync(project, home);
        Assert.Equal(FactoryBinary.Path, codex.GetProperty("transport").GetProperty("command").GetString());
    }
}
