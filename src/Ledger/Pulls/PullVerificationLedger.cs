using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Verification;

namespace FactoryMcp.Ledger.Pulls;

/// <summary>The head of a pull request opened by a person, as its signed webhook named it.</summary>
public sealed record PullHead(
    string Repository,
    long Number,
    string HeadSha,
    string BaseSha,
    string? Author,
    string? Url
);

public sealed record PullVerificationRow
{
    public required long Id { get; init; }
    public required string Repository { get; init; }
    public required long Number { get; init; }
    public required string HeadSha { get; init; }
    public required string BaseSha { get; init; }
    public string? Author { get; init; }
    public string? Url { get; init; }
    public long? TaskId { get; init; }
    public long? RunId { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>null while verifiers are at work; then <c>posted</c> or <c>not_posted</c> (with the reason in <see cref="CommentNote"/>).</summary>
    public string? CommentStatus { get; init; }
    public string? CommentNote { get; init; }

    internal const string Select = """
        SELECT id AS Id, repository AS Repository, number AS Number, head_sha AS HeadSha, base_sha AS BaseSha,
               author AS Author, url AS Url, task_id AS TaskId, run_id AS RunId, created_at AS CreatedAt,
               comment_status AS CommentStatus, comment_note AS CommentNote
        FROM pull_verifications
        """;
}

/// <summary>
/// Verification-only jobs for pull requests opened by people (README, "Opened pull requests"). One per (repository,
/// pull request, head commit): a task made directly in <c>awaiting_verification</c>, holding a packet the server
/// writes (never the pull request's title, description or commit messages), and an accepted run at the head whose
/// diff the server computed. The line's verifiers claim it like any other run, blind; once every role has spoken
/// the task ends <c>no_op</c> (nothing for the factory to ship) and the verdicts go back to the pull request.
/// </summary>
public sealed class PullVerificationLedger(LedgerDatabase db)
{
    /// <summary>The agent the runs of pull-request verifications belong to: a revoked row, so it never authenticates.</summary>
    public const string AuthorAgent = "github-pull-requests";

    public const string RunKind = "pull_request";
    public const string Posted = "posted";
    public const string NotPosted = "not_posted";

    public static readonly Caller Hook = new(0, "hook:github", "server");

    public async Task<PullVerificationRow?> FindAsync(
        string repository,
        long number,
        string headSha,
        CancellationToken ct = default
    ) =>
        await db.QuerySingleOrDefaultAsync<PullVerificationRow>(
            PullVerificationRow.Select + " WHERE repository = @repository AND number = @number AND head_sha = @headSha",
            SqlArgs.Of(
                new
                {
                    repository,
                    number,
                    headSha,
                }
            ),
            ct
        );

    public async Task<PullVerificationRow?> ForTaskAsync(long taskId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<PullVerificationRow>(
            PullVerificationRow.Select + " WHERE task_id = @taskId",
            SqlArgs.Of(new { taskId }),
            ct
        );

    public async Task<IReadOnlyList<PullVerificationRow>> ListAsync(int limit, CancellationToken ct = default) =>
        (
            await db.QueryAsync<PullVerificationRow>(
                PullVerificationRow.Select + " ORDER BY id DESC LIMIT @limit",
                SqlArgs.Of(new { limit }),
                ct
            )
        ).ToList();

    /// <summary>
    /// Makes the verification of one pull request head, all in one transaction: the row (the first delivery of a
    /// head wins; a repeat returns the existing one with Created false), the task awaiting verification, its
    /// accepted run at the head and the server's diff as the run's evidence.
    /// </summary>
    public Task<(PullVerificationRow Row, bool Created)> StartAsync(
        PullHead pull,
        string repo,
        string markdown,
        Packet packet,
        TaskSettings settings,
        string diff,
        CancellationToken ct = default
    )
    {
        if (settings.Verifiers.Count == 0)
            throw new LedgerException(
                $"Line {packet.Line} has no verifiers: give it `verifiers:` in lines.yaml to verify pull requests of {pull.Repository}."
            );
        return db.WriteAsync(
            Hook.Actor,
            async w =>
            {
                var id = await w.SingleOrDefaultAsync<long?>(
                    """
                    INSERT INTO pull_verifications (repository, number, head_sha, base_sha, author, url, created_at)
                    VALUES (@repository, @number, @headSha, @baseSha, @author, @url, @now)
                    ON CONFLICT (repository, number, head_sha) DO NOTHING
                    RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            repository = pull.Repository,
                            number = pull.Number,
                            headSha = pull.HeadSha,
                            baseSha = pull.BaseSha,
                            author = pull.Author,
                            url = pull.Url,
                            now = w.NowText,
                        }
                    )
                );
                if (id is null)
                    return (
                        (
                            await w.SingleOrDefaultAsync<PullVerificationRow>(
                                PullVerificationRow.Select
                                    + " WHERE repository = @repository AND number = @number AND head_sha = @headSha",
                                SqlArgs.Of(
                                    new
                                    {
                                        repository = pull.Repository,
                                        number = pull.Number,
                                        headSha = pull.HeadSha,
                                    }
                                )
                            )
                        )!,
                        false
                    );
                await w.ExecuteAsync(
                    """
                    INSERT INTO agents (name, role, created_at, created_by, revoked_at) VALUES (@name, 'agent', @now, 'server', @now)
                    ON CONFLICT (name) DO NOTHING
                    """,
                    SqlArgs.Of(new { name = AuthorAgent, now = w.NowText })
                );
                var agentId = await w.ScalarAsync<long>(
                    "SELECT id FROM agents WHERE name = @name",
                    SqlArgs.Of(new { name = AuthorAgent })
                );
                var taskId = await TaskLedger.InsertProposalAsync(
                    w,
                    Hook,
                    markdown,
                    packet,
                    repo,
                    null,
                    null,
                    $"verification of pull request {pull.Repository}#{pull.Number} at {pull.HeadSha}"
                );
                // Made for verification alone: no human approves it and no builder ever claims it.
                await w.ExecuteAsync(
                    """
                    UPDATE tasks SET state = 'awaiting_verification', base_sha = @baseSha, approved_version = 1, settings_json = @settings, updated_at = @now WHERE id = @taskId
                    """,
                    SqlArgs.Of(
                        new
                        {
                            baseSha = pull.BaseSha,
                            settings = settings.ToJson(),
                            now = w.NowText,
                            taskId,
                        }
                    )
                );
                var runId = await w.ScalarAsync<long>(
                    """
                    INSERT INTO runs (task_id, agent_id, kind, state, packet_version, base_sha, start_sha, head_sha, opened_at, accepted_at)
                    VALUES (@taskId, @agentId, @kind, 'accepted', 1, @baseSha, @baseSha, @headSha, @now, @now)
                    RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            taskId,
                            agentId,
                            kind = RunKind,
                            baseSha = pull.BaseSha,
                            headSha = pull.HeadSha,
                            now = w.NowText,
                        }
                    )
                );
                await EvidenceLedger.AddServerEvidenceAsync(
                    w,
                    runId,
                    EvidenceKinds.Diff,
                    $"git diff {pull.BaseSha[..12]}...{pull.HeadSha[..12]} (server)",
                    diff,
                    null,
                    null,
                    "verify"
                );
                await w.ExecuteAsync(
                    "UPDATE pull_verifications SET task_id = @taskId, run_id = @runId WHERE id = @id",
                    SqlArgs.Of(
                        new
                        {
                            taskId,
                            runId,
                            id,
                        }
                    )
                );
                await w.AuditAsync(
                    "pull_request.verification_started",
                    "task",
                    taskId,
                    new JsonObject
                    {
                        ["repository"] = pull.Repository,
                        ["number"] = pull.Number,
                        ["head_sha"] = pull.HeadSha,
                        ["base_sha"] = pull.BaseSha,
                        ["run_id"] = runId,
                        ["state"] = TaskStates.AwaitingVerification,
                        ["verifiers"] = Json.Array(settings.Verifiers),
                    }
                );
                return (
                    (
                        await w.SingleOrDefaultAsync<PullVerificationRow>(
                            PullVerificationRow.Select + " WHERE id = @id",
                            SqlArgs.Of(new { id })
                        )
                    )!,
                    true
                );
            },
            ct
        );
    }

    /// <summary>Inside a verdict's transaction, once every role has spoken: a pull-request verification just ends.</summary>
    internal static async Task<(string State, string Message)?> FinishAsync(
        LedgerWrite w,
        RunRow run,
        TaskRow task,
        IReadOnlyList<VerdictRow> verdicts
    )
    {
        var pull = await w.SingleOrDefaultAsync<PullVerificationRow>(
            PullVerificationRow.Select + " WHERE task_id = @taskId",
            SqlArgs.Of(new { taskId = task.Id })
        );
        if (pull is null)
            return null;
        var tally = string.Join(
            ", ",
            verdicts.GroupBy(v => v.Verdict).OrderBy(g => g.Key).Select(g => $"{g.Count()} {g.Key}")
        );
        await StateMachine.MoveTaskAsync(
            w,
            task.Id,
            TaskStates.NoOp,
            "task.pull_request_verified",
            new JsonObject
            {
                ["run_id"] = run.Id,
                ["repository"] = pull.Repository,
                ["number"] = pull.Number,
                ["verdicts"] = Json.Array(
                    verdicts.Select(v => (JsonNode?)new JsonObject { ["role"] = v.Role, ["verdict"] = v.Verdict })
                ),
            }
        );
        return (
            TaskStates.NoOp,
            $"Every role has spoken on pull request {pull.Repository}#{pull.Number} ({tally}); the verification is finished and its verdicts go to the pull request."
        );
    }

    /// <summary>Records whether the verdicts reached the pull request as a comment, and why not.</summary>
    public Task RecordCommentAsync(long id, bool posted, string note, CancellationToken ct = default) =>
        db.WriteAsync(
            Hook.Actor,
            async w =>
            {
                await w.ExecuteAsync(
                    "UPDATE pull_verifications SET comment_status = @status, comment_note = @note WHERE id = @id",
                    SqlArgs.Of(
                        new
                        {
                            status = posted ? Posted : NotPosted,
                            note,
                            id,
                        }
                    )
                );
                await w.AuditAsync(
                    posted ? "pull_request.comment_posted" : "pull_request.comment_not_posted",
                    "pull_verification",
                    id,
                    new JsonObject { ["note"] = note }
                );
            },
            ct
        );
}
