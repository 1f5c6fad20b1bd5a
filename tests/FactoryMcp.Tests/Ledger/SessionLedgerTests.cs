using FactoryMcp.Ledger.Sessions;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

/// <summary>The ledger's record of resumable MCP sessions: same credential only, idle expiry, closing.</summary>
public abstract class SessionLedgerTests(LedgerEngine engine) : EngineTests(engine)
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(30);
    private const string Initialize =
        """{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}""";

    [Fact]
    public async Task OpenedSession_ResumesForItsCredentialOnly_WithItsHandshake_AndTheIdIsStoredOnlyAsAHash()
    {
        using var factory = await CreateFactoryAsync();
        var builder = await factory.BuilderAsync();
        var sessions = new SessionLedger(factory.Services.Db);
        await sessions.OpenAsync("s-1", "token:aaa", builder.AgentId, Initialize, Idle);

        var resumed = await sessions.ResumeAsync("s-1", "token:aaa", Idle);
        Assert.Equal(SessionStanding.Resumed, resumed.Standing);
        Assert.Equal(Initialize, resumed.Initialize);
        Assert.Equal(SessionStanding.OtherCaller, (await sessions.ResumeAsync("s-1", "token:bbb", Idle)).Standing);
        Assert.Equal(SessionStanding.Unknown, (await sessions.ResumeAsync("s-2", "token:aaa", Idle)).Standing);
        var stored = await factory.Services.Db.QueryAsync<string>("SELECT session_hash FROM mcp_sessions");
        Assert.Equal([SessionLedger.Hash("s-1")], stored);
        Assert.DoesNotContain("s-1", stored);
    }

    [Fact]
    public async Task IdleSession_ExpiresAfterTheIdleTimeout_UnlessItsActivityWasStamped()
    {
        using var factory = await CreateFactoryAsync();
        var builder = await factory.BuilderAsync();
        var sessions = new SessionLedger(factory.Services.Db);
        await sessions.OpenAsync("busy", "token:aaa", builder.AgentId, Initialize, Idle);
        await sessions.OpenAsync("idle", "token:aaa", builder.AgentId, Initialize, Idle);

        factory.Time.Advance(TimeSpan.FromMinutes(25));
        await sessions.StampAsync("busy", "token:aaa");
        await sessions.StampAsync("idle", "token:other"); // another credential stamps nothing
        factory.Time.Advance(TimeSpan.FromMinutes(25));

        Assert.Equal(SessionStanding.Resumed, (await sessions.ResumeAsync("busy", "token:aaa", Idle)).Standing);
        Assert.Equal(SessionStanding.Expired, (await sessions.ResumeAsync("idle", "token:aaa", Idle)).Standing);
        Assert.Equal(SessionStanding.Unknown, (await sessions.ResumeAsync("idle", "token:aaa", Idle)).Standing);
    }

    [Fact]
    public async Task ClosedSession_IsNotResumed_AndOnlyItsOwnCredentialClosesIt()
    {
        using var factory = await CreateFactoryAsync();
        var builder = await factory.BuilderAsync();
        var sessions = new SessionLedger(factory.Services.Db);
        await sessions.OpenAsync("s-1", "token:aaa", builder.AgentId, Initialize, Idle);

        await sessions.CloseAsync("s-1", "token:bbb");
        Assert.Equal(SessionStanding.Resumed, (await sessions.ResumeAsync("s-1", "token:aaa", Idle)).Standing);
        await sessions.CloseAsync("s-1", "token:aaa");
        Assert.Equal(SessionStanding.Unknown, (await sessions.ResumeAsync("s-1", "token:aaa", Idle)).Standing);
    }
}

public sealed class SessionLedgerTestsOnSqlite() : SessionLedgerTests(LedgerEngine.Sqlite);

public sealed class SessionLedgerTestsOnPostgreSql() : SessionLedgerTests(LedgerEngine.PostgreSql);
