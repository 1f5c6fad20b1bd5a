namespace FactoryMcp.Ledger.Lines;

/// <summary>
/// Test reports a line's Validation writes (README, "Per-test non-regression"), under <c>reports:</c> in a line of
/// <c>lines.yaml</c>. With <c>junit</c> set the server also runs Validation at base and compares test by test.
/// </summary>
public sealed record ReportSettings
{
    /// <summary>
    /// A path pattern (gitignore semantics, relative to the checkout's root) of the JUnit XML files Validation writes,
    /// for example <c>reports/*.xml</c> or <c>**/TestResults/*.xml</c>. Only regular <c>.xml</c> files are read.
    /// </summary>
    public string? Junit { get; set; }

    /// <summary>Refuses patterns that cannot name files inside a checkout, naming the key.</summary>
    public IEnumerable<string> Problems(string line)
    {
        if (Junit is not { } glob)
            yield break;
        var trimmed = glob.Trim();
        if (trimmed.Length == 0)
            yield return $"line {line}: reports.junit must be a path pattern such as reports/*.xml, not empty";
        else if (trimmed.Length > 300 || trimmed.Contains('\n'))
            yield return $"line {line}: reports.junit must be one path pattern of at most 300 characters";
        else if (trimmed.StartsWith('!'))
            yield return $"line {line}: reports.junit must name files, not exclude them ('{trimmed}')";
        else if (trimmed.Split('/').Contains(".."))
            yield return $"line {line}: reports.junit must stay inside the checkout ('..' is not allowed): '{trimmed}'";
    }
}
