using System.Text.Json;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Tools;

/// <summary>Bad input: every malformed call names the argument, what was expected and what arrived, and changes nothing.</summary>
public sealed class ToolArgumentTests
{
    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private static async Task<Caller> CallerAsync(TestFactory factory, string role) =>
        role switch
        {
            Roles.Agent => await factory.BuilderAsync(),
            _ => await factory.Services.Agents.AuthenticateAsync(
                role,
                (
                    await factory.Services.Agents.AddAsync(
                        "cli",
                        role,
                        role,
                        role == Roles.Verifier ? "review" : null,
                        []
                    )
                ).Token,
                null
            ),
        };

    private static async Task<long> AuditCountAsync(TestFactory factory) =>
        await factory.Services.Db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit");

    /// <summary>A well-typed value for a property of this schema (the call may still be refused by the ledger).</summary>
    private static object? Valid(JsonElement property) =>
        Types(property).First() switch
        {
            "integer" => 1L,
            "number" => 1.5,
            "boolean" => false,
            "array" => Array.Empty<string>(),
            "object" => new Dictionary<string, object?>(),
            "null" => null,
            _ => "x",
        };

    /// <summary>A value of a type this property does not accept, and the words its error must contain.</summary>
    private static (object? Value, string Expected) IllTyped(JsonElement property) =>
        Types(property).First(t => t != "null") switch
        {
            "integer" => ("abc", "an integer"),
            "number" => ("abc", "a number"),
            "boolean" => ("yes", "true or false"),
            "array" => (12345L, "an array"),
            _ => (12345L, "a string"),
        };

    private static IReadOnlyList<string> Types(JsonElement property) =>
        property.GetProperty("type") is { ValueKind: JsonValueKind.Array } many
            ? many.EnumerateArray().Select(t => t.GetString()!).ToList()
            : [property.GetProperty("type").GetString()!];

    private static Dictionary<string, object?> RequiredArguments(JsonElement schema)
    {
        var arguments = new Dictionary<string, object?>();
        if (!schema.TryGetProperty("required", out var required))
            return arguments;
        foreach (var name in required.EnumerateArray().Select(r => r.GetString()!))
            arguments[name] = Valid(schema.GetProperty("properties").GetProperty(name));
        return arguments;
    }

    [Theory]
    [InlineData(Roles.Agent)]
    [InlineData(Roles.Verifier)]
    [InlineData(Roles.Human)]
    public async Task EveryTool_MissingRequiredArgument_IsNamed_AndNothingChanges(string role)
    {
        using var factory = await TestFactory.CreateAsync();
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await CallerAsync(factory, role));
        var before = await AuditCountAsync(factory);
        var checkedArguments = 0;
        foreach (var tool in await mcp.Client.ListToolsAsync())
        {
            var schema = tool.ProtocolTool.InputSchema;
            var complete = RequiredArguments(schema);
            foreach (var name in complete.Keys)
            {
                var arguments = new Dictionary<string, object?>(complete);
                arguments.Remove(name);
                var result = await mcp.CallAsync(tool.Name, arguments);
                var text = Text(result);
                Assert.True(result.IsError, $"{tool.Name} without {name} was not refused: {text}");
                Assert.Contains($"`{name}` is required", text);
                Assert.Equal("invalid_arguments", result.StructuredContent!.Value.GetProperty("error").GetString());
                checkedArguments++;
            }
        }
        Assert.True(checkedArguments > 0, $"role {role} has no tool with a required argument");
        Assert.Equal(before, await AuditCountAsync(factory));
    }

    [Theory]
    [InlineData(Roles.Agent)]
    [InlineData(Roles.Verifier)]
    [InlineData(Roles.Human)]
    public async Task EveryTool_IllTypedArgument_IsNamedWithItsTypeAndWhatArrived_AndNothingChanges(string role)
    {
        using var factory = await TestFactory.CreateAsync();
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await CallerAsync(factory, role));
        var before = await AuditCountAsync(factory);
        var checkedArguments = 0;
        foreach (var tool in await mcp.Client.ListToolsAsync())
        {
            var schema = tool.ProtocolTool.InputSchema;
            if (!schema.TryGetProperty("properties", out var properties))
                continue;
            foreach (var property in properties.EnumerateObject())
            {
                var (value, expected) = IllTyped(property.Value);
                var arguments = RequiredArguments(schema);
                arguments[property.Name] = value;
                var result = await mcp.CallAsync(tool.Name, arguments);
                var text = Text(result);
                Assert.True(result.IsError, $"{tool.Name} with {property.Name}={value} was not refused: {text}");
                var got = value is string s ? $"\"{s}\"" : value!.ToString()!;
                Assert.Contains($"`{property.Name}` must be {expected}", text);
                Assert.Contains($"got {got}", text);
                checkedArguments++;
            }
        }
        Assert.True(checkedArguments > 0, $"role {role} has no tool with arguments");
        Assert.Equal(before, await AuditCountAsync(factory));
    }

    [Fact]
    public async Task RecordEvidence_RunIdNotAnInteger_SaysWhatWasExpectedAndWhatArrived()
    {
        using var factory = await TestFactory.CreateAsync();
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var result = await mcp.CallAsync("record_evidence", new() { ["run_id"] = "abc", ["summary"] = "x" });
        Assert.True(result.IsError);
        var text = Text(result);
        Assert.Contains("record_evidence was not run", text);
        Assert.Contains("`run_id` must be an integer; got \"abc\"", text);
        Assert.Contains("`kind` is required (a string)", text);
        Assert.DoesNotContain("An error occurred", text);
        var problems = result.StructuredContent!.Value.GetProperty("problems");
        Assert.Equal(2, problems.GetArrayLength());
    }

    [Fact]
    public async Task MisspelledArgument_IsRefusedWithTheNameItResembles()
    {
        using var factory = await TestFactory.CreateAsync();
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var result = await mcp.CallAsync(
            "record_evidence",
            new()
            {
                ["rn_id"] = 1,
                ["kind"] = "plan",
                ["summary"] = "x",
            }
        );
        Assert.True(result.IsError);
        var text = Text(result);
        Assert.Contains("unknown argument `rn_id`: did you mean `run_id`?", text);
        Assert.Contains("`run_id` is required (an integer)", text);

        var unrelated = await mcp.CallAsync("get_task_packet", new() { ["colour"] = "blue" });
        Assert.True(unrelated.IsError);
        Assert.Contains("unknown argument `colour`: get_task_packet takes `task_id`, `new`", Text(unrelated));
    }

    [Fact]
    public async Task IntegerAsDigitString_StillBindsAsBefore()
    {
        using var factory = await TestFactory.CreateAsync();
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var result = await mcp.CallAsync(
            "record_evidence",
            new()
            {
                ["run_id"] = "42",
                ["kind"] = "plan",
                ["summary"] = "x",
                ["content"] = null,
            }
        );
        Assert.True(result.IsError);
        Assert.Contains("There is no run 42", Text(result));
    }

    [Fact]
    public async Task FractionalOrNullInteger_IsRefused()
    {
        using var factory = await TestFactory.CreateAsync();
        await using var mcp = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync());
        var fractional = await mcp.CallAsync(
            "declare_terminal_state",
            new()
            {
                ["run_id"] = 4.5,
                ["state"] = "NO_OP",
                ["summary"] = "x",
            }
        );
        Assert.Contains("`run_id` must be an integer; got 4.5", Text(fractional));
        var nothing = await mcp.CallAsync(
            "declare_terminal_state",
            new()
            {
                ["run_id"] = null,
                ["state"] = "NO_OP",
                ["summary"] = "x",
            }
        );
        Assert.Contains("`run_id` must be an integer; got null", Text(nothing));
    }

    [Fact]
    public async Task Stdio_MalformedCall_NamesTheArgument()
    {
        using var project = await HttpProject.CreateAsync();
        await using var client = await FactoryBinary.ConnectAsync(project.Path, "builder-1");
        var result = await client.CallToolAsync(
            "declare_terminal_state",
            new Dictionary<string, object?> { ["run_id"] = "abc", ["summary"] = "x" }
        );
        Assert.True(result.IsError);
        var text = Text(result);
        Assert.Contains("`run_id` must be an integer; got \"abc\"", text);
        Assert.Contains("`state` is required (a string)", text);
    }

    [Theory]
    [InlineData("2025-11-25")]
    [InlineData(null)]
    public async Task Http_MalformedCall_NamesTheArgument_InStatefulAndStatelessMode(string? protocolVersion)
    {
        using var project = await HttpProject.CreateAsync();
        var token = await project.AddAgentAsync("builder-1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var client = await server.ConnectAsync(token, protocolVersion);
        var result = await client.CallToolAsync(
            "declare_terminal_state",
            new Dictionary<string, object?> { ["run_id"] = "abc", ["summary"] = "x" }
        );
        Assert.True(result.IsError);
        var text = Text(result);
        Assert.Contains("`run_id` must be an integer; got \"abc\"", text);
        Assert.Contains("`state` is required (a string)", text);
    }
}
