using System.Text.Json;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Server.Hosting;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Mcp;
using Microsoft.Extensions.Logging.Abstractions;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Tools;

/// <summary>
/// The tool listing servers start with (src/Tools/Mcp/tools.snapshot.json, embedded) is exactly what reflection
/// over the tool methods gives, role by role and in order. After changing a tool's signature, description or
/// attributes, regenerate it: WRITE_TOOL_SNAPSHOT=1 dotnet test tests/FactoryMcp.Tests --filter ToolSnapshotTests
/// </summary>
public sealed class ToolSnapshotTests
{
    private static async Task<IReadOnlyList<Caller>> CallersAsync(TestFactory factory)
    {
        var (_, verifierToken) = await factory.Services.Agents.AddAsync("cli", "vera", Roles.Verifier, "qa", []);
        return
        [
            await factory.BuilderAsync(),
            await factory.Services.Agents.AuthenticateAsync("vera", verifierToken, null),
            TestFactory.Human,
        ];
    }

    private static List<ListedTool> Tools(TestFactory factory, Caller caller, ToolListing listing)
    {
        var (options, _) = McpSurfaceHost.ForCaller(factory.Services, caller, NullLoggerFactory.Instance, listing);
        return options.ToolCollection!.Cast<ListedTool>().ToList();
    }

    private static string Json(Tool tool) => JsonSerializer.Serialize(tool, McpJsonUtilities.DefaultOptions);

    [Fact]
    public async Task EveryRolesListing_FromTheSnapshot_IsWhatReflectionGives_InOrder()
    {
        using var factory = await TestFactory.CreateAsync();
        List<ListedTool> reflected = [];
        foreach (var caller in await CallersAsync(factory))
        {
            var fromMethods = Tools(factory, caller, ToolListing.Reflected);
            Assert.NotEmpty(fromMethods);
            reflected.AddRange(fromMethods);
            if (Environment.GetEnvironmentVariable("WRITE_TOOL_SNAPSHOT") == "1")
                continue;
            var fromSnapshot = Tools(factory, caller, ToolListing.Snapshot);
            Assert.Equal(
                fromMethods.Select(t => $"{t.ToolClass}.{t.Method}"),
                fromSnapshot.Select(t => $"{t.ToolClass}.{t.Method}")
            );
            foreach (var (method, snapshot) in fromMethods.Zip(fromSnapshot))
                Assert.True(
                    Json(method.ProtocolTool) == Json(snapshot.ProtocolTool),
                    $"{ToolSnapshot.FileName} is out of date for {method.ToolClass}.{method.Method}: regenerate it with "
                        + "WRITE_TOOL_SNAPSHOT=1 dotnet test tests/FactoryMcp.Tests --filter ToolSnapshotTests\n"
                        + $"methods:  {Json(method.ProtocolTool)}\nsnapshot: {Json(snapshot.ProtocolTool)}"
                );
        }
        var file = Path.Combine(FactoryBinary.RepoRoot, "src", "Tools", "Mcp", ToolSnapshot.FileName);
        var expected = ToolSnapshot.Write(reflected);
        if (Environment.GetEnvironmentVariable("WRITE_TOOL_SNAPSHOT") == "1")
            await File.WriteAllTextAsync(file, expected);
        // The file in the tree is the one embedded, and nothing is in it that no role lists.
        Assert.Equal(expected, await File.ReadAllTextAsync(file));
    }

    [Fact]
    public async Task ASnapshotTool_IsCalledThroughItsMethod_WithTheSnapshotsSchemaChecked()
    {
        using var factory = await TestFactory.CreateAsync();
        var builder = await factory.BuilderAsync();
        var tool = Tools(factory, builder, ToolListing.Snapshot).Single(t => t.ProtocolTool.Name == "get_task_packet");
        Assert.Equal("PacketTools", tool.ToolClass);
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, builder);
        // Through the method: an empty queue is the method's own answer, not a listing's.
        var empty = await mcp.CallAsync("get_task_packet", []);
        Assert.NotEqual(true, empty.IsError);
        Assert.Equal("empty", empty.StructuredContent!.Value.GetProperty("status").GetString());
        // The schema listed from the snapshot still refuses an ill-typed argument before the method runs.
        var refused = await mcp.CallAsync("get_task_packet", new() { ["task_id"] = "seven" });
        Assert.True(refused.IsError);
        Assert.Contains("task_id", string.Join("\n", refused.Content.OfType<TextContentBlock>().Select(b => b.Text)));
    }
}
