using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Attestations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Shipping;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tools.Shipping;

/// <summary>What `factory publish` did: the branch it pushed, and the draft PR when gh could open one.</summary>
public sealed record PublishResult(long RunId, string Sha, string Remote, string Branch, string? PrUrl, string Message);

/// <summary>
/// `factory publish RUN` (DESIGN section 11): after review approval, pushes the reviewed SHA from the
/// server's mirror to <c>factory/TASK-RUN</c> on the repository's remote with the server's own git
/// credentials, and opens a draft PR with <c>gh</c> when it is installed and authenticated. Recorded as
/// server evidence (<c>pr_link</c>).
/// </summary>
public sealed class Publisher(
    ShippingLedger shipping,
    RunLedger runs,
    TaskLedger tasks,
    EvidenceLedger evidence,
    AttestationLedger attestations,
    Mirrors mirrors
)
{
    /// <summary>The notes ref attestations are published on: one note per attested commit, the DSSE envelope as JSON.</summary>
    public const string NotesRef = "refs/notes/factory/attestations";

    public async Task<PublishResult> PublishAsync(Caller caller, long runId, CancellationToken ct = default)
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human publishes.");
        var sha = await shipping.ApprovedShaAsync(runId, ct);
        var run = await runs.GetAsync(runId, ct);
        var task = await tasks.GetAsync(run.TaskId, ct);
        var branch = $"factory/{task.Id}-{run.Id}";
        var remote = await RemoteOfAsync(task.Repo, ct);
        var mirror = mirrors.PathFor(task.Repo);
        var push = await GitRunner.RunAsync(
            ["push", "--quiet", "--no-verify", remote, $"{sha}:refs/heads/{branch}"],
            new GitRunner.Options { GitDir = mirror, UseUserConfig = true },
            ct
        );
        if (!push.Succeeded)
            throw new LedgerException($"Could not push {sha} to {remote} as {branch}: {push.StandardError.Trim()}");

        var attested = await PublishAttestationAsync(runId, sha, remote, mirror, ct);
        var (prUrl, note) = await OpenDraftPullRequestAsync(
            task.Repo,
            remote,
            branch,
            task.Title,
            runId,
            attested.Published
                ? $" Its signed attestation is the git note on {sha} in {NotesRef} (`factory attest verify {runId}`)."
                : "",
            ct
        );
        var message = prUrl is null
            ? $"Pushed {sha[..12]} to {remote} as {branch}. {attested.Message}{note}"
            : $"Pushed {sha[..12]} to {remote} as {branch} and opened draft PR {prUrl}. {attested.Message}";
        await evidence.RecordServerEvidenceAsync(
            runId,
            new ServerEvidence(EvidenceKinds.PrLink, message, prUrl ?? $"{remote} {branch}", Stage: "package"),
            ct
        );
        return new PublishResult(runId, sha, remote, branch, prUrl, message);
    }

    /// <summary>
    /// Adds the run's attestation as a git note on the published commit, in the mirror, and pushes the notes ref. A run
    /// without an attestation of this commit, or a push the remote refuses, is said in the message, never fatal.
    /// </summary>
    private async Task<(bool Published, string Message)> PublishAttestationAsync(
        long runId,
        string sha,
        string remote,
        string mirror,
        CancellationToken ct
    )
    {
        if (await attestations.ForRunAsync(runId, ct) is not { } attestation || attestation.HeadSha != sha)
            return (false, "No attestation of this commit to publish. ");
        var options = new GitRunner.Options { GitDir = mirror, StandardInput = attestation.Envelope };
        await GitRunner.OutputAsync(["notes", "--ref", NotesRef, "add", "-f", "-F", "-", sha], options, ct);
        var push = await GitRunner.RunAsync(
            ["push", "--quiet", "--no-verify", remote, $"{NotesRef}:{NotesRef}"],
            new GitRunner.Options { GitDir = mirror, UseUserConfig = true },
            ct
        );
        return push.Succeeded
            ? (true, $"Attestation pushed as a git note ({NotesRef}). ")
            : (false, $"The attestation note could not be pushed ({push.StandardError.Trim()}); it is in the mirror. ");
    }

    /// <summary>The repository's remote: the URL of a URL repository, else the local repository's origin, else the local repository itself.</summary>
    public static async Task<string> RemoteOfAsync(string repo, CancellationToken ct)
    {
        if (Mirrors.IsUrl(repo))
            return repo;
        var origin = await GitRunner.RunAsync(
            ["remote", "get-url", "origin"],
            new GitRunner.Options { WorkingDirectory = repo },
            ct
        );
        return origin.Succeeded && origin.StandardOutput.Trim().Length > 0 ? origin.StandardOutput.Trim() : repo;
    }

    private static async Task<(string? Url, string Note)> OpenDraftPullRequestAsync(
        string repo,
        string remote,
        string branch,
        string title,
        long runId,
        string attestation,
        CancellationToken ct
    )
    {
        ProcessResult auth;
        try
        {
            auth = await ProcessRunner.RunAsync(
                new ProcessSpec("gh", ["auth", "status"])
                {
                    Timeout = TimeSpan.FromSeconds(20),
                    WorkingDirectory = Mirrors.IsUrl(repo) ? null : repo,
                },
                ct
            );
        }
        catch (InvalidOperationException)
        {
            return (null, "gh is not installed, so no pull request was opened; the branch is there for one.");
        }
        if (auth.ExitCode != 0)
            return (
                null,
                "gh is not authenticated (`gh auth login`), so no pull request was opened; the branch is there for one."
            );
        var args = new List<string>
        {
            "pr",
            "create",
            "--draft",
            "--head",
            branch,
            "--title",
            title,
            "--body",
            $"Opened by FactoryMcp for run {runId}: validated by the server, verified blind, and reviewed by a human.{attestation}",
        };
        var created = await ProcessRunner.RunAsync(
            new ProcessSpec("gh", args)
            {
                Timeout = TimeSpan.FromSeconds(40),
                WorkingDirectory = Mirrors.IsUrl(repo) ? null : repo,
            },
            ct
        );
        if (created.ExitCode != 0)
            return (
                null,
                $"gh could not open a pull request ({created.StandardError.Trim()}); the branch is there for one."
            );
        var url = created
            .StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .LastOrDefault(l => l.StartsWith("http", StringComparison.Ordinal))
            ?.Trim();
        return (url, url is null ? "gh ran but printed no pull request URL." : "");
    }
}
