using System.Text.Json;
using System.Text.RegularExpressions;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Client;
using static FactoryMcp.Tests.Human.HumanMcp;

namespace FactoryMcp.Tests.Human;

/// <summary>
/// Every message a caller reads (the server's instructions, tool descriptions, results and refusals) names
/// only tools that caller has: an agent told "list tasks with list_tasks" has no such tool.
/// </summary>
public sealed class RoleMessagesTests
{
    [Fact]
    public async Task EveryMessageACallerReads_NamesOnlyToolsItsRoleHas()
    {
        using var factory = await TestFactory.CreateAsync();
        await factory.ApprovedTaskAsync();
        var (_, humanToken) = await factory.Services.Agents.AddAsync("cli", "ada", Roles.Human, null, []);
        var (_, verifierToken) = await factory.Services.Agents.AddAsync("cli", "qa-1", Roles.Verifier, "qa", []);
        var callers = new Dictionary<string, Caller>
        {
            ["agent"] = await factory.BuilderAsync(),
            ["verifier"] = await factory.Services.Agents.AuthenticateAsync("qa-1", verifierToken, null),
            ["human"] = await factory.Services.Agents.AuthenticateAsync("ada", humanToken, null),
        };

        var surfaces = new Dictionary<string, IList<McpClientTool>>();
        foreach (var (role, caller) in callers)
        {
            await using var mcp = await InMemoryMcp.ConnectAsync(factory, caller);
            surfaces[role] = await mcp.Client.ListToolsAsync();
        }
        var everyTool = surfaces.Values.SelectMany(t => t).Select(t => t.Name).ToHashSet();
        var mention = new Regex(@"\b(" + string.Join('|', everyTool.Select(Regex.Escape)) + @")\b");

        var problems = new List<string>();
        var messagesRead = 0;
        foreach (var (role, caller) in callers)
        {
            var own = surfaces[role].Select(t => t.Name).ToHashSet();
            await using var mcp = await InMemoryMcp.ConnectAsync(factory, caller);
            var messages = new List<(string Where, string Text)>
            {
                ("instructions", mcp.Client.ServerInstructions ?? ""),
            };
            foreach (var tool in surfaces[role])
            {
                messages.Add(
                    (
                        $"tools/list entry of {tool.Name}",
                        JsonSerializer.Serialize(
                            tool.ProtocolTool,
                            ModelContextProtocol.McpJsonUtilities.DefaultOptions
                        )
                    )
                );
                foreach (var args in ProbeArguments(tool.JsonSchema))
                {
                    var result = await mcp.CallAsync(tool.Name, args);
                    messages.Add(($"{tool.Name}({string.Join(", ", args.Keys)})", Text(result)));
                }
            }
            foreach (var (where, text) in messages)
            {
                messagesRead++;
                foreach (Match m in mention.Matches(text))
                    if (!own.Contains(m.Value))
                        problems.Add($"{role} reads '{m.Value}' in {where}: {text}");
            }
        }
        Assert.True(messagesRead > 40, $"only {messagesRead} messages were read");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    /// <summary>
    /// Calls that provoke refusals: the required arguments with placeholder values (ids that do not exist),
    /// then the same with each optional id given as well.
    /// </summary>
    private static IEnumerable<Dictionary<string, object?>> ProbeArguments(JsonElement schema)
    {
        var properties = schema.TryGetProperty("properties", out var p) ? p : default;
        var required = schema.TryGetProperty("required", out var r)
            ? r.EnumerateArray().Select(x => x.GetString()!).ToHashSet()
            : [];
        object? Value(JsonElement property) =>
            (property.TryGetProperty("type", out var type) ? type.ToString() : "") switch
            {
                var t when t.Contains("integer") => 999_999,
                var t when t.Contains("boolean") => false,
                var t when t.Contains("array") => Array.Empty<string>(),
                _ => "x",
            };
        var baseArgs = new Dictionary<string, object?>();
        if (properties.ValueKind != JsonValueKind.Object)
        {
            yield return baseArgs;
            yield break;
        }
        foreach (var property in properties.EnumerateObject().Where(x => required.Contains(x.Name)))
            baseArgs[property.Name] = Value(property.Value);
        yield return baseArgs;
        foreach (var property in properties.EnumerateObject().Where(x => !required.Contains(x.Name)))
            if (property.Name.EndsWith("_id", StringComparison.Ordinal))
                yield return new Dictionary<string, object?>(baseArgs) { [property.Name] = Value(property.Value) };
    }
}
