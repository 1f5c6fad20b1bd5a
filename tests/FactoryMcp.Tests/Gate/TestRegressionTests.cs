using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Gate.Reports;

namespace FactoryMcp.Tests.Gate;

/// <summary>
/// Per-test non-regression with real pytest (Debian python3-pytest) writing real JUnit XML: Validation runs at base
/// and at head, and a test that passed at base must still pass at head.
/// </summary>
public abstract class TestRegressionTests(LedgerEngine engine) : EngineTests(engine)
{
    private const string Calc =
        "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n\n\ndef sub(a, b):\n    return a + b\n";
    private const string FixedCalc =
        "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n\n\ndef sub(a, b):\n    return a - b\n";
    private const string CalcTests =
        "from src.calc import add, mul, sub\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n\n\ndef test_sub():\n    assert sub(5, 3) == 2\n";
    private const string Pytest =
        "/usr/bin/python3 -m pytest -p no:cacheprovider -q --junitxml=reports/junit.xml tests";

    private static string Lines(string extra = "") => $"bugfix:\n  reports:\n    junit: reports/*.xml\n{extra}";

    private async Task<GateHarness> CreateAsync(string validation = Pytest, string extraLine = "")
    {
        Assert.True(
            File.Exists("/usr/lib/python3/dist-packages/pytest/__init__.py"),
            "pytest is not installed; install the Debian package python3-pytest"
        );
        var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(validation: validation, reproduction: null),
            lines: Lines(extraLine),
            extraFiles: new Dictionary<string, string>
            {
                ["src/__init__.py"] = "",
                ["src/calc.py"] = Calc,
                ["tests/__init__.py"] = "",
                ["tests/test_calc.py"] = CalcTests,
            },
            engine: Engine
        );
        await gate.PlanAsync();
        return gate;
    }

    private static async Task<string> TestReportAsync(GateHarness gate) =>
        (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId))
            .Last(e => e.Kind == "test_report" && e.Origin == "server")
            .Summary;

    [Fact]
    public async Task PrReady_HonestFix_IsAccepted_FixedTestCredited()
    {
        using var gate = await CreateAsync();
        await gate.WriteAsync("src/calc.py", FixedCalc);

        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        var evidence = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Single(e =>
            e.Kind == "test_report"
        );
        Assert.Contains("0 regressed, 1 fixed, 0 new", evidence.Summary);
        Assert.Contains("2 unchanged", evidence.Summary);
        Assert.Contains("| `tests.test_calc::test_sub` | failed | passed | fixed |", evidence.Content);
        // The whole table is a blob of rows, and the bundle verifiers read shows the comparison.
        var rows = TestRow.FromJson(
            System.Text.Encoding.UTF8.GetString(gate.Factory.Services.Blobs.Read(evidence.BlobSha!))
        );
        Assert.Equal(3, rows.Count);
        var bundle = await gate.Factory.Services.Bundles.BuildAsync(gate.RunId);
        Assert.Contains("## Tests, base → head", bundle.Markdown);
        Assert.Contains("test_sub", bundle.Markdown);
        // The attestation carries the per-test table.
        var stored = (await gate.Factory.Services.Attestations.ForRunAsync(gate.RunId))!;
        var statement = System.Text.Json.Nodes.JsonNode.Parse(
            Convert.FromBase64String(FactoryMcp.Tools.Attestation.Dsse.Parse(stored.Envelope).Payload)
        )!;
        var tests = statement["predicate"]!["tests"]!;
        Assert.Equal("reports/*.xml", (string?)tests["junit"]);
        Assert.Contains(
            tests["rows"]!.AsArray(),
            r =>
                (string?)r!["id"] == "tests.test_calc::test_sub"
                && (string?)r["base"] == "failed"
                && (string?)r["head"] == "passed"
                && (string?)r["verdict"] == "fixed"
        );
    }

    [Fact]
    public async Task PrReady_SkippingATestItBroke_IsRefusedNamingTheTest()
    {
        using var gate = await CreateAsync();
        await gate.WriteAsync("src/calc.py", FixedCalc.Replace("return a * b", "return a * b + 1"));
        await gate.WriteAsync(
            "tests/test_calc.py",
            "import pytest\n" + CalcTests.Replace("def test_mul", "@pytest.mark.skip(reason=\"flaky\")\ndef test_mul")
        );

        var e = await gate.RefusedAsync();

        Assert.Contains(
            e.Problems,
            p => p.Contains("test `tests.test_calc::test_mul` passed at base but is skipped at head")
        );
        Assert.Contains("1 regressed, 1 fixed", await TestReportAsync(gate));
    }

    [Fact]
    public async Task PrReady_MarkingATestExpectedToFail_IsRefusedNamingTheTest()
    {
        using var gate = await CreateAsync();
        await gate.WriteAsync("src/calc.py", FixedCalc.Replace("return a * b", "return a * b + 1"));
        await gate.WriteAsync(
            "tests/test_calc.py",
            "import pytest\n" + CalcTests.Replace("def test_mul", "@pytest.mark.xfail\ndef test_mul")
        );

        var e = await gate.RefusedAsync();

        Assert.Contains(
            e.Problems,
            p => p.Contains("test `tests.test_calc::test_mul` passed at base but is marked expected-to-fail at head")
        );
    }

    [Fact]
    public async Task PrReady_DeletingATestFunction_IsRefusedNamingTheTest()
    {
        using var gate = await CreateAsync();
        await gate.WriteAsync("src/calc.py", FixedCalc);
        await gate.WriteAsync(
            "tests/test_calc.py",
            CalcTests.Replace("def test_add():\n    assert add(2, 3) == 5\n\n\n", "")
        );

        var e = await gate.RefusedAsync();

        Assert.Contains(
            e.Problems,
            p => p.Contains("test `tests.test_calc::test_add` passed at base and is gone at head")
        );
    }

    [Fact]
    public async Task PrReady_DeletingATestFunction_WhenTheLineAllowsDeletion_IsAccepted()
    {
        using var gate = await CreateAsync(extraLine: "  allow_test_deletion: true\n");
        await gate.WriteAsync("src/calc.py", FixedCalc);
        await gate.WriteAsync(
            "tests/test_calc.py",
            CalcTests.Replace("def test_add():\n    assert add(2, 3) == 5\n\n\n", "")
        );

        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        Assert.Contains("1 removed (allowed)", await TestReportAsync(gate));
    }

    [Fact]
    public async Task PrReady_BreakingATest_IsRefusedNamingTheTest()
    {
        // `|| true`: the command's exit does not refuse, so only the per-test comparison can.
        using var gate = await CreateAsync(validation: Pytest + " || true");
        await gate.WriteAsync(
            "src/calc.py",
            FixedCalc.Replace("return a + b\n\n\ndef mul", "return a + b + 1\n\n\ndef mul")
        );

        var e = await gate.RefusedAsync();

        var problem = Assert.Single(e.Problems);
        Assert.Contains("test `tests.test_calc::test_add` passed at base but fails at head", problem);
    }

    [Fact]
    public async Task PrReady_AfterARefusal_NewTestIsListed_AndTheBaseRunComesFromTheCache()
    {
        using var gate = await CreateAsync();
        await gate.WriteAsync("src/calc.py", FixedCalc.Replace("return a * b", "return a * b + 1"));
        await gate.RefusedAsync();
        Assert.DoesNotContain(
            "(cached)",
            (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Single(e => e.Kind == "test_report").Content
        );

        await gate.WriteAsync("src/calc.py", FixedCalc);
        await gate.WriteAsync(
            "tests/test_more.py",
            "from src.calc import sub\n\n\ndef test_sub_negative():\n    assert sub(1, 3) == -2\n"
        );
        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        var evidence = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Last(e =>
            e.Kind == "test_report"
        );
        Assert.Contains("1 new", evidence.Summary);
        Assert.Contains("| `tests.test_more::test_sub_negative` | — | passed | new |", evidence.Content);
        Assert.Contains(
            "- base: 3 test(s) in 1 report(s): 2 passed, 1 failed, 0 errors, 0 skipped, 0 xfail (cached)",
            evidence.Content
        );
    }

    [Fact]
    public async Task PrReady_MalformedReport_IsRefusedClearly()
    {
        using var gate = await CreateAsync(
            validation: "mkdir -p reports && printf '<testsuites><testcase name=\"a\">' > reports/junit.xml"
        );
        await gate.WriteAsync("src/calc.py", FixedCalc);

        var e = await gate.RefusedAsync();

        Assert.Contains(
            e.Problems,
            p =>
                p.Contains("could not read the head's test reports")
                && p.Contains("`reports/junit.xml` is not well-formed XML")
        );
    }

    [Fact]
    public async Task PrReady_ReportWithADtd_IsRefused_EntitiesNeverExpanded()
    {
        const string laughs =
            "<?xml version=\"1.0\"?><!DOCTYPE t [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><testsuite><testcase name=\"&b;\"/></testsuite>";
        using var gate = await CreateAsync(
            validation: $"mkdir -p reports && printf '%s' '{laughs}' > reports/junit.xml"
        );
        await gate.WriteAsync("src/calc.py", FixedCalc);

        var e = await gate.RefusedAsync();

        Assert.Contains(e.Problems, p => p.Contains("could not read the head's test reports") && p.Contains("DTD"));
    }

    [Fact]
    public async Task PrReady_ReportCommittedInsteadOfWritten_IsRefused()
    {
        // The agent commits a report claiming every test passed, and Validation writes none: it is deleted before Validation runs.
        using var gate = await CreateAsync(validation: "true");
        await gate.WriteAsync("src/calc.py", FixedCalc);
        await gate.WriteAsync(
            "reports/junit.xml",
            "<testsuite><testcase classname=\"tests.test_calc\" name=\"test_add\"/></testsuite>"
        );

        var e = await gate.RefusedAsync();

        Assert.Contains(e.Problems, p => p.Contains("no test report matched reports.junit `reports/*.xml`"));
    }
}

public sealed class TestRegressionTestsOnSqlite() : TestRegressionTests(LedgerEngine.Sqlite);

public sealed class TestRegressionTestsOnPostgreSql() : TestRegressionTests(LedgerEngine.PostgreSql);
