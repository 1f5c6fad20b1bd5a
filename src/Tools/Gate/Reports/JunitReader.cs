using System.Xml;

namespace FactoryMcp.Tools.Gate.Reports;

/// <summary>
/// Reads JUnit XML as pytest, the VSTest/xUnit JUnit logger, jest-junit and gotestsum write it:
/// <c>testsuites</c>/<c>testsuite</c> (nested or not) holding <c>testcase</c> elements, each passed unless it holds
/// <c>failure</c>, <c>error</c> or <c>skipped</c> (pytest marks expected failures <c>skipped type="pytest.xfail"</c>).
/// The file was written by untrusted code: no DTD, no entities, no external resources, and caps on size and counts.
/// </summary>
public static class JunitReader
{
    public const long MaxFileBytes = 32 * 1024 * 1024;
    public const int MaxTests = 200_000;
    private const int MaxIdChars = 500;
    private const int MaxMessageChars = 200;

    public static IReadOnlyList<TestCaseResult> Read(Stream stream, string origin)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Prohibit,
            XmlResolver = null,
            MaxCharactersFromEntities = 0,
            MaxCharactersInDocument = MaxFileBytes,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
        };
        try
        {
            using var reader = XmlReader.Create(stream, settings);
            if (reader.MoveToContent() != XmlNodeType.Element || reader.LocalName is not ("testsuites" or "testsuite"))
                throw new ReportException(
                    $"{origin} is not a JUnit report: its root element is <{reader.LocalName}>, not <testsuites> or <testsuite>"
                );
            var results = new List<TestCaseResult>();
            var suites = new Stack<string>();
            while (!reader.EOF)
            {
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "testsuite")
                {
                    if (!reader.IsEmptyElement)
                        suites.Push(reader.GetAttribute("name") ?? "");
                    reader.Read();
                }
                else if (reader.NodeType == XmlNodeType.EndElement && reader.LocalName == "testsuite")
                {
                    suites.TryPop(out _);
                    reader.Read();
                }
                else if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "testcase")
                {
                    if (results.Count >= MaxTests)
                        throw new ReportException($"{origin} holds more than {MaxTests} test cases");
                    results.Add(ReadCase(reader, suites.TryPeek(out var suite) ? suite : "", origin));
                }
                else
                    reader.Read();
            }
            return results;
        }
        catch (XmlException e)
        {
            throw new ReportException($"{origin} is not well-formed XML (line {e.LineNumber}): {e.Message}");
        }
    }

    /// <summary>One testcase element and its children; leaves the reader after the element.</summary>
    private static TestCaseResult ReadCase(XmlReader reader, string suite, string origin)
    {
        var name = reader.GetAttribute("name");
        if (string.IsNullOrWhiteSpace(name))
            throw new ReportException(
                $"{origin} has a <testcase> without a name (line {(reader as IXmlLineInfo)?.LineNumber})"
            );
        var classname = reader.GetAttribute("classname");
        var owner = string.IsNullOrWhiteSpace(classname) ? suite : classname;
        var id = Cap(string.IsNullOrEmpty(owner) ? name : $"{owner}::{name}", MaxIdChars);
        var file = reader.GetAttribute("file");
        var status = TestStatus.Passed;
        string? message = null;
        if (reader.IsEmptyElement)
        {
            reader.Read();
            return new TestCaseResult(id, status, file, message);
        }
        var depth = reader.Depth;
        reader.Read();
        while (!(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth) && !reader.EOF)
        {
            if (reader.NodeType == XmlNodeType.Element && reader.Depth == depth + 1)
            {
                var found = reader.LocalName switch
                {
                    "error" => TestStatus.Error,
                    "failure" => TestStatus.Failed,
                    "skipped" => reader.GetAttribute("type") == "pytest.xfail" ? TestStatus.XFail : TestStatus.Skipped,
                    _ => (TestStatus?)null,
                };
                if (found is { } s && s > status)
                {
                    status = s;
                    message = FirstLine(reader.GetAttribute("message"));
                }
            }
            reader.Read();
        }
        reader.Read();
        return new TestCaseResult(id, status, file, message);
    }

    private static string? FirstLine(string? text) =>
        text is null ? null : Cap(text.Split('\n', 2)[0].Trim(), MaxMessageChars);

    private static string Cap(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
