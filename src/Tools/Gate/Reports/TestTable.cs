using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace FactoryMcp.Tools.Gate.Reports;

/// <summary>
/// Every test of one Validation run, read from its JUnit reports: keyed by test id, with the report files read.
/// A test id seen twice (one report per project, a re-run) keeps its worst outcome.
/// </summary>
public sealed record TestTable(IReadOnlyDictionary<string, TestCaseResult> Tests, IReadOnlyList<string> Files)
{
    public int Count(TestStatus status) => Tests.Values.Count(t => t.Status == status);

    public string Summary =>
        $"{Tests.Count} test(s) in {Files.Count} report(s): {Count(TestStatus.Passed)} passed, {Count(TestStatus.Failed)} failed, {Count(TestStatus.Error)} errors, {Count(TestStatus.Skipped)} skipped, {Count(TestStatus.XFail)} xfail";

    public static TestTable Merge(IEnumerable<(string File, IReadOnlyList<TestCaseResult> Tests)> reports)
    {
        var tests = new Dictionary<string, TestCaseResult>(StringComparer.Ordinal);
        var files = new List<string>();
        foreach (var (file, results) in reports)
        {
            files.Add(file);
            foreach (var test in results)
                if (!tests.TryGetValue(test.Id, out var seen) || test.Status > seen.Status)
                    tests[test.Id] = test;
        }
        return new TestTable(tests, files);
    }

    /// <summary>The shape cached (and attested): files, then tests sorted by id, statuses as snake_case words.</summary>
    public string ToJson() =>
        JsonSerializer.Serialize(
            new Stored(Files, Tests.Values.OrderBy(t => t.Id, StringComparer.Ordinal).ToList()),
            Info<Stored>()
        );

    public static TestTable FromJson(string json)
    {
        var stored = JsonSerializer.Deserialize(json, Info<Stored>())!;
        return new TestTable(stored.Tests.ToDictionary(t => t.Id, StringComparer.Ordinal), stored.Files);
    }

    internal sealed record Stored(IReadOnlyList<string> Files, List<TestCaseResult> Tests);

    /// <summary>
    /// <see cref="Ledger.Json.Options"/> with statuses as snake_case words, over source-generated metadata
    /// (<see cref="TestJson"/>; the generic enum converter needs no run-time code generation).
    /// </summary>
    internal static readonly JsonSerializerOptions Options = new(Ledger.Json.Options)
    {
        TypeInfoResolver = TestJson.Default,
        Converters = { new JsonStringEnumConverter<TestStatus>(JsonNamingPolicy.SnakeCaseLower) },
    };

    internal static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));
}

/// <summary>Source-generated metadata for the test tables (see <see cref="TestTable.Options"/>).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull
)]
[JsonSerializable(typeof(TestTable.Stored))]
[JsonSerializable(typeof(List<TestRow>))]
[JsonSerializable(typeof(IReadOnlyList<TestRow>))]
internal sealed partial class TestJson : JsonSerializerContext;
