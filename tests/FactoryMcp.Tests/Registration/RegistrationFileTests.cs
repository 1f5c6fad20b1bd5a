using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Registration;

namespace FactoryMcp.Tests.Registration;

/// <summary>`factory init`'s edits to the three CLIs' files: other content byte for byte, nothing changed twice.</summary>
public sealed class RegistrationFileTests : IDisposable
{
    private readonly TempDirectory root = new("reg");

    public void Dispose() => root.Dispose();

    private AgentRegistrations.Target Target(string? http = null) =>
        new(root.Path, "/opt/factory/factory", new LedgerPaths(root.Combine(".factory", "ledger.db")), http);

    [Fact]
    public void Write_KeepsOtherServersByteForByte_AndChangesNothingTheSecondTime()
    {
        const string claude =
            "{\n    \"mcpServers\": {\"other\": {\"command\":\"x\",   \"args\":[]}},\n  \"keep\": [1,2]\n}\n";
        const string gemini =
            "{\n  // a comment\n  \"mcpServers\": {\n    \"github\": { \"httpUrl\": \"https://example.invalid/mcp\" }\n  }\n}\n";
        const string codex =
            "# personal\nmodel = \"o3\"\n\n[mcp_servers.other]\ncommand = \"y\"\nenv = { A = \"1\" }\n\n[sandbox_workspace_write]\nwritable_roots = [\"/tmp/a\"]\n";
        File.WriteAllText(root.Combine(".mcp.json"), claude);
        Directory.CreateDirectory(root.Combine(".gemini"));
        File.WriteAllText(root.Combine(".gemini", "settings.json"), gemini);
        Directory.CreateDirectory(root.Combine(".codex"));
        File.WriteAllText(root.Combine(".codex", "config.toml"), codex);

        Assert.All(AgentRegistrations.Write(Target()), c => Assert.True(c.Changed, c.File));
        var mcp = File.ReadAllText(root.Combine(".mcp.json"));
        Assert.StartsWith("{\n    \"mcpServers\": {\"other\": {\"command\":\"x\",   \"args\":[]}", mcp);
        Assert.EndsWith("},\n  \"keep\": [1,2]\n}\n", mcp);
        Assert.Contains("\"FACTORY_AGENT\": \"claude-1\"", mcp);
        var settings = File.ReadAllText(root.Combine(".gemini", "settings.json"));
        Assert.StartsWith(
            "{\n  // a comment\n  \"mcpServers\": {\n    \"github\": { \"httpUrl\": \"https://example.invalid/mcp\" }",
            settings
        );
        Assert.Contains(root.Combine(".factory-runs"), settings);
        var toml = File.ReadAllText(root.Combine(".codex", "config.toml"));
        Assert.StartsWith(
            "# personal\nmodel = \"o3\"\n\n[mcp_servers.other]\ncommand = \"y\"\nenv = { A = \"1\" }\n\n[sandbox_workspace_write]\n",
            toml
        );
        Assert.Contains($"writable_roots = [\"{root.Combine(".factory-runs")}\", \"/tmp/a\"]", toml);

        var before = Directory
            .GetFiles(root.Path, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains(".factory-runs"))
            .ToDictionary(f => f, File.ReadAllBytes);
        Assert.All(AgentRegistrations.Write(Target()), c => Assert.False(c.Changed, c.File));
        foreach (var (file, bytes) in before)
            Assert.Equal(bytes, File.ReadAllBytes(file));
    }

    [Fact]
    public void Write_Http_ReplacesOnlyTheFactoryEntry_WithTheTokenFromTheEnvironment()
    {
        AgentRegistrations.Write(Target());
        File.AppendAllText(root.Combine(".codex", "config.toml"), "\n[mcp_servers.zeta]\ncommand = \"z\"\n");
        AgentRegistrations.Write(Target("http://127.0.0.1:7171"));
        var mcp = File.ReadAllText(root.Combine(".mcp.json"));
        Assert.Contains("\"url\": \"http://127.0.0.1:7171/mcp\"", mcp);
        Assert.Contains("Bearer ${FACTORY_TOKEN}", mcp);
        Assert.DoesNotContain("claude-1", mcp);
        var toml = File.ReadAllText(root.Combine(".codex", "config.toml"));
        Assert.Contains(
            "[mcp_servers.factory]\nurl = \"http://127.0.0.1:7171/mcp\"\nbearer_token_env_var = \"FACTORY_TOKEN\"\n",
            toml
        );
        Assert.Contains("[mcp_servers.zeta]\ncommand = \"z\"", toml);
        Assert.DoesNotContain("codex-1", toml);
    }

    [Fact]
    public void Write_BrokenJson_IsRefusedAndLeftAlone()
    {
        File.WriteAllText(root.Combine(".mcp.json"), "{ not json");
        var e = Assert.Throws<FactoryMcp.Ledger.LedgerException>(() => AgentRegistrations.Write(Target()));
        Assert.Contains("not valid JSON", e.Message);
        Assert.Equal("{ not json", File.ReadAllText(root.Combine(".mcp.json")));
    }
}
