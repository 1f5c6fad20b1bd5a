using System.Globalization;
using System.Text;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Tools.Signals;

namespace FactoryMcp.Tools.Specs;

/// <summary>
/// The packet of a spec job, written by the server: the signal as the agent must read it. It runs no
/// command (no Scope, Validation or Evidence Required), so it is built here rather than parsed; the
/// signal's text is untrusted and goes in as a quote, exactly as in a drafted packet.
/// </summary>
public static class SpecPacket
{
    public static (string Markdown, Packet Packet) Build(
        SignalRow signal,
        IReadOnlyList<string> labels,
        SignalRouting.Route? route
    )
    {
        var priority = route?.Priority ?? new PacketFrontMatter().Priority;
        var title = "Spec: " + SignalTemplate.Inline(signal.Title);
        var target = route is null ? "the line that fits it" : $"line `{route.Line}`";
        var sections = new List<PacketSection>
        {
            new(
                "Intent",
                "intent",
                $"Turn signal {signal.Id} (`{SignalTemplate.OneLine(signal.Key)}`) into a task packet a builder can run on {target}, "
                    + "or close it: NO_OP `duplicate` when it repeats open work (name it in your evidence), `not_actionable` when there is "
                    + "nothing to build, or ESCALATE a question a human must answer first."
            ),
            new("Signal", "signal", SignalSection(signal, labels)),
        };
        if (signal.Url is { Length: > 0 } url)
            sections.Add(new PacketSection("Source", "source", SignalTemplate.OneLine(url)));

        var markdown = new StringBuilder().Append(
            CultureInfo.InvariantCulture,
            $"---\nline: {LineCatalog.SpecLine}\npriority: {priority}\noutput: investigation\n---\n# {title}\n"
        );
        foreach (var section in sections)
            markdown.Append(CultureInfo.InvariantCulture, $"\n## {section.Heading}\n{section.Markdown}\n");
        var packet = new Packet
        {
            FrontMatter = new PacketFrontMatter
            {
                Line = LineCatalog.SpecLine,
                Priority = priority,
                Output = "investigation",
            },
            Title = title,
            Sections = sections,
            Scope = [],
            NonGoals = [],
            Validation = [],
            EvidenceRequired = [],
        };
        return (markdown.ToString(), packet);
    }

    private static string SignalSection(SignalRow signal, IReadOnlyList<string> labels)
    {
        var sb = new StringBuilder();
        sb.AppendLine(
            CultureInfo.InvariantCulture,
            $"- Key: `{SignalTemplate.OneLine(signal.Key)}` (signal {signal.Id})"
        );
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Title: {SignalTemplate.Inline(signal.Title)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- Source: {signal.Source}");
        if (signal.Url is { Length: > 0 } url)
            sb.AppendLine(CultureInfo.InvariantCulture, $"- URL: {SignalTemplate.OneLine(url)}");
        sb.AppendLine(
            CultureInfo.InvariantCulture,
            $"- Labels: {(labels.Count == 0 ? "none" : SignalTemplate.OneLine(string.Join(", ", labels)))}"
        );
        if (signal.Author is { Length: > 0 } author)
            sb.AppendLine(CultureInfo.InvariantCulture, $"- Author: {SignalTemplate.OneLine(author)}");
        sb.AppendLine();
        sb.Append(SignalTemplate.Quote(signal.Body));
        return sb.ToString();
    }
}
