using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Server.Http;

/// <summary>
/// The live HTTP sessions of one server process. Idle sessions (no request in flight for longer than
/// the idle timeout) are pruned; at shutdown the rest are closed after in-flight requests drained.
/// </summary>
internal sealed partial class McpSessionStore(
    TimeSpan idleTimeout,
    TimeProvider time,
    ILogger logger,
    int maxSessions = 1000
)
{
    private readonly ConcurrentDictionary<string, McpHttpSession> sessions = new(StringComparer.Ordinal);

    public int Count => sessions.Count;

    public bool TryGet(string id, out McpHttpSession session) => sessions.TryGetValue(id, out session!);

    /// <summary>Adds a session, pruning idle ones first when the store is full. False when it stays full.</summary>
    public async Task<bool> TryAddAsync(McpHttpSession session)
    {
        if (sessions.Count >= maxSessions)
            await PruneAsync(force: true);
        if (sessions.Count >= maxSessions)
            return false;
        return sessions.TryAdd(session.Id, session);
    }

    public async Task<bool> RemoveAsync(string id)
    {
        if (!sessions.TryRemove(id, out var session))
            return false;
        await session.DisposeAsync();
        return true;
    }

    /// <summary>
    /// Closes sessions idle for longer than the timeout (or, with <paramref name="force"/>, the idlest
    /// tenth when the store is full). Returns how many were closed.
    /// </summary>
    public async Task<int> PruneAsync(bool force = false)
    {
        var now = time.GetUtcNow();
        var idle = sessions.Values.Where(s => !s.Busy).OrderBy(s => s.LastActivity).ToList();
        var due = idle.Where(s => now - s.LastActivity > idleTimeout).ToList();
        if (force && due.Count == 0)
            due = idle.Take(Math.Max(1, idle.Count / 10)).ToList();
        foreach (var session in due)
        {
            if (sessions.TryRemove(session.Id, out _))
            {
                LogPruned(logger, session.Id, session.Caller.Name);
                await session.DisposeAsync();
            }
        }
        return due.Count;
    }

    /// <summary>Prunes on a timer until <paramref name="ct"/> is cancelled.</summary>
    public async Task PruneLoopAsync(CancellationToken ct)
    {
        var period = TimeSpan.FromSeconds(Math.Clamp(idleTimeout.TotalSeconds / 4, 1, 60));
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
                await PruneAsync();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    public async Task DisposeAllAsync()
    {
        foreach (var id in sessions.Keys.ToList())
            await RemoveAsync(id);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed idle MCP session {SessionId} of {Caller}")]
    private static partial void LogPruned(ILogger logger, string sessionId, string caller);
}
