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
