using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tools.Gate;

/// <summary>One changed path of <c>base...head</c>, with renames detected.</summary>
public sealed record DiffChange(char Status, string? OldPath, string? NewPath, string OldMode, string NewMode)
{
    /// <summary>For a symlink at head, the path it points to (the link's blob), read from the mirror.</summary>
    public string? SymlinkTarget { get; init; }

    public IEnumerable<string> Paths => new[] { OldPath, NewPath }.Where(p => p is not null).Distinct()!;
    public bool IsSymlink => NewMode == "120000" || OldMode == "120000";
    public bool IsSubmodule => NewMode == "160000" || OldMode == "160000";
}

/// <summary>What the diff says about a declaration: the unmet conditions and what verifiers should see.</summary>
public sealed record DiffReport(
    IReadOnlyList<DiffChange> Changes,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string> EditedTests,
    IReadOnlyList<string> AddedOrChangedTests
);

/// <summary>
/// Condition 5 of the gate (DESIGN section 5): the diff <c>base...head</c> is non-empty for output pr,
/// touches only Scope (both sides of a rename), nothing in Non-Goals, adds no symlink or submodule
/// outside Scope, and deletes no test file unless allowed. Edited tests are flagged for verifiers.
/// </summary>
public static class DiffInspector
{
    public static async Task<IReadOnlyList<DiffChange>> ChangesAsync(
        string mirror,
        string baseSha,
        string headSha,
        CancellationToken ct = default
    )
    {
        // Unrelated histories have no merge base; the head check reports that, and the diff is then taken against base itself.
        var found = await GitRunner.RunAsync(
            ["merge-base", baseSha, headSha],
            new GitRunner.Options { GitDir = mirror },
            ct
        );
        var mergeBase = found.Succeeded ? found.StandardOutput.Trim() : baseSha;
        var raw = await GitRunner.OutputAsync(
            ["diff-tree", "-r", "-z", "-M", "--no-commit-id", mergeBase, headSha],
            new GitRunner.Options { GitDir = mirror },
            ct
        );
        var changes = Parse(raw);
        // A link's target is its blob: read each new symlink's so Scope can be checked where it points.
        var withTargets = new List<DiffChange>(changes.Count);
        foreach (var change in changes)
            withTargets.Add(
                change.NewMode == "120000" && change.NewPath is { } path
                    ? change with
                    {
                        SymlinkTarget = await GitRunner.OutputAsync(
                            ["cat-file", "blob", $"{headSha}:{path}"],
                            new GitRunner.Options { GitDir = mirror },
                            ct
                        ),
                    }
                    : change
            );
        return withTargets;
    }

    public static IReadOnlyList<DiffChange> Parse(string raw)
    {
        var fields = raw.Split('\0');
        var changes = new List<DiffChange>();
        for (var i = 0; i < fields.Length; i++)
        {
            var header = fields[i];
            if (!header.StartsWith(':'))
                continue;
            var parts = header[1..].Split(' ');
            var status = parts[4][0];
            var first = fields[++i];
            if (status is 'R' or 'C')
                changes.Add(new DiffChange(status, status == 'R' ? first : null, fields[++i], parts[0], parts[1]));
            else if (status == 'A')
                changes.Add(new DiffChange(status, null, first, parts[0], parts[1]));
            else if (status == 'D')
                changes.Add(new DiffChange(status, first, null, parts[0], parts[1]));
            else
                changes.Add(new DiffChange(status, first, first, parts[0], parts[1]));
        }
        return changes;
    }

    public static DiffReport Inspect(IReadOnlyList<DiffChange> changes, Packet packet, TaskSettings settings)
    {
        var problems = new List<string>();
        var scope = new PathPatterns(packet.Scope);
        var nonGoals = new PathPatterns(packet.NonGoals);
        var tests = new PathPatterns(settings.TestGlobs);
        if (changes.Count == 0 && packet.FrontMatter.Output == "pr")
            problems.Add(
                "the diff base...head is empty: a PR needs a change. Make it in your workspace (or declare NO_OP with a reason)."
            );

        var edited = new List<string>();
        var testChanges = new List<string>();
        foreach (var change in changes)
        {
            foreach (var path in change.Paths)
            {
                var kind =
                    change.IsSubmodule ? "submodule"
                    : change.IsSymlink ? "symlink"
                    : "path";
                if (!scope.Matches(path))
                    problems.Add(
                        $"{kind} `{path}` ({Describe(change.Status)}) is outside Scope ({string.Join(", ", packet.Scope)}); revert it or ESCALATE if the task needs it"
                    );
                if (nonGoals.MatchingRule(path) is { } rule)
                    problems.Add(
                        $"`{path}` ({Describe(change.Status)}) is under Non-Goals (`{rule}`); the task must not touch it"
                    );
            }
            if (change.SymlinkTarget is { } target && change.NewPath is { } link && !PointsInside(link, target, scope))
                problems.Add(
                    $"symlink `{link}` points to `{target}`, outside Scope ({string.Join(", ", packet.Scope)}); a link may only point inside Scope"
                );
            var oldIsTest = change.OldPath is { } o && tests.Matches(o);
            var newIsTest = change.NewPath is { } n && tests.Matches(n);
            var deletesTest = oldIsTest && (change.Status == 'D' || (change.Status == 'R' && !newIsTest));
            if (deletesTest && !settings.AllowTestDeletion)
                problems.Add(
                    $"deletes test file `{change.OldPath}`; deleting tests needs allow_test_deletion (a human decides that)"
                );
            if (oldIsTest && change.Status is 'M' or 'R' or 'T' or 'D')
                edited.Add(change.OldPath!);
            if (newIsTest && change.Status is 'A' or 'M' or 'R' or 'C' or 'T')
                testChanges.Add(change.NewPath!);
        }
        return new DiffReport(changes, problems, edited.Distinct().ToList(), testChanges.Distinct().ToList());
    }

    /// <summary>Whether a relative link target, resolved from the link's folder, stays in the repository and in Scope.</summary>
    private static bool PointsInside(string link, string target, PathPatterns scope)
    {
        if (target.StartsWith('/') || target.Length == 0)
            return false;
        var parts = new List<string>(link.Split('/')[..^1]);
        foreach (var part in target.TrimEnd('/').Split('/'))
        {
            if (part is "" or ".")
                continue;
            if (part == "..")
            {
                if (parts.Count == 0)
                    return false;
                parts.RemoveAt(parts.Count - 1);
            }
            else
                parts.Add(part);
        }
        return parts.Count > 0 && scope.Matches(string.Join('/', parts));
    }

    private static string Describe(char status) =>
        status switch
        {
            'A' => "added",
            'D' => "deleted",
            'R' => "renamed",
            'C' => "copied",
            'T' => "type changed",
            _ => "modified",
        };
}
