using System.Globalization;
using System.Xml;
using FactoryMcp.Tools.Gate.Reports;

namespace FactoryMcp.Tools.Gate.Coverage;

/// <summary>
/// Reads a coverage report Validation wrote: Cobertura XML (coverage.py's <c>coverage xml</c>, coverlet, Istanbul's
/// cobertura reporter, gcovr) or LCOV tracefiles (<c>SF:</c>/<c>DA:</c> records: coverage.py's <c>coverage lcov</c>,
/// Istanbul, c8, lcov/geninfo, cargo-llvm-cov), told apart by content. The file was written by untrusted code: XML with
/// no DTD processing and no resolver, size and count caps. Paths become repository-relative (see <see cref="PathMap"/>).
/// </summary>
public static class CoverageReader
{
    public const long MaxFileBytes = 64 * 1024 * 1024;
    public const int MaxLines = 5_000_000;

    public static IReadOnlyList<(string File, int Line, long Hits)> Read(Stream stream, string origin, PathMap paths)
    {
        using var buffered = new BufferedStream(stream);
        var first = FirstNonBlank(buffered);
        return first == '<' ? ReadCobertura(buffered, origin, paths) : ReadLcov(buffered, origin, paths);
    }

    private static int FirstNonBlank(BufferedStream stream)
    {
        // Peek at the first byte that is not whitespace or a UTF-8 byte order mark, then rewind.
        var start = stream.Position;
        int b;
        do b = stream.ReadByte();
        while (b is ' ' or '\t' or '\r' or '\n' or 0xEF or 0xBB or 0xBF);
        stream.Position = start;
        return b;
    }

    private static IReadOnlyList<(string, int, long)> ReadCobertura(Stream stream, string origin, PathMap paths)
    {
        var settings = new XmlReaderSettings
        {
            // coverage.py writes a DOCTYPE naming Cobertura's DTD: it is skipped, never fetched or processed, so no
            // entity it declares can be expanded (an undeclared entity is then an error).
            DtdProcessing = DtdProcessing.Ignore,
            XmlResolver = null,
            MaxCharactersFromEntities = 0,
            MaxCharactersInDocument = MaxFileBytes,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = true,
        };
        var lines = new List<(string, int, long)>();
        var sources = new List<string>();
        try
        {
            using var reader = XmlReader.Create(stream, settings);
            if (reader.MoveToContent() != XmlNodeType.Element || reader.LocalName != "coverage")
                throw new ReportException(
                    $"{origin} is neither Cobertura XML (its root element is <{reader.LocalName}>, not <coverage>) nor LCOV"
                );
            string? file = null;
            var classDepth = -1;
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.EndElement && reader.Depth == classDepth)
                {
                    file = null;
                    classDepth = -1;
                }
                if (reader.NodeType != XmlNodeType.Element)
                    continue;
                switch (reader.LocalName)
                {
                    case "source":
                        sources.Add(reader.ReadElementContentAsString().Trim());
                        break;
                    case "class":
                        var name =
                            reader.GetAttribute("filename")
                            ?? throw new ReportException($"{origin} has a <class> without a filename");
                        file = paths.ToRepository(name, sources);
                        classDepth = reader.IsEmptyElement ? -1 : reader.Depth;
                        break;
                    case "line" when file is not null:
                        if (lines.Count >= MaxLines)
                            throw new ReportException($"{origin} holds more than {MaxLines} lines");
                        lines.Add(
                            (
                                file,
                                Number(reader.GetAttribute("number"), origin),
                                Hits(reader.GetAttribute("hits"), origin)
                            )
                        );
                        break;
                }
            }
        }
        catch (XmlException e)
        {
            throw new ReportException($"{origin} is not well-formed XML (line {e.LineNumber}): {e.Message}");
        }
        return lines;
    }

    private static IReadOnlyList<(string, int, long)> ReadLcov(Stream stream, string origin, PathMap paths)
    {
        using var text = new StreamReader(stream);
        var lines = new List<(string, int, long)>();
        string? file = null;
        var records = 0;
        var number = 0;
        while (text.ReadLine() is { } raw)
        {
            number++;
            var line = raw.Trim();
            if (line.StartsWith("SF:", StringComparison.Ordinal))
            {
                file = paths.ToRepository(line[3..].Trim(), []);
                records++;
            }
            else if (line == "end_of_record")
                file = null;
            else if (line.StartsWith("DA:", StringComparison.Ordinal))
            {
                if (file is null)
                    throw new ReportException($"{origin} line {number}: DA: outside a SF: record");
                var parts = line[3..].Split(',');
                if (parts.Length < 2)
                    throw new ReportException($"{origin} line {number}: DA: needs LINE,HITS");
                if (lines.Count >= MaxLines)
                    throw new ReportException($"{origin} holds more than {MaxLines} lines");
                lines.Add((file, Number(parts[0], origin), Hits(parts[1], origin)));
            }
            else if (line.Length > 0 && !line.StartsWith('#') && !IsRecord(line))
                throw new ReportException(
                    $"{origin} line {number} is not an LCOV record ('{(line.Length > 60 ? line[..60] + "…" : line)}'); a coverage report must be Cobertura XML or LCOV"
                );
        }
        if (records == 0)
            throw new ReportException($"{origin} holds no LCOV record (SF:) and is not Cobertura XML");
        return lines;
    }

    /// <summary>Any other LCOV record (TN:, FN:, FNDA:, BRDA:, LF:, LH:, VER: …): upper-case letters, then a colon.</summary>
    private static bool IsRecord(string line)
    {
        var colon = line.IndexOf(':');
        return colon > 0 && line[..colon].All(char.IsAsciiLetterUpper);
    }

    private static int Number(string? text, string origin) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new ReportException($"{origin} has a line number that is not a number: '{text}'");

    private static long Hits(string? text, string origin)
    {
        // Hit counts may be large or written as floats by some tools ("1.0", "1e3").
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            return n;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
            return d >= long.MaxValue ? long.MaxValue : (long)Math.Ceiling(d);
        throw new ReportException($"{origin} has a hit count that is not a number: '{text}'");
    }
}
