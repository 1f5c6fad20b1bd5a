using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Json;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Sessions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Server.Http;

/// <summary>
/// The SDK's session migration backed by the ledger (README, "A fleet of replicas"): every 2025-revision session
/// a replica opens is recorded with its initialize handshake and the credential that opened it; a request with an
/// Mcp-Session-Id this replica does not hold continues the session here when the ledger has it, for that same
/// credential only (another token: 403, as on the replica that holds it), and when it is not idle past
/// <c>http.session_idle_minutes</c>. Authentication runs first, so a revoked or re-issued token never gets this far.
/// </summary>
internal sealed partial class SessionMigration(SessionLedger sessions, TimeSpan idle, ILogger logger)
    : ISessionMigrationHandler
{
    private readonly ConcurrentDictionary<string, long> stamped = new(StringComparer.Ordinal);

    public async ValueTask OnSessionInitializedAsync(
        HttpContext context,
        string sessionId,
        InitializeRequestParams initializeParams,
        CancellationToken cancellationToken
    )
    {
        if (CallerClaims.Caller(context.User) is not { } caller || Credential(context.User) is not { } credential)
            return;
        var initialize = JsonSerializer.Serialize(
            initializeParams,
            McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(InitializeRequestParams))
        );
        try
        {
            await sessions.OpenAsync(sessionId, credential, caller.AgentId, initialize, idle, cancellationToken);
            stamped[sessionId] = Environment.TickCount64;
        }
        catch (LedgerException e)
        {
            // The session still works here; only moving it to another replica is lost.
            LogNotRecorded(logger, sessionId, e.Message);
        }
    }

    public async ValueTask<InitializeRequestParams?> AllowSessionMigrationAsync(
        HttpContext context,
        string sessionId,
        CancellationToken cancellationToken
    )
    {
        if (Credential(context.User) is not { } credential)
            return null;
        var resumption = await sessions.ResumeAsync(sessionId, credential, idle, cancellationToken);
        switch (resumption.Standing)
        {
            case SessionStanding.OtherCaller:
                throw new SessionRefusedException(
                    "Forbidden: The currently authenticated user does not match the user who initiated the session."
                );
            case SessionStanding.Resumed:
                stamped[sessionId] = Environment.TickCount64;
                LogResumed(logger, sessionId, CallerClaims.Caller(context.User)?.Name ?? "?");
                return JsonSerializer.Deserialize(
                        resumption.Initialize!,
                        McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(InitializeRequestParams))
                    ) as InitializeRequestParams;
            default:
                return null;
        }
    }

    /// <summary>
    /// Around /mcp: a refused migration becomes 403; a session's activity is stamped in the ledger at most once per
    /// <see cref="SessionLedger.StampPeriod"/> while this replica serves it; a session its client ends (DELETE) is
    /// forgotten by the ledger, so no replica resumes it.
    /// </summary>
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var sessionId = context.Request.Headers["Mcp-Session-Id"].ToString();
        var credential = sessionId.Length > 0 ? Credential(context.User) : null;
        if (credential is not null && !HttpMethods.IsDelete(context.Request.Method))
            await StampIfDueAsync(sessionId, credential, context.RequestAborted);
        try
        {
            await next(context);
        }
        catch (SessionRefusedException e)
        {
            await JsonRpcErrors.WriteAsync(context, StatusCodes.Status403Forbidden, e.Message);
            return;
        }
        if (
            credential is not null
            && HttpMethods.IsDelete(context.Request.Method)
            && context.Response.StatusCode is >= 200 and < 300
        )
        {
            stamped.TryRemove(sessionId, out _);
            await sessions.CloseAsync(sessionId, credential, CancellationToken.None);
        }
    }

    private async Task StampIfDueAsync(string sessionId, string credential, CancellationToken ct)
    {
        var now = Environment.TickCount64;
        if (stamped.TryGetValue(sessionId, out var last) && now - last < SessionLedger.StampPeriod.TotalMilliseconds)
            return;
        stamped[sessionId] = now;
        if (stamped.Count > 10_000)
            foreach (var (id, at) in stamped)
                if (now - at > idle.TotalMilliseconds + SessionLedger.StampPeriod.TotalMilliseconds)
                    stamped.TryRemove(id, out _);
        try
        {
            await sessions.StampAsync(sessionId, credential, ct);
        }
        catch (LedgerException e)
        {
            LogNotRecorded(logger, sessionId, e.Message);
        }
    }

    /// <summary>The credential the SDK binds a session to (the token's hash, or the anonymous agent).</summary>
    private static string? Credential(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true ? user.FindFirst(ClaimTypes.NameIdentifier)?.Value : null;

    [LoggerMessage(
        Level = LogLevel.Information,
        Message = "Resumed MCP session {SessionId} for {Caller} from the ledger"
    )]
    private static partial void LogResumed(ILogger logger, string sessionId, string caller);

    [LoggerMessage(
        Level = LogLevel.Warning,
        Message = "MCP session {SessionId}: the ledger did not record it ({Reason}); it cannot move to another replica"
    )]
    private static partial void LogNotRecorded(ILogger logger, string sessionId, string reason);
}

/// <summary>A session the ledger holds for another credential: answered 403 by <see cref="SessionMigration"/>.</summary>
internal sealed class SessionRefusedException(string message) : Exception(message);
