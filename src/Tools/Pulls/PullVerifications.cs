using System.Globalization;
using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Pulls;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Verification;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Processes;
using FactoryMcp.Tools.Shipping;
using FactoryMcp.Tools.Tasks;

namespace FactoryMcp.Tools.Pulls;

/// <summary>
/// Verification-only jobs for pull requests opened by people (README, "Opened pull requests"): fetches the head
/// (<c>refs/pull/N/head</c>) into the server's mirror, computes the diff from the base, and has the line's verifiers
/// judge it blind through the usual verifier tools; once every role has spoken, posts the verdicts back as a pull
/// request comment with <c>gh</c>, or records why it could not.
/// </summary>
public sealed class PullVerifications(
    PullVerificationLedger pulls,
    VerificationLedger verifications,
    Mirrors mirrors,
    RepositoryResolver repositories,
    ConfigFiles config
)
{
    /// <summary>The branch prefix of the factory's own pull requests (Publisher: <c>factory/TASK-RUN</c>).</summary>
    public const string FactoryBranchPrefix = "factory/";

    /// <summary>Why a pull request is the factory's own (so not verified again), or null when a person opened it.</summary>
    public string? FactoryMade(string? headRef, string? author, string? authorType)
    {
        if (headRef is not null && headRef.StartsWith(FactoryBranchPrefix, StringComparison.Ordinal))
            return $"its branch {headRef} is a factory run's ({FactoryBranchPrefix}TASK-RUN)";
        if (
            author is not null
            && config.Settings.PullRequests.FactoryLogins.Contains(author, StringComparer.OrdinalIgnoreCase)
        )
            return $"its author {author} is listed in pull_requests.factory_logins";
        if (authorType == "Bot")
            return $"its author {author ?? "(unknown)"} is a bot account";
        return null;
    }

    /// <summary>The newest verifications of pull request heads, newest first (`factory triggers` lists them).</summary>
    public Task<IReadOnlyList<PullVerificationRow>> RecentAsync(int limit, CancellationToken ct = default) =>
        pulls.ListAsync(limit, ct);

    /// <summary>One line saying where a verification stands: awaiting verdicts, or whether they reached the pull request.</summary>
    public static string Describe(PullVerificationRow row) =>
        $"{row.Repository}#{row.Number} at {row.HeadSha[..12]}  task {row.TaskId}  "
        + (row.CommentStatus is null ? "awaiting verdicts" : $"verdicts in; {row.CommentNote}");

    /// <summary>Starts the verification of one pull request head, or says why not; a repeated head starts nothing.</summary>
    public async Task<string> StartAsync(PullHead pull, PullRequestVerification entry, CancellationToken ct = default)
    {
        var name = $"{pull.Repository}#{pull.Number}";
        if (!CommitSha.IsFull(pull.HeadSha) || !CommitSha.IsFull(pull.BaseSha))
            throw new LedgerException($"The event for pull request {name} has no full head and base SHA.");
        if (await pulls.FindAsync(pull.Repository, pull.Number, pull.HeadSha, ct) is { } known)
            return $"pull request {name} at {pull.HeadSha[..12]} is already verified by task {known.TaskId}";
        var line =
            config.Lines.Find(entry.Line)
            ?? throw new LedgerException(
                $"pull_requests.verify names line {entry.Line} for {pull.Repository}, which lines.yaml does not define; nothing was recorded."
            );
        if (line.Verifiers.Count == 0)
            throw new LedgerException(
                $"Line {entry.Line} has no verifiers (lines.yaml `verifiers:`), so nobody can review pull request {name}; nothing was recorded."
            );
        var repo = await repositories.ResolveAsync(entry.Repo, ct);
        var mirror = await mirrors.RefreshAsync(repo, ct);
        await FetchHeadAsync(repo, mirror, pull, ct);
        var options = new GitRunner.Options { GitDir = mirror, Timeout = TimeSpan.FromSeconds(30) };
        if (!(await GitRunner.RunAsync(["cat-file", "-e", pull.BaseSha + "^{commit}"], options, ct)).Succeeded)
            throw new LedgerException(
                $"The base {pull.BaseSha} of pull request {name} is not in the repository {repo}; nothing was recorded."
            );
        var diff = await GitRunner.OutputAsync(
            ["diff", "--no-color", "--no-ext-diff", "--no-textconv", $"{pull.BaseSha}...{pull.HeadSha}"],
            options,
            ct
        );
        var markdown = Packet(pull, entry.Line, repo);
        var packet = PacketParser.Parse(markdown, config.Lines);
        var (row, created) = await pulls.StartAsync(
            pull,
            repo,
            markdown,
            packet,
            TaskSettings.Merge(packet, line),
            diff,
            ct
        );
        return created
            ? $"pull request {name} at {pull.HeadSha[..12]}: task {row.TaskId} awaits blind verification by {string.Join(", ", line.Verifiers)}"
            : $"pull request {name} at {pull.HeadSha[..12]} is already verified by task {row.TaskId}";
    }

    /// <summary>
    /// Fetches <c>refs/pull/N/head</c> from the repository's remote into the mirror (GitHub serves it for forks
    /// too), and checks it holds the head the event names.
    /// </summary>
    private static async Task FetchHeadAsync(string repo, string mirror, PullHead pull, CancellationToken ct)
    {
        var remote = await Publisher.RemoteOfAsync(repo, ct);
        var number = pull.Number.ToString(CultureInfo.InvariantCulture);
        var options = new GitRunner.Options { GitDir = mirror, Timeout = TimeSpan.FromSeconds(30) };
        using var _ = await RepositoryLock.AcquireAsync(mirror, ct);
        var fetched = await GitRunner.RunAsync(
            [
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-recurse-submodules",
                remote,
                $"+refs/pull/{number}/head:refs/factory/pulls/{number}",
            ],
            options,
            ct
        );
        if (
            !fetched.Succeeded
            && !(await GitRunner.RunAsync(["cat-file", "-e", pull.HeadSha + "^{commit}"], options, ct)).Succeeded
        )
            throw new LedgerException(
                $"The head of pull request {pull.Repository}#{pull.Number} could not be fetched from {remote} (refs/pull/{number}/head): {(fetched.TimedOut ? "timed out" : fetched.StandardError.Trim())}. A pull request from a fork is verified through the base repository's refs/pull/{number}/head; nothing was recorded."
            );
        if (!(await GitRunner.RunAsync(["cat-file", "-e", pull.HeadSha + "^{commit}"], options, ct)).Succeeded)
            throw new LedgerException(
                $"refs/pull/{number}/head on {remote} does not hold the head {pull.HeadSha} the event names (a later push's own event verifies that one); nothing was recorded."
            );
    }

    /// <summary>The packet verifiers read: written by the server, never the pull request's title, description or commit messages.</summary>
    private static string Packet(PullHead pull, string line, string repo) =>
        $"""
            ---
            line: {line}
            repo: {repo}
            base: {pull.BaseSha}
            ---
            # Pull request {pull.Repository}#{pull.Number} at {pull.HeadSha[..12]}

            ## Intent
            Review the change of pull request {pull.Repository}#{pull.Number}, from base `{pull.BaseSha}` to head `{pull.HeadSha}`, on its merits alone. Its title, description, author and commit messages are left out on purpose: judge the diff and the tree at head, as you would a factory run.

            ## Scope
            - **

            ## Validation
            - `git diff --check`

            ## Evidence Required
            - diff

            """;

    /// <summary>
    /// After a verdict: when it finished a pull request's verification, posts every verdict back as a comment with
    /// <c>gh</c> and records whether it was posted (and why not). Returns what happened, or null for other tasks.
    /// </summary>
    public async Task<string?> AfterVerdictAsync(long taskId, string taskState, CancellationToken ct = default)
    {
        if (taskState != TaskStates.NoOp || await pulls.ForTaskAsync(taskId, ct) is not { } pull)
            return null;
        if (pull.CommentStatus is not null)
            return pull.CommentNote;
        var verdicts = await verifications.ForRunAsync(pull.RunId!.Value, ct);
        var body = Comment(pull, verdicts);
        var (posted, note) = await PostAsync(pull, body, ct);
        await pulls.RecordCommentAsync(pull.Id, posted, note, CancellationToken.None);
        return note;
    }

    private static string Comment(PullVerificationRow pull, IReadOnlyList<VerdictRow> verdicts)
    {
        var sb = new StringBuilder();
        sb.AppendLine(
            CultureInfo.InvariantCulture,
            $"**FactoryMcp blind verification** of `{pull.HeadSha[..12]}` (the verifiers saw the diff and the tree, not the description):"
        );
        sb.AppendLine();
        foreach (var v in verdicts)
            sb.AppendLine(
                CultureInfo.InvariantCulture,
                $"- **{v.Role}**: {v.Verdict} — {v.Findings.ReplaceLineEndings(" ")}"
            );
        return sb.ToString();
    }

    private static async Task<(bool Posted, string Note)> PostAsync(
        PullVerificationRow pull,
        string body,
        CancellationToken ct
    )
    {
        ProcessResult auth;
        try
        {
            auth = await ProcessRunner.RunAsync(
                new ProcessSpec("gh", ["auth", "status"]) { Timeout = TimeSpan.FromSeconds(20) },
                ct
            );
        }
        catch (InvalidOperationException)
        {
            return (false, "not posted: gh is not available (install the GitHub CLI on the server to post verdicts)");
        }
        if (auth.ExitCode != 0)
            return (false, "not posted: gh is not authenticated (`gh auth login` on the server)");
        var posted = await ProcessRunner.RunAsync(
            new ProcessSpec(
                "gh",
                [
                    "pr",
                    "comment",
                    pull.Number.ToString(CultureInfo.InvariantCulture),
                    "--repo",
                    pull.Repository,
                    "--body-file",
                    "-",
                ]
            )
            {
                Timeout = TimeSpan.FromSeconds(30),
                StandardInput = body,
            },
            ct
        );
        return posted.ExitCode == 0
            ? (true, $"posted to {pull.Repository}#{pull.Number}")
            : (false, $"not posted: gh pr comment failed ({posted.StandardError.Trim()})");
    }
}
