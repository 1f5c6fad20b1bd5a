using System.Text.Json;

namespace FactoryMcp.Tools.Gate.Reports;

/// <summary>One line of the per-test table: a test's outcome at base and at head (null: absent there), and the verdict.</summary>
public sealed record TestRow(string Id, TestStatus? Base, TestStatus? Head, string Verdict)
{
    public const string Regressed = "regressed";
    public const string Removed = "removed (allowed)";
    public const string Fixed = "fixed";
    public const string New = "new";
    public const string Same = "unchanged";

    /// <summary>Every test of base and head, sorted by id, with its verdict.</summary>
    public static IReadOnlyList<TestRow> Table(TestTable atBase, TestTable atHead, TestComparison comparison)
    {
        var verdicts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var c in comparison.Regressions)
            verdicts[c.Id] = Regressed;
        foreach (var c in comparison.AllowedRemovals)
            verdicts[c.Id] = Removed;
        foreach (var c in comparison.Fixed)
            verdicts[c.Id] = Fixed;
        foreach (var c in comparison.New)
            verdicts[c.Id] = New;
        return atBase
            .Tests.Keys.Union(atHead.Tests.Keys)
            .Order(StringComparer.Ordinal)
            .Select(id => new TestRow(
                id,
                atBase.Tests.GetValueOrDefault(id)?.Status,
                atHead.Tests.GetValueOrDefault(id)?.Status,
                verdicts.GetValueOrDefault(id, Same)
            ))
            .ToList();
    }

    public static string ToJson(IReadOnlyList<TestRow> rows) =>
        JsonSerializer.Serialize(rows, TestTable.Info<IReadOnlyList<TestRow>>());

    public static IReadOnlyList<TestRow> FromJson(string json) =>
        JsonSerializer.Deserialize(json, TestTable.Info<List<TestRow>>())!;
}
