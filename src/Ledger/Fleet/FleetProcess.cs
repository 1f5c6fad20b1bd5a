namespace FactoryMcp.Ledger.Fleet;

/// <summary>One replica or worker of the fleet as the registry holds it, with its state as of the ledger's now.</summary>
public sealed record FleetProcess
{
    public required string Id { get; init; }
    public required string Role { get; init; }
    public required string Host { get; init; }
    public required long Pid { get; init; }
    public required string Version { get; init; }
    public required bool Validates { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required DateTimeOffset LastHeartbeat { get; init; }
    public required long HeartbeatSeconds { get; init; }
    public required long JobsRunning { get; init; }
    public required long JobsDone { get; init; }
    public DateTimeOffset? StoppedAt { get; init; }

    /// <summary>Set when read: <c>alive</c>, <c>lost</c> (silent past <see cref="FleetLedger.LostAfterBeats"/> heartbeats) or <c>stopped</c>.</summary>
    public string State { get; init; } = "";

    internal const string Select = """
        SELECT id AS Id, role AS Role, host AS Host, pid AS Pid, version AS Version, validates AS Validates,
               started_at AS StartedAt, last_heartbeat AS LastHeartbeat, heartbeat_seconds AS HeartbeatSeconds,
               jobs_running AS JobsRunning, jobs_done AS JobsDone, stopped_at AS StoppedAt
        FROM fleet_processes
        """;
}

/// <summary>What waits in one line: tasks queued for a claim, validations queued and running.</summary>
public sealed record LineQueue(string Line, long TasksQueued, long ValidationsQueued, long ValidationsRunning);

/// <summary>The fleet as `factory fleet` and the dashboard show it.</summary>
public sealed record FleetView(
    DateTimeOffset Now,
    IReadOnlyList<FleetProcess> Processes,
    IReadOnlyList<LineQueue> Queues
);
