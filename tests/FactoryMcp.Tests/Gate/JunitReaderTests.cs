using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Tools.Gate.Reports;

namespace FactoryMcp.Tests.Gate;

/// <summary>The JUnit dialects the gate reads, and the reports it refuses instead of crashing on.</summary>
public sealed class JunitReaderTests
{
    private static IReadOnlyList<TestCaseResult> Read(string xml) =>
        JunitReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(xml)), "report.xml");

    [Fact]
    public void Read_PytestXunit2_ClassnameAndName_SkipAndXfailApart()
    {
        var tests = Read(
            """
            <?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="1" failures="1" skipped="2" tests="5">
            <testcase classname="tests.test_a" name="test_ok" time="0.001" />
            <testcase classname="tests.test_a" name="test_bad" time="0.001"><failure message="assert 1 == 2">trace</failure></testcase>
            <testcase classname="tests.test_a" name="test_broken"><error message="fixture failed">trace</error></testcase>
            <testcase classname="tests.test_a" name="test_skip"><skipped type="pytest.skip" message="not today">x</skipped></testcase>
            <testcase classname="tests.test_a" name="test_xfail[1-2]"><skipped type="pytest.xfail" message="known" /></testcase>
            </testsuite></testsuites>
            """
        );
        Assert.Equal(
            [
                ("tests.test_a::test_ok", TestStatus.Passed),
                ("tests.test_a::test_bad", TestStatus.Failed),
                ("tests.test_a::test_broken", TestStatus.Error),
                ("tests.test_a::test_skip", TestStatus.Skipped),
                ("tests.test_a::test_xfail[1-2]", TestStatus.XFail),
            ],
            tests.Select(t => (t.Id, t.Status))
        );
        Assert.Equal("assert 1 == 2", tests[1].Message);
    }

    [Fact]
    public void Read_VsTestJunitLogger_JestAndGotestsum_AreRead()
    {
        // JunitXml.TestLogger (xUnit/VSTest): one testsuite per assembly, classname the test class.
        var xunit = Read(
            """<testsuites><testsuite name="App.Tests.dll" tests="2"><properties /><testcase classname="App.Tests.CalcTests" name="Add_Works" time="0.01" /><testcase classname="App.Tests.CalcTests" name="Sub_Works"><skipped /></testcase><system-out /></testsuite></testsuites>"""
        );
        Assert.Equal(TestStatus.Skipped, xunit.Single(t => t.Id == "App.Tests.CalcTests::Sub_Works").Status);
        // jest-junit: classname and name both the full title.
        var jest = Read(
            """<testsuites name="jest tests"><testsuite name="calc" tests="1"><testcase classname="calc adds" name="calc adds" time="0.002"><failure>Error: expected 3</failure></testcase></testsuite></testsuites>"""
        );
        Assert.Equal(TestStatus.Failed, Assert.Single(jest).Status);
        // gotestsum: a bare testsuite root is also accepted.
        var go = Read(
            """<testsuite tests="1" name="example.com/calc"><testcase classname="example.com/calc" name="TestAdd" time="0.000"></testcase></testsuite>"""
        );
        Assert.Equal("example.com/calc::TestAdd", Assert.Single(go).Id);
        // No classname: the enclosing suite names the test.
        var bare = Read(
            """<testsuites><testsuite name="outer"><testsuite name="inner"><testcase name="t"/></testsuite></testsuite></testsuites>"""
        );
        Assert.Equal("inner::t", Assert.Single(bare).Id);
    }

    [Fact]
    public void Merge_SameTestTwice_KeepsTheWorstOutcome()
    {
        var table = TestTable.Merge([
            ("a.xml", [new TestCaseResult("t", TestStatus.Passed)]),
            ("b.xml", [new TestCaseResult("t", TestStatus.Skipped)]),
        ]);
        Assert.Equal(TestStatus.Skipped, table.Tests["t"].Status);
    }

    [Theory]
    [InlineData("<testsuites><testcase name=\"a\">", "not well-formed XML")]
    [InlineData("<html><body/></html>", "its root element is <html>")]
    [InlineData("<testsuite><testcase classname=\"x\"/></testsuite>", "without a name")]
    [InlineData(
        "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><testsuite><testcase name=\"&e;\"/></testsuite>",
        "DTD"
    )]
    public void Read_HostileOrBrokenReport_ThrowsReportExceptionNamingTheFile(string xml, string expected)
    {
        var e = Assert.Throws<ReportException>(() => Read(xml));
        Assert.Contains("report.xml", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("\"\"", "must be a path pattern")]
    [InlineData("../outside/*.xml", "must stay inside the checkout")]
    [InlineData("\"!reports/*.xml\"", "must name files")]
    public void LineCatalog_BadReportsJunit_IsRefusedNamingTheKey(string value, string expected)
    {
        var e = Assert.Throws<LedgerException>(() => LineCatalog.Parse($"web:\n  reports:\n    junit: {value}\n"));
        Assert.Contains(e.Problems, p => p.Contains("line web: reports.junit") && p.Contains(expected));
    }

    [Fact]
    public void LineCatalog_UnknownReportsKey_IsRefused()
    {
        var e = Assert.Throws<LedgerException>(() => LineCatalog.Parse("web:\n  reports:\n    junitt: r/*.xml\n"));
        Assert.Contains("junitt", e.Message);
    }
}
