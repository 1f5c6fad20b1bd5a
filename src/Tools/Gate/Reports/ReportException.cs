namespace FactoryMcp.Tools.Gate.Reports;

/// <summary>A test report that cannot be read: not well-formed, not JUnit, too large. The message names the file and why.</summary>
public sealed class ReportException(string message) : Exception(message);
