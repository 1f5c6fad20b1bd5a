using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Content;

public sealed record DraftRow
{
    public required long Id { get; init; }
    public required long EventId { get; init; }
    public required string Kind { get; init; }
    public required string Status { get; init; }
    public required string Author { get; init; }
    public required string Content { get; init; }
    public required string BriefJson { get; init; }
    public required long Redactions { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public string? DecidedBy { get; init; }

    internal const string Select = """
        SELECT id AS Id, event_id AS EventId, kind AS Kind, status AS Status, author AS Author, content AS Content, brief_json AS BriefJson,
               redactions AS Redactions, created_at AS CreatedAt, updated_at AS UpdatedAt, decided_by AS DecidedBy
        FROM drafts
        """;
}

public static class DraftKinds
{
    public const string Blog = "blog";
    public const string Social = "social";
    public const string Changelog = "changelog";

    public static readonly IReadOnlyList<string> All = [Blog, Social, Changelog];
}

/// <summary>
/// Drafts are authoritative in the ledger (files under drafts/ are exports). Every content is redacted
/// before it is stored; one draft per (event, kind); nothing is ever published automatically: a human
/// sets the status to approved or rejected.
/// </summary>
public sealed class DraftLedger(LedgerDatabase db)
{
    public const int SocialLimit = 280;

    /// <summary>Stores a draft once per (event, kind); with <paramref name="replace"/> a writer's version replaces an undecided one.</summary>
    public async Task<(DraftRow Draft, bool Changed)> StoreAsync(
        string actor,
        long eventId,
        string kind,
        string content,
        string briefJson,
        string author,
        Redactor redactor,
        bool replace = false,
        CancellationToken ct = default
    )
    {
        if (!DraftKinds.All.Contains(kind))
            throw new LedgerException($"Draft kind '{kind}' is not one of {string.Join(", ", DraftKinds.All)}.");
        var clean = redactor.Redact(content);
        var text = clean.Text.Trim() + "\n";
        if (kind == DraftKinds.Social && text.TrimEnd().Length > SocialLimit)
            text = text.TrimEnd()[..(SocialLimit - 1)].TrimEnd() + "…\n";
        return await db.WriteAsync(
            actor,
            async w =>
            {
                var existing = await w.SingleOrDefaultAsync<DraftRow>(
                    DraftRow.Select + " WHERE event_id = @eventId AND kind = @kind",
                    SqlArgs.Of(new { eventId, kind })
                );
                if (existing is not null && (!replace || existing.Status != "drafted" || existing.Content == text))
                    return (existing, false);
                if (existing is null)
                {
                    var id = await w.ScalarAsync<long>(
                        """
                        INSERT INTO drafts (event_id, kind, status, author, content, brief_json, redactions, created_at, updated_at)
                        VALUES (@eventId, @kind, 'drafted', @author, @text, @briefJson, @count, @now, @now) RETURNING id
                        """,
                        SqlArgs.Of(
                            new
                            {
                                eventId,
                                kind,
                                author,
                                text,
                                briefJson,
                                count = clean.Count,
                                now = w.NowText,
                            }
                        )
                    );
                    await w.AuditAsync(
                        "draft.created",
                        "draft",
                        id,
                        new JsonObject
                        {
                            ["event_id"] = eventId,
                            ["kind"] = kind,
                            ["author"] = author,
                            ["redactions"] = clean.Count,
                        }
                    );
                    return (
                        (
                            await w.SingleOrDefaultAsync<DraftRow>(
                                DraftRow.Select + " WHERE id = @id",
                                SqlArgs.Of(new { id })
                            )
                        )!,
                        true
                    );
                }
                await w.ExecuteAsync(
                    "UPDATE drafts SET content = @text, author = @author, redactions = @count, updated_at = @now WHERE id = @id",
                    SqlArgs.Of(
                        new
                        {
                            text,
                            author,
                            count = clean.Count,
                            now = w.NowText,
                            id = existing.Id,
                        }
                    )
                );
                await w.AuditAsync(
                    "draft.replaced",
                    "draft",
                    existing.Id,
                    new JsonObject
                    {
                        ["event_id"] = eventId,
                        ["kind"] = kind,
                        ["author"] = author,
                        ["redactions"] = clean.Count,
                    }
                );
                return (
                    (
                        await w.SingleOrDefaultAsync<DraftRow>(
                            DraftRow.Select + " WHERE id = @id",
                            SqlArgs.Of(new { id = existing.Id })
                        )
                    )!,
                    true
                );
            },
            ct
        );
    }

    public async Task<DraftRow> DecideAsync(Caller caller, long draftId, string status, CancellationToken ct = default)
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human approves or rejects drafts.");
        if (status is not ("approved" or "rejected" or "drafted"))
            throw new LedgerException($"Status '{status}' is not approved, rejected or drafted.");
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var changed = await w.ExecuteAsync(
                    "UPDATE drafts SET status = @status, decided_by = @by, updated_at = @now WHERE id = @draftId",
                    SqlArgs.Of(
                        new
                        {
                            status,
                            by = caller.Name,
                            now = w.NowText,
                            draftId,
                        }
                    )
                );
                if (changed == 0)
                    throw new LedgerException($"There is no draft {draftId}; `factory drafts` lists them.");
                await w.AuditAsync("draft.decided", "draft", draftId, new JsonObject { ["status"] = status });
                return (
                    await w.SingleOrDefaultAsync<DraftRow>(
                        DraftRow.Select + " WHERE id = @draftId",
                        SqlArgs.Of(new { draftId })
                    )
                )!;
            },
            ct
        );
    }

    public async Task<IReadOnlyList<DraftRow>> ListAsync(long? eventId = null, CancellationToken ct = default) =>
        (
            await db.QueryAsync<DraftRow>(
                DraftRow.Select + " WHERE @eventId IS NULL OR event_id = @eventId ORDER BY event_id, kind",
                SqlArgs.Of(new { eventId }),
                ct
            )
        ).ToList();

    /// <summary>
    /// Shipped events of this ledger's environment that lack any of the three drafts, oldest first: what a
    /// server's content bridge still has to draft.
    /// </summary>
    public async Task<IReadOnlyList<long>> UndraftedEventsAsync(CancellationToken ct = default)
    {
        const string sql = """
            SELECT e.id FROM shipped_events e
            WHERE e.environment = @environment
              AND (SELECT count(DISTINCT d.kind) FROM drafts d WHERE d.event_id = e.id) < 3
            ORDER BY e.id
            """;
        return (await db.QueryAsync<long>(sql, SqlArgs.Of(new { environment = db.Environment }), ct)).ToList();
    }

    public async Task<DraftRow> GetAsync(long draftId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<DraftRow>(
            DraftRow.Select + " WHERE id = @draftId",
            SqlArgs.Of(new { draftId }),
            ct
        ) ?? throw new LedgerException($"There is no draft {draftId}.");

    /// <summary>The content task sent to a writer for an event, if any.</summary>
    public Task<long?> ContentTaskOfAsync(long eventId, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<long?>(
            "SELECT task_id FROM content_jobs WHERE event_id = @eventId",
            SqlArgs.Of(new { eventId }),
            ct
        );

    /// <summary>The shipped event a content task writes about, if it is one.</summary>
    public Task<long?> EventOfContentTaskAsync(long taskId, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<long?>(
            "SELECT event_id FROM content_jobs WHERE task_id = @taskId",
            SqlArgs.Of(new { taskId }),
            ct
        );

    public Task RecordContentJobAsync(string actor, long eventId, long taskId, CancellationToken ct = default) =>
        db.WriteAsync(
            actor,
            async w =>
            {
                await w.ExecuteAsync(
                    "INSERT INTO content_jobs (event_id, task_id) VALUES (@eventId, @taskId)",
                    SqlArgs.Of(new { eventId, taskId })
                );
                await w.AuditAsync("content.packet", "task", taskId, new JsonObject { ["event_id"] = eventId });
            },
            ct
        );

    public Task MarkContentAppliedAsync(string actor, long eventId, CancellationToken ct = default) =>
        db.WriteAsync(
            actor,
            w =>
                w.ExecuteAsync(
                    "UPDATE content_jobs SET applied_at = @now WHERE event_id = @eventId",
                    SqlArgs.Of(new { now = w.NowText, eventId })
                ),
            ct
        );
}
