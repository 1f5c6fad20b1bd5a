using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Gate.Coverage;
using FactoryMcp.Tools.Gate.Reports;

namespace FactoryMcp.Tests.Gate;

/// <summary>The coverage formats the gate reads, their paths made repository-relative, and the diff's changed lines.</summary>
public sealed class CoverageReaderTests : IDisposable
{
    private readonly TempDirectory checkout = new();

    public CoverageReaderTests()
    {
        Directory.CreateDirectory(Path.Combine(checkout.Path, "src/pkg"));
        File.WriteAllText(Path.Combine(checkout.Path, "src/pkg/calc.py"), "");
        File.WriteAllText(Path.Combine(checkout.Path, "src/app.js"), "");
    }

    private IReadOnlyList<(string File, int Line, long Hits)> Read(string text) =>
        CoverageReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(text)), "cov", new PathMap(checkout.Path));

    [Fact]
    public void Read_Lcov_WithFunctionAndBranchRecords_AbsoluteAndRelativePaths()
    {
        var lines = Read(
            $"""
            TN:
            SF:{checkout.Path}/src/app.js
            FN:1,main
            FNDA:1,main
            FNF:1
            FNH:1
            DA:1,1
            DA:2,0
            DA:3,12,Zm9vYmFy
            BRDA:2,0,0,-
            BRF:1
            BRH:0
            LF:3
            LH:2
            end_of_record
            SF:src/pkg/calc.py
            DA:0,1
            DA:4,0
            end_of_record
            """
        );
        Assert.Equal(
            [
                ("src/app.js", 1, 1L),
                ("src/app.js", 2, 0L),
                ("src/app.js", 3, 12L),
                ("src/pkg/calc.py", 0, 1L),
                ("src/pkg/calc.py", 4, 0L),
            ],
            lines
        );
        var table = CoverageTable.Merge([("lcov.info", lines)]);
        Assert.Equal(4, table.Coverable); // coverage.py's line 0 of an empty module is not a line
        Assert.Equal(2, table.Covered);
        Assert.Equal(table.Coverable, CoverageTable.FromJson(table.ToJson()).Coverable);
    }

    [Fact]
    public void Read_CoberturaWithDoctypeAndSources_PathsRelativeToTheCheckout()
    {
        // coverage.py run with --source=src writes filenames relative to <source>, and a DOCTYPE naming Cobertura's DTD.
        var lines = Read(
            $"""
            <?xml version="1.0" ?>
            <!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
            <coverage line-rate="0.5"><sources><source>{checkout.Path}/src</source></sources>
            <packages><package name="pkg"><classes><class name="calc.py" filename="pkg/calc.py">
            <methods><method name="f"><lines><line number="1" hits="3"/></lines></method></methods>
            <lines><line number="1" hits="3"/><line number="2" hits="0"/></lines></class></classes></package></packages></coverage>
            """
        );
        var table = CoverageTable.Merge([("coverage.xml", lines)]);
        Assert.Equal(["src/pkg/calc.py"], table.Files.Keys);
        Assert.Equal(2, table.Coverable);
        Assert.Equal(1, table.Covered);
    }

    [Theory]
    [InlineData(
        "<!DOCTYPE coverage [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><coverage><sources><source>&e;</source></sources></coverage>",
        "not well-formed"
    )]
    [InlineData("<report/>", "neither Cobertura XML")]
    [InlineData("hello world\n", "is not an LCOV record")]
    [InlineData("TN:\nDA:1,1\n", "DA: outside a SF: record")]
    [InlineData("SF:a.py\nDA:x,1\nend_of_record\n", "not a number")]
    public void Read_BrokenOrHostileReport_ThrowsNamingTheFile(string text, string expected)
    {
        var e = Assert.Throws<ReportException>(() => Read(text));
        Assert.Contains("cov", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ChangedLines_Parse_AddedAndModifiedLinesOfHead_RenamesAndDeletionsHandled()
    {
        var changed = ChangedLines.Parse(
            """
            diff --git a/src/calc.py b/src/calc.py
            --- a/src/calc.py
            +++ b/src/calc.py
            @@ -6 +6 @@ def sub(a, b):
            -    return a + b
            +    return a - b
            @@ -8,0 +9,3 @@
            +def mul(a, b):
            +    return a * b
            +
            diff --git a/old.py b/new.py
            similarity index 90%
            rename from old.py
            rename to new.py
            --- a/old.py
            +++ b/new.py
            @@ -3,2 +3,0 @@
            -x = 1
            -y = 2
            diff --git a/gone.py b/gone.py
            deleted file mode 100644
            --- a/gone.py
            +++ /dev/null
            @@ -1 +0,0 @@
            -z = 3
            """
        );
        Assert.Equal([6, 9, 10, 11], changed["src/calc.py"]);
        Assert.Empty(changed["new.py"]);
        Assert.False(changed.ContainsKey("gone.py"));
        Assert.Equal("3, 5-7, 12", ChangedLines.Ranges([12, 5, 3, 6, 7]));
    }

    [Fact]
    public void Figures_UncoveredChangedLinesListed_OnlyCoverableLinesCount()
    {
        var head = CoverageTable.Merge([
            ("c.xml", [("src/a.py", 1, 1L), ("src/a.py", 2, 0L), ("src/a.py", 3, 0L), ("src/b.py", 1, 1L)]),
        ]);
        var changed = new Dictionary<string, IReadOnlySet<int>>
        {
            ["src/a.py"] = new SortedSet<int> { 2, 3, 4 }, // line 4 is blank: not coverable
            ["README.md"] = new SortedSet<int> { 1 }, // not in the report: not counted
        };
        var figures = CoverageFigures.Compute(
            new CoverageSettings { Report = "c.xml", MinChangedLines = 50 },
            head,
            null,
            changed
        );
        Assert.Equal(new LineCount(0, 2), figures.Changed);
        Assert.Equal("src/a.py:2-3", CoverageFigures.List(figures.Uncovered));
        Assert.Contains("below coverage.min_changed_lines 50%", Assert.Single(figures.Problems));
    }

    [Theory]
    [InlineData("coverage: {min_line: 80}", "coverage.report must name the report")]
    [InlineData("coverage: {report: c.xml, min_line: 120}", "coverage.min_line is a percentage between 0 and 100")]
    [InlineData("coverage: {report: ../c.xml, min_line: 1}", "must stay inside the checkout")]
    [InlineData("coverage: {report: c.xml}", "needs at least one of min_line")]
    [InlineData("benchmarks: [{command: x, metric: '([0-9'}]", "is not a valid regular expression")]
    [InlineData("benchmarks: [{command: x, metric: '$.a[', direction: up}]", "is not a JSON path")]
    [InlineData(
        "benchmarks: [{command: x, metric: 't=(\\d+)', direction: up}]",
        "benchmarks[0].direction must be `lower`"
    )]
    [InlineData(
        "benchmarks: [{command: x, metric: 't=(\\d+)', tolerance: lots}]",
        "benchmarks[0].tolerance must be a percentage"
    )]
    [InlineData(
        "benchmarks: [{command: x, metric: 't=(\\d+)', runs: 2}]",
        "benchmarks[0].runs must be between 3 and 30"
    )]
    [InlineData("benchmarks: [{metric: 't=(\\d+)'}]", "benchmarks[0].command must be one non-empty command line")]
    public void LineCatalog_BadCoverageOrBenchmarks_AreRefusedNamingTheKey(string yaml, string expected)
    {
        var e = Assert.Throws<LedgerException>(() => LineCatalog.Parse($"web:\n  {yaml}\n"));
        Assert.Contains(e.Problems, p => p.StartsWith("line web: ", StringComparison.Ordinal) && p.Contains(expected));
    }

    [Fact]
    public void LineCatalog_SpecLineWithCoverageOrBenchmarks_IsRefused()
    {
        var e = Assert.Throws<LedgerException>(() =>
            LineCatalog.Parse(
                "spec:\n  coverage: {report: c.xml, min_line: 1}\n  benchmarks: [{command: x, metric: 'y'}]\n"
            )
        );
        Assert.Contains(e.Problems, p => p.Contains("`coverage` is not allowed"));
        Assert.Contains(e.Problems, p => p.Contains("`benchmarks` is not allowed"));
    }

    public void Dispose() => checkout.Dispose();
}
