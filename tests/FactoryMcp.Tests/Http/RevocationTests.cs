using System.Net;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Http;

/// <summary>Revocation, re-issued tokens and role changes reach open MCP sessions on their next request.</summary>
public sealed class RevocationTests
{
    private static Dictionary<string, string> Session(string id) =>
        new() { ["Mcp-Session-Id"] = id, ["MCP-Protocol-Version"] = "2025-11-25" };

    private static async Task<HttpStatusCode> ToolsListAsync(HttpServerProcess server, string token, string session)
    {
        using var response = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.ToolsList, token, headers: Session(session))
        );
        return response.StatusCode;
    }

    [Fact]
    public async Task TokenRevokedMidSession_TheSessionsNextRequestIs401_InSessionsAndStateless()
    {
        using var project = await HttpProject.CreateAsync();
        var token = await project.AddAgentAsync("a1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var session = await server.ConnectAsync(token, "2025-11-25");
        await using var stateless = await server.ConnectAsync(token);
        Assert.NotEmpty(await session.ListToolsAsync());
        Assert.NotEmpty(await stateless.ListToolsAsync());

        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["agent", "revoke", "a1"])).ExitCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await ToolsListAsync(server, token, session.SessionId!));
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await stateless.ListToolsAsync());
        Assert.Contains("401", refused.ToString());
    }

    [Fact]
    public async Task RoleChangedMidSession_OldTokenIs401_NewTokenCannotReuseTheSession_ANewSessionHasTheNewRole()
    {
        using var project = await HttpProject.CreateAsync();
        var builderToken = await project.AddAgentAsync("a1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var session = await server.ConnectAsync(builderToken, "2025-11-25");
        Assert.Contains(await session.ListToolsAsync(), t => t.Name == "record_evidence");

        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["agent", "revoke", "a1"])).ExitCode);
        var verifierToken = await project.AddAgentAsync("a1", "verifier", "--verifier-role", "qa");

        Assert.Equal(HttpStatusCode.Unauthorized, await ToolsListAsync(server, builderToken, session.SessionId!));
        Assert.Equal(HttpStatusCode.Forbidden, await ToolsListAsync(server, verifierToken, session.SessionId!));
        foreach (var version in new[] { "2025-11-25", null })
        {
            await using var verifier = await server.ConnectAsync(verifierToken, version);
            var tools = (await verifier.ListToolsAsync()).Select(t => t.Name).ToList();
            Assert.Contains("submit_verdict", tools);
            Assert.DoesNotContain("record_evidence", tools);
        }
    }

    [Fact]
    public async Task TokenReissuedMidSession_OldTokenIs401_AndTheSessionServesOnlyTheTokenThatOpenedIt()
    {
        using var project = await HttpProject.CreateAsync();
        var first = await project.AddAgentAsync("a1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var session = await server.ConnectAsync(first, "2025-11-25");
        Assert.NotEmpty(await session.ListToolsAsync());

        var second = await project.AddAgentAsync("a1");

        Assert.Equal(HttpStatusCode.Unauthorized, await ToolsListAsync(server, first, session.SessionId!));
        Assert.Equal(HttpStatusCode.Forbidden, await ToolsListAsync(server, second, session.SessionId!));
        await using var fresh = await server.ConnectAsync(second, "2025-11-25");
        Assert.NotEmpty(await fresh.ListToolsAsync());
    }

    /// <summary>
    /// The attack from issue 15: a human opens an MCP session, the name is revoked and re-added as a builder.
    /// Neither token may use the human's session, stateless calls follow the registry, and the new token's
    /// sessions carry only builder tools.
    /// </summary>
    [Fact]
    public async Task HumanRevokedAndReAddedAsBuilder_TheHumansSessionServesNeitherToken_NoHumanToolRemains()
    {
        using var project = await HttpProject.CreateAsync();
        var humanToken = await project.AddAgentAsync("pat", "human");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var session = await server.ConnectAsync(humanToken, "2025-11-25");
        await using var stateless = await server.ConnectAsync(humanToken);
        Assert.Contains(await session.ListToolsAsync(), t => t.Name == "approve_task");
        Assert.Contains(await stateless.ListToolsAsync(), t => t.Name == "approve_task");

        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["agent", "revoke", "pat"])).ExitCode);
        var builderToken = await project.AddAgentAsync("pat");

        Assert.Equal(HttpStatusCode.Unauthorized, await ToolsListAsync(server, humanToken, session.SessionId!));
        Assert.Equal(HttpStatusCode.Forbidden, await ToolsListAsync(server, builderToken, session.SessionId!));
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await stateless.ListToolsAsync());
        Assert.Contains("401", refused.ToString());
        foreach (var version in new[] { "2025-11-25", null })
        {
            await using var builder = await server.ConnectAsync(builderToken, version);
            var tools = (await builder.ListToolsAsync()).Select(t => t.Name).ToList();
            Assert.Contains("record_evidence", tools);
            Assert.DoesNotContain("approve_task", tools);
            Assert.DoesNotContain("revoke_agent", tools);
        }
    }
}
