namespace FactoryMcp.Ledger.Evidence;

/// <summary>The evidence vocabulary of DESIGN section 2. Lines may declare more.</summary>
public static class EvidenceKinds
{
    public const string Plan = "plan";
    public const string Diff = "diff";
    public const string TestOutput = "test_output";
    public const string Reproduction = "reproduction";
    public const string Log = "log";
    public const string Screenshot = "screenshot";
    public const string Trace = "trace";
    public const string PrLink = "pr_link";
    public const string PostRunNote = "post_run_note";
    public const string Cost = "cost";

    /// <summary>The server's per-test comparison of base and head (a line with reports.junit); never an agent's.</summary>
    public const string TestReport = "test_report";

    public static readonly IReadOnlyList<string> BuiltIn =
    [
        Plan,
        Diff,
        TestOutput,
        Reproduction,
        Log,
        Screenshot,
        Trace,
        PrLink,
        PostRunNote,
        Cost,
    ];

    /// <summary>Kinds the server itself satisfies: it computes the diff and runs validation.</summary>
    public static readonly IReadOnlyList<string> ServerSatisfied = [Diff, TestOutput];

    public static bool IsWellFormed(string kind) =>
        kind.Length is > 0 and <= 40 && kind.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_');
}
