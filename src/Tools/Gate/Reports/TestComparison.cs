using FactoryMcp.Ledger.Packets;

namespace FactoryMcp.Tools.Gate.Reports;

/// <summary>One test whose outcome differs between base and head (either side null: absent there).</summary>
public sealed record TestChange(string Id, TestStatus? AtBase, TestStatus? AtHead, string? Message);

/// <summary>
/// Base against head, test by test (README, "Per-test non-regression"). A test that passed at base regresses when at
/// head it fails, errors, is skipped, is expected to fail, or is gone; a gone test is allowed only when the task allows
/// test deletion and the test's file is in Scope and changed by the diff. Tests new at head, and tests that failed at
/// base and pass at head (fixed), are credited in the evidence.
/// </summary>
public sealed record TestComparison(
    IReadOnlyList<TestChange> Regressions,
    IReadOnlyList<TestChange> AllowedRemovals,
    IReadOnlyList<TestChange> Fixed,
    IReadOnlyList<TestChange> New,
    int Unchanged
)
{
    public static TestComparison Compare(
        TestTable atBase,
        TestTable atHead,
        bool allowTestDeletion,
        IReadOnlyList<string> scope,
        IReadOnlyList<string> changedTestFiles
    )
    {
        var regressions = new List<TestChange>();
        var removals = new List<TestChange>();
        var fixedTests = new List<TestChange>();
        var unchanged = 0;
        var inScope = new PathPatterns(scope);
        foreach (var (id, before) in atBase.Tests.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            atHead.Tests.TryGetValue(id, out var after);
            if (before.Status == TestStatus.Passed && after is null)
            {
                var change = new TestChange(id, before.Status, null, null);
                if (allowTestDeletion && FileOf(before, changedTestFiles) is { } file && inScope.Matches(file))
                    removals.Add(change);
                else
                    regressions.Add(change);
            }
            else if (before.Status == TestStatus.Passed && after!.Status != TestStatus.Passed)
                regressions.Add(new TestChange(id, before.Status, after.Status, after.Message));
            else if (before.Status is TestStatus.Failed or TestStatus.Error && after?.Status == TestStatus.Passed)
                fixedTests.Add(new TestChange(id, before.Status, after.Status, null));
            else
                unchanged++;
        }
        var added = atHead
            .Tests.Where(t => !atBase.Tests.ContainsKey(t.Key))
            .OrderBy(t => t.Key, StringComparer.Ordinal)
            .Select(t => new TestChange(t.Key, null, t.Value.Status, t.Value.Message))
            .ToList();
        return new TestComparison(regressions, removals, fixedTests, added, unchanged);
    }

    /// <summary>
    /// The changed test file a base test lived in: the report's <c>file</c> when it gives one, else its class read as a
    /// module path (pytest's <c>tests.test_calc</c> or <c>tests.test_calc.TestX</c> is <c>tests/test_calc.py</c>).
    /// </summary>
    private static string? FileOf(TestCaseResult test, IReadOnlyList<string> changedTestFiles)
    {
        if (test.File is { Length: > 0 } file)
            return changedTestFiles.FirstOrDefault(c => c == file.TrimStart('.', '/'));
        var owner = test.Id.Split("::", 2)[0].Replace('.', '/');
        return changedTestFiles.FirstOrDefault(c =>
        {
            var dot = c.LastIndexOf('.');
            var stem = dot > c.LastIndexOf('/') ? c[..dot] : c;
            return owner == stem || owner.StartsWith(stem + "/", StringComparison.Ordinal);
        });
    }

    /// <summary>One refusal per regressed test, naming it and what happened.</summary>
    public IEnumerable<string> Problems() =>
        Regressions.Select(r =>
            r.AtHead is { } status
                ? $"test `{r.Id}` passed at base but {Describe(status)} at head{(r.Message is { } m ? $" ({m})" : "")}; fix the code, not the test"
                : $"test `{r.Id}` passed at base and is gone at head; removing a test needs allow_test_deletion and its file in Scope (a human decides that)"
        );

    public static string Describe(TestStatus status) =>
        status switch
        {
            TestStatus.Failed => "fails",
            TestStatus.Error => "errors",
            TestStatus.Skipped => "is skipped",
            TestStatus.XFail => "is marked expected-to-fail",
            _ => "passes",
        };
}
