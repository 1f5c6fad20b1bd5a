using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tools.Registration;

/// <summary>
/// What `factory init` writes so Claude Code, Codex and Gemini CLI find the factory: an MCP server
/// named "factory" (stdio with absolute paths, or Streamable HTTP with the token read from
/// FACTORY_TOKEN), and the runs folder among each CLI's writable directories. Other servers and
/// settings are kept byte for byte; a second run changes nothing.
/// </summary>
public static class AgentRegistrations
{
    public const string ServerName = "factory";
    public const string TokenVariable = "FACTORY_TOKEN";

    /// <summary>Stdio (HttpUrl null) or HTTP registration of one project.</summary>
    public sealed record Target(string ProjectRoot, string FactoryExecutable, LedgerPaths Paths, string? HttpUrl);

    public sealed record Change(string File, bool Changed, string Cli);

    public static IReadOnlyList<Change> Write(Target target)
    {
        var url = target.HttpUrl is { } u ? McpUrl(u) : null;
        Directory.CreateDirectory(target.Paths.RunsFolder);
        return
        [
            EditJson(
                target,
                ".mcp.json",
                "Claude Code",
                ["mcpServers", ServerName],
                url is null
                    ? Stdio(target, "claude-1", withType: true)
                    : new JsonObject
                    {
                        ["type"] = "http",
                        ["url"] = url,
                        ["headers"] = new JsonObject { ["Authorization"] = $"Bearer ${{{TokenVariable}}}" },
                    }
            ),
            EditJsonArray(
                target,
                Path.Combine(".claude", "settings.json"),
                "Claude Code",
                ["permissions", "additionalDirectories"],
                target.Paths.RunsFolder
            ),
            EditToml(target, url),
            EditJson(
                target,
                Path.Combine(".gemini", "settings.json"),
                "Gemini CLI",
                ["mcpServers", ServerName],
                url is null
                    ? Stdio(target, "gemini-1", withType: false)
                    : new JsonObject
                    {
                        ["httpUrl"] = url,
                        ["headers"] = new JsonObject { ["Authorization"] = $"Bearer ${{{TokenVariable}}}" },
                    }
            ),
            EditJsonArray(
                target,
                Path.Combine(".gemini", "settings.json"),
                "Gemini CLI",
                ["context", "includeDirectories"],
                target.Paths.RunsFolder
            ),
        ];
    }

    /// <summary>What a human still does in each CLI before it uses a project's MCP server.</summary>
    public static IReadOnlyList<string> TrustSteps(Target target)
    {
        var root = target.ProjectRoot;
        var steps = new List<string>
        {
            $"Claude Code: run `claude` in {root}, trust the folder and approve the project MCP server '{ServerName}' (`claude mcp list` then shows it connected).",
            $"Codex: run `codex` in {root} and trust the project; Codex reads .codex/config.toml only in trusted projects (it records [projects.\"{root}\"] trust_level = \"trusted\" in ~/.codex/config.toml).",
            $"Gemini CLI: run `gemini` in {root} and trust the folder (or add \"{root}\": \"TRUST_FOLDER\" to ~/.gemini/trustedFolders.json); untrusted folders disable MCP servers.",
        };
        if (target.HttpUrl is not null)
            steps.Add(
                $"Each CLI reads its bearer token from {TokenVariable}: `export {TokenVariable}=<the token `factory agent add NAME` printed>` before starting it."
            );
        return steps;
    }

    private static string McpUrl(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new LedgerException(
                $"--http '{url}' is not an http(s) URL; give the server's address, for example http://127.0.0.1:7171."
            );
        return uri.AbsolutePath.TrimEnd('/').EndsWith("/mcp", StringComparison.Ordinal)
            ? uri.ToString().TrimEnd('/')
            : uri.ToString().TrimEnd('/') + "/mcp";
    }

    private static JsonObject Stdio(Target target, string agent, bool withType)
    {
        var server = new JsonObject();
        if (withType)
            server["type"] = "stdio";
        server["command"] = target.FactoryExecutable;
        server["args"] = new JsonArray("serve");
        server["env"] = new JsonObject { ["FACTORY_AGENT"] = agent, ["FACTORY_LEDGER"] = target.Paths.LedgerFile };
        return server;
    }

    private static Change EditJson(Target target, string relative, string cli, string[] path, JsonNode value)
    {
        var file = Path.Combine(target.ProjectRoot, relative);
        var text = File.Exists(file) ? File.ReadAllText(file) : "";
        return Save(file, JsonFileEdit.Set(text, path, value, file), cli);
    }

    private static Change EditJsonArray(Target target, string relative, string cli, string[] path, string item)
    {
        var file = Path.Combine(target.ProjectRoot, relative);
        var text = File.Exists(file) ? File.ReadAllText(file) : "";
        var existing = JsonFileEdit.Get(text, path, file);
        if (existing is not null and not JsonArray)
            throw new LedgerException(
                $"{file}: \"{string.Join('.', path)}\" is not an array; fix it by hand, then run `factory init` again."
            );
        var items = existing is JsonArray array ? array.DeepClone().AsArray() : [];
        if (items.Any(i => i?.GetValueKind() == System.Text.Json.JsonValueKind.String && i.GetValue<string>() == item))
            return new Change(file, false, cli);
        items.Add((JsonNode?)item);
        return Save(file, JsonFileEdit.Set(text, path, items, file), cli);
    }

    private static Change EditToml(Target target, string? url)
    {
        var file = Path.Combine(target.ProjectRoot, ".codex", "config.toml");
        // Decoded without dropping a byte-order mark, so that it is written back too.
        var text = File.Exists(file) ? System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(file)) : "";
        IReadOnlyList<string> body = url is null
            ?
            [
                $"command = {TomlFileEdit.Quote(target.FactoryExecutable)}",
                "args = [\"serve\"]",
                $"env = {{ FACTORY_AGENT = \"codex-1\", FACTORY_LEDGER = {TomlFileEdit.Quote(target.Paths.LedgerFile)} }}",
            ]
            : [$"url = {TomlFileEdit.Quote(url)}", $"bearer_token_env_var = \"{TokenVariable}\""];
        var edited = TomlFileEdit.SetTable(text, $"mcp_servers.{ServerName}", body, file);
        var withRoots = TomlFileEdit.AddToArray(
            edited ?? text,
            "sandbox_workspace_write",
            "writable_roots",
            target.Paths.RunsFolder,
            file
        );
        return Save(file, withRoots ?? edited, "Codex");
    }

    private static Change Save(string file, string? text, string cli)
    {
        if (text is null)
            return new Change(file, false, cli);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temp = file + ".factory-tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, file, overwrite: true);
        return new Change(file, true, cli);
    }
}
