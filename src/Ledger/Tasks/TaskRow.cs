namespace FactoryMcp.Ledger.Tasks;

public sealed record TaskRow
{
    public required long Id { get; init; }
    public required string Title { get; init; }
    public required string Line { get; init; }
    public required string State { get; init; }
    public required long Priority { get; init; }
    public required string Output { get; init; }
    public required string Repo { get; init; }
    public string? BaseRef { get; init; }
    public string? BaseSha { get; init; }
    public required long CurrentVersion { get; init; }
    public long? ApprovedVersion { get; init; }
    public string? SettingsJson { get; init; }
    public required long Attempts { get; init; }
    public required long Reworks { get; init; }
    public required string AuthoredBy { get; init; }
    public required string AuthorRole { get; init; }
    public long? SignalId { get; init; }
    public string? Target { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    internal const string Columns = """
        t.id AS Id, t.title AS Title, t.line AS Line, t.state AS State, t.priority AS Priority, t.output AS Output,
        t.repo AS Repo, t.base_ref AS BaseRef, t.base_sha AS BaseSha, t.current_version AS CurrentVersion,
        t.approved_version AS ApprovedVersion, t.settings_json AS SettingsJson, t.attempts AS Attempts,
        t.reworks AS Reworks, t.authored_by AS AuthoredBy, t.author_role AS AuthorRole, t.signal_id AS SignalId, t.target AS Target,
        t.created_at AS CreatedAt, t.updated_at AS UpdatedAt
        """;

    /// <summary>How many columns <see cref="Columns"/> lists.</summary>
    internal const int ColumnCount = 20;

    /// <summary>A task from <see cref="Columns"/> starting at column <paramref name="at"/> (hot reads, without the row mapper).</summary>
    internal static TaskRow Read(System.Data.Common.DbDataReader r, int at = 0)
    {
        static long L(System.Data.Common.DbDataReader r, int i) => Storage.Columns.Long(r, i);
        static string? T(System.Data.Common.DbDataReader r, int i) => Storage.Columns.TextOrNull(r, i);
        return new TaskRow
        {
            Id = L(r, at),
            Title = r.GetString(at + 1),
            Line = r.GetString(at + 2),
            State = r.GetString(at + 3),
            Priority = L(r, at + 4),
            Output = r.GetString(at + 5),
            Repo = r.GetString(at + 6),
            BaseRef = T(r, at + 7),
            BaseSha = T(r, at + 8),
            CurrentVersion = L(r, at + 9),
            ApprovedVersion = Storage.Columns.LongOrNull(r, at + 10),
            SettingsJson = T(r, at + 11),
            Attempts = L(r, at + 12),
            Reworks = L(r, at + 13),
            AuthoredBy = r.GetString(at + 14),
            AuthorRole = r.GetString(at + 15),
            SignalId = Storage.Columns.LongOrNull(r, at + 16),
            Target = T(r, at + 17),
            CreatedAt = Storage.Columns.At(r, at + 18),
            UpdatedAt = Storage.Columns.At(r, at + 19),
        };
    }
}

public sealed record PacketVersionRow
{
    public required long TaskId { get; init; }
    public required long Version { get; init; }
    public required string Markdown { get; init; }
    public required string ParsedJson { get; init; }
    public required string Author { get; init; }
    public string? Note { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    internal const string Columns = """
        task_id AS TaskId, version AS Version, markdown AS Markdown, parsed_json AS ParsedJson, author AS Author,
        note AS Note, created_at AS CreatedAt
        """;
}
