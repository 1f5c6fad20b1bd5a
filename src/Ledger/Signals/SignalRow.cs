namespace FactoryMcp.Ledger.Signals;

/// <summary>Raw demand: an issue, a failed CI run, a webhook, a line of an import file (DESIGN section 1).</summary>
public sealed record SignalRow
{
    public required long Id { get; init; }
    public required string Source { get; init; }
    public required string ExternalId { get; init; }
    public required string Title { get; init; }
    public required string Body { get; init; }
    public string? Url { get; init; }
    public required string LabelsJson { get; init; }
    public string? Author { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    public required string Status { get; init; }
    public string? StatusReason { get; init; }

    /// <summary>Source-specific details as JSON (a CI failure's workflow, run, head commit and failing jobs), or null.</summary>
    public string? DetailsJson { get; init; }

    /// <summary>The signal's key: source + external id, e.g. <c>github:acme/billing#123</c>.</summary>
    public string Key => $"{Source}:{ExternalId}";

    internal const string Select = """
        SELECT id AS Id, source AS Source, external_id AS ExternalId, title AS Title, body AS Body, url AS Url,
               labels_json AS LabelsJson, author AS Author, created_at AS CreatedAt, received_at AS ReceivedAt,
               status AS Status, status_reason AS StatusReason, details_json AS DetailsJson
        FROM signals
        """;
}

/// <summary>A signal as an importer or webhook hands it over.</summary>
public sealed record SignalInput(
    string Source,
    string ExternalId,
    string Title,
    string Body,
    string? Url,
    IReadOnlyList<string> Labels,
    string? Author,
    DateTimeOffset? CreatedAt,
    string? DetailsJson = null
);
