using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

public abstract class AgentRegistryTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task Authenticate_NewBuilderByNameAlone_RegistersAsAgent()
    {
        using var factory = await CreateFactoryAsync();
        var caller = await factory.Services.Agents.AuthenticateAsync("claude-1", null, null);
        Assert.Equal(Roles.Agent, caller.Role);
        Assert.Equal(Roles.Agent, (await factory.Services.Agents.FindAsync("claude-1"))!.Role);
    }

    [Fact]
    public async Task Authenticate_HumanWithToken_Succeeds_WithoutOrWithWrongToken_Refused()
    {
        using var factory = await CreateFactoryAsync();
        var (_, token) = await factory.Services.Agents.AddAsync("cli", "ada", Roles.Human, null, []);
        Assert.Equal(Roles.Human, (await factory.Services.Agents.AuthenticateAsync("ada", token, null)).Role);
        Assert.Contains(
            "needs FACTORY_TOKEN",
            (
                await Assert.ThrowsAsync<LedgerException>(() =>
                    factory.Services.Agents.AuthenticateAsync("ada", null, null)
                )
            ).Message
        );
        Assert.Contains(
            "does not match",
            (
                await Assert.ThrowsAsync<LedgerException>(() =>
                    factory.Services.Agents.AuthenticateAsync("ada", token + "x", null)
                )
            ).Message
        );
        Assert.DoesNotContain(
            token,
            await File.ReadAllTextAsync(factory.Paths.LedgerFile + "-wal")
                .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : "")
        );
    }

    [Fact]
    public async Task Authenticate_BuilderClaimingHumanRole_Refused()
    {
        using var factory = await CreateFactoryAsync();
        await factory.Services.Agents.AuthenticateAsync("sneaky", null, null);
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Agents.AuthenticateAsync("sneaky", null, Roles.Human)
        );
        Assert.Contains("registered as agent", e.Message);
        var e2 = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Agents.AuthenticateAsync("newcomer", null, Roles.Human)
        );
        Assert.Contains("only builders register on first contact", e2.Message);
        Assert.Null(await factory.Services.Agents.FindAsync("newcomer"));
    }

    [Fact]
    public async Task Revoked_AgentCannotConnect()
    {
        using var factory = await CreateFactoryAsync();
        await factory.Services.Agents.AuthenticateAsync("gone", null, null);
        await factory.Services.Agents.RevokeAsync("cli", "gone");
        await Assert.ThrowsAsync<LedgerException>(() => factory.Services.Agents.AuthenticateAsync("gone", null, null));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-dash")]
    [InlineData("has space")]
    [InlineData("pool:x")]
    public async Task Authenticate_BadName_Refused(string name)
    {
        using var factory = await CreateFactoryAsync();
        await Assert.ThrowsAsync<LedgerException>(() => factory.Services.Agents.AuthenticateAsync(name, null, null));
    }

    [Fact]
    public async Task Add_VerifierWithoutVerifierRole_Refused()
    {
        using var factory = await CreateFactoryAsync();
        await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Agents.AddAsync("cli", "v", Roles.Verifier, null, [])
        );
    }
}

public sealed class AgentRegistryTestsOnSqlite() : AgentRegistryTests(LedgerEngine.Sqlite);

public sealed class AgentRegistryTestsOnPostgreSql() : AgentRegistryTests(LedgerEngine.PostgreSql);
