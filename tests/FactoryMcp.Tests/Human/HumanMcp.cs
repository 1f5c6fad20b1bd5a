using System.Text.Json;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Human;

/// <summary>A human's MCP client on a test factory (in memory), with helpers to read results.</summary>
internal static class HumanMcp
{
    public static async Task<InMemoryMcp> ConnectAsync(TestFactory factory, string name = "ada")
    {
        var (_, token) = await factory.Services.Agents.AddAsync("cli", name, Roles.Human, null, []);
        return await InMemoryMcp.ConnectAsync(
            factory,
            await factory.Services.Agents.AuthenticateAsync(name, token, null)
        );
    }

    public static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    /// <summary>The structured content of a call that must have succeeded.</summary>
    public static JsonElement Ok(CallToolResult result)
    {
        Assert.True(result.IsError != true, Text(result));
        return result.StructuredContent!.Value;
    }

    public static async Task<JsonElement> OkAsync(InMemoryMcp mcp, string tool, Dictionary<string, object?> args) =>
        Ok(await mcp.CallAsync(tool, args));
}
