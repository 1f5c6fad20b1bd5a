namespace FactoryMcp.Tools.Gate.Reports;

/// <summary>How one test case ended in a JUnit report. Ordered from best to worst: duplicates keep the worst.</summary>
public enum TestStatus
{
    Passed,
    Skipped,
    XFail,
    Failed,
    Error,
}
