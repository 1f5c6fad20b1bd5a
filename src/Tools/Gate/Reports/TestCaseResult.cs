namespace FactoryMcp.Tools.Gate.Reports;

/// <summary>
/// One test case: its identity (<c>classname::name</c>, or the suite's name when the report gives no class), how it
/// ended, the source file when the report names one, and the first line of its failure or skip message.
/// </summary>
public sealed record TestCaseResult(string Id, TestStatus Status, string? File = null, string? Message = null);
