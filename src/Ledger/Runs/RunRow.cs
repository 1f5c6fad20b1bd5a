namespace FactoryMcp.Ledger.Runs;

public sealed record RunRow
{
    public required long Id { get; init; }
    public required long TaskId { get; init; }
    public required long AgentId { get; init; }
    public required string AgentName { get; init; }
    public required string Kind { get; init; }
    public required string State { get; init; }
    public required long PacketVersion { get; init; }
    public string? BaseSha { get; init; }
    public string? StartSha { get; init; }
    public long? PreviousRunId { get; init; }
    public string? QueueTarget { get; init; }
    public string? QueueNote { get; init; }
    public string? Workspace { get; init; }
    public string? RunRef { get; init; }
    public string? HeadSha { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    public DateTimeOffset? LeaseStartedAt { get; init; }
    public required DateTimeOffset OpenedAt { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public required long Refusals { get; init; }
    public string? TerminalState { get; init; }
    public string? CloseReason { get; init; }

    /// <summary>Why a human must review this accepted run whatever its line says (a benchmark too noisy to tell), or null.</summary>
    public string? ReviewReason { get; init; }

    /// <summary>Whether the workspace was prepared and the packet handed over (the lease has started).</summary>
    public bool Started => LeaseStartedAt is not null;

    internal const string Select = "SELECT " + Columns + " FROM runs r JOIN agents a ON a.id = r.agent_id";

    /// <summary>The columns of <see cref="Select"/>, in the order <see cref="Read"/> reads them.</summary>
    internal const string Columns = """
        r.id AS Id, r.task_id AS TaskId, r.agent_id AS AgentId, a.name AS AgentName, r.kind AS Kind, r.state AS State,
               r.packet_version AS PacketVersion, r.base_sha AS BaseSha, r.start_sha AS StartSha, r.previous_run_id AS PreviousRunId,
               r.queue_target AS QueueTarget, r.queue_note AS QueueNote, r.workspace AS Workspace, r.run_ref AS RunRef, r.head_sha AS HeadSha,
               r.lease_expires_at AS LeaseExpiresAt, r.lease_started_at AS LeaseStartedAt, r.opened_at AS OpenedAt,
               r.closed_at AS ClosedAt, r.refusals AS Refusals, r.terminal_state AS TerminalState, r.close_reason AS CloseReason,
               r.review_reason AS ReviewReason
        """;

    /// <summary>How many columns <see cref="Columns"/> lists.</summary>
    internal const int ColumnCount = 23;

    /// <summary>A run from <see cref="Columns"/> starting at column <paramref name="at"/> (hot reads, without the row mapper).</summary>
    internal static RunRow Read(System.Data.Common.DbDataReader r, int at = 0)
    {
        static long L(System.Data.Common.DbDataReader r, int i) => Storage.Columns.Long(r, i);
        static string? T(System.Data.Common.DbDataReader r, int i) => Storage.Columns.TextOrNull(r, i);
        return new RunRow
        {
            Id = L(r, at),
            TaskId = L(r, at + 1),
            AgentId = L(r, at + 2),
            AgentName = r.GetString(at + 3),
            Kind = r.GetString(at + 4),
            State = r.GetString(at + 5),
            PacketVersion = L(r, at + 6),
            BaseSha = T(r, at + 7),
            StartSha = T(r, at + 8),
            PreviousRunId = Storage.Columns.LongOrNull(r, at + 9),
            QueueTarget = T(r, at + 10),
            QueueNote = T(r, at + 11),
            Workspace = T(r, at + 12),
            RunRef = T(r, at + 13),
            HeadSha = T(r, at + 14),
            LeaseExpiresAt = Storage.Columns.AtOrNull(r, at + 15),
            LeaseStartedAt = Storage.Columns.AtOrNull(r, at + 16),
            OpenedAt = Storage.Columns.At(r, at + 17),
            ClosedAt = Storage.Columns.AtOrNull(r, at + 18),
            Refusals = L(r, at + 19),
            TerminalState = T(r, at + 20),
            CloseReason = T(r, at + 21),
            ReviewReason = T(r, at + 22),
        };
    }
}
