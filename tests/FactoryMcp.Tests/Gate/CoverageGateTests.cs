using System.Text.Json.Nodes;
using FactoryMcp.Tools.Attestation;

namespace FactoryMcp.Tests.Gate;

/// <summary>
/// Coverage against thresholds with real tools: pytest under Debian's python3-coverage writes a real Cobertura (or
/// LCOV) report at base and head, and the gate reads it with the change's diff.
/// </summary>
public sealed class CoverageGateTests
{
    // Base: add is tested, sub is neither tested nor right (3 of 4 lines covered, 75%).
    private const string Calc = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a + b\n";
    private const string FixedCalc = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n";
    private const string Tests = "from src.calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n";
    private const string TestsWithSub =
        "from src.calc import add, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n";
    private const string Run =
        "/usr/bin/python3 -m coverage run --source=src -m pytest -p no:cacheprovider -q tests && /usr/bin/python3 -m coverage ";

    private static async Task<GateHarness> CreateAsync(string coverage, string report = "xml -o coverage.xml")
    {
        Assert.True(
            File.Exists("/usr/lib/python3/dist-packages/coverage/__init__.py"),
            "coverage.py is not installed; install the Debian package python3-coverage"
        );
        var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(validation: Run + report, reproduction: null),
            lines: $"bugfix:\n  coverage:\n{coverage}",
            extraFiles: new Dictionary<string, string>
            {
                ["src/__init__.py"] = "",
                ["src/calc.py"] = Calc,
                ["tests/__init__.py"] = "",
                ["tests/test_calc.py"] = Tests,
            }
        );
        await gate.PlanAsync();
        return gate;
    }

    private static async Task<FactoryMcp.Ledger.Evidence.EvidenceRow> CoverageEvidenceAsync(GateHarness gate) =>
        (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Last(e =>
            e.Kind == "coverage_report" && e.Origin == "server"
        );

    [Fact]
    public async Task PrReady_HonestChangeWithATest_IsAccepted_FiguresInEvidenceBundleAndAttestation()
    {
        using var gate = await CreateAsync(
            "    report: coverage.xml\n    min_line: 90\n    min_changed_lines: 100\n    no_decrease: true\n"
        );
        await gate.WriteAsync("src/calc.py", FixedCalc);
        await gate.WriteAsync("tests/test_calc.py", TestsWithSub);

        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        var evidence = await CoverageEvidenceAsync(gate);
        Assert.Contains("head 100.0% (4 of 4 lines), base 75.0% (3 of 4 lines)", evidence.Summary);
        Assert.Contains("changed lines 100.0% (1 of 1 lines)", evidence.Summary);
        var bundle = await gate.Factory.Services.Bundles.BuildAsync(gate.RunId);
        Assert.Contains("## Coverage, base → head", bundle.Markdown);
        var stored = (await gate.Factory.Services.Attestations.ForRunAsync(gate.RunId))!;
        var coverage = JsonNode.Parse(Convert.FromBase64String(Dsse.Parse(stored.Envelope).Payload))!["predicate"]![
            "coverage"
        ]!;
        Assert.Equal("coverage.xml", (string?)coverage["report"]);
        Assert.Equal(100.0, (double?)coverage["head"]!["percent"]);
        Assert.Equal(75.0, (double?)coverage["base"]!["percent"]);
        Assert.Equal(1, (int?)coverage["changed_lines"]!["coverable"]);
        Assert.Empty(coverage["uncovered_changed_lines"]!.AsArray());
    }

    [Fact]
    public async Task PrReady_ChangedLinesLeftUncovered_IsRefusedNamingTheLines()
    {
        using var gate = await CreateAsync("    report: coverage.xml\n    min_changed_lines: 80\n");
        // The fix is right, but no test runs it: line 6 of src/calc.py is changed and uncovered.
        await gate.WriteAsync("src/calc.py", FixedCalc);

        var e = await gate.RefusedAsync();

        var problem = Assert.Single(e.Problems);
        Assert.Contains(
            "coverage of the changed lines is 0.0% (0 of 1 lines), below coverage.min_changed_lines 80%",
            problem
        );
        Assert.Contains("uncovered changed lines: src/calc.py:6", problem);
        Assert.Contains("- `src/calc.py`: 6", (await CoverageEvidenceAsync(gate)).Content);
    }

    [Fact]
    public async Task PrReady_LoweringCoverage_IsRefused_BaseServedFromTheCacheNextTime()
    {
        using var gate = await CreateAsync("    report: coverage.xml\n    no_decrease: true\n");
        // Untested code added: total coverage falls from 75% to 50%.
        await gate.WriteAsync(
            "src/calc.py",
            FixedCalc + "\n\ndef mul(a, b):\n    if a == 0:\n        return 0\n    return a * b\n"
        );

        var e = await gate.RefusedAsync();

        var problem = Assert.Single(e.Problems);
        Assert.Contains(
            "line coverage fell from 75.0% (3 of 4 lines) at base to 50.0% (4 of 8 lines) at head (coverage.no_decrease)",
            problem
        );
        Assert.Contains("uncovered changed lines: src/calc.py:6, 10-12", problem);

        // Tested now: accepted, and base's coverage came from the cache.
        await gate.WriteAsync(
            "tests/test_calc.py",
            TestsWithSub
                + "\n\ndef test_mul():\n    from src.calc import mul\n    assert mul(0, 3) == 0\n    assert mul(2, 3) == 6\n"
        );
        var result = await gate.DeclareAsync();
        Assert.Equal("accepted", result.Outcome);
        Assert.Contains(
            "- base: 75.0% of lines (3 of 4) in 1 file(s), 1 report(s) (cached)",
            (await CoverageEvidenceAsync(gate)).Content
        );
    }

    [Fact]
    public async Task PrReady_LcovReportFromCoveragePy_UncoveredChangedLinesNamed()
    {
        using var gate = await CreateAsync(
            "    report: coverage/lcov.info\n    min_changed_lines: 100\n",
            report: "lcov -o coverage/lcov.info"
        );
        await gate.WriteAsync("src/calc.py", FixedCalc);

        var e = await gate.RefusedAsync();

        Assert.Contains(e.Problems, p => p.Contains("uncovered changed lines: src/calc.py:6"));
    }

    [Fact]
    public async Task PrReady_CoverageReportCommittedInsteadOfWritten_IsRefused()
    {
        // The agent commits a report claiming full coverage; Validation writes none. It is deleted before Validation runs.
        using var gate = await CreateAsync("    report: coverage.xml\n    min_line: 50\n", report: "--version");
        await gate.WriteAsync("src/calc.py", FixedCalc);
        await gate.WriteAsync(
            "coverage.xml",
            "<coverage><packages><package><classes><class filename=\"src/calc.py\"><lines><line number=\"6\" hits=\"1\"/></lines></class></classes></package></packages></coverage>"
        );

        var e = await gate.RefusedAsync();

        Assert.Contains(
            e.Problems,
            p =>
                p.Contains(
                    "could not read the head's coverage report: no coverage report matched coverage.report `coverage.xml`"
                )
        );
    }
}
