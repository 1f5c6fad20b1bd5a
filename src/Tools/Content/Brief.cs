using System.Text;

namespace FactoryMcp.Tools.Content;

/// <summary>
/// The allowlisted facts of a shipped change — the only material drafts are made from: title, intent,
/// what changed, how it was validated, the reproduction before and after, and public links.
/// </summary>
public sealed record Brief
{
    public required long EventId { get; init; }
    public required long Run { get; init; }
    public required long Task { get; init; }
    public required string Line { get; init; }
    public required string Title { get; init; }
    public required string Intent { get; init; }
    public required string WhatChanged { get; init; }
    public required string Validated { get; init; }
    public string? Reproduction { get; init; }
    public string? Source { get; init; }
    public string? PullRequest { get; init; }
    public required string ShippedAt { get; init; }
    public required string Environment { get; init; }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"- Title: {Title}")
            .AppendLine($"- Intent: {Intent}")
            .AppendLine($"- What changed: {WhatChanged}")
            .AppendLine($"- How it was validated: {Validated}");
        if (Reproduction is { } r)
            sb.AppendLine($"- Before and after: {r}");
        if (Source is { } s)
            sb.AppendLine($"- Source: {s}");
        if (PullRequest is { } p)
            sb.AppendLine($"- Pull request: {p}");
        sb.AppendLine($"- Shipped: {ShippedAt} (line {Line}, task {Task}, run {Run})");
        return sb.ToString();
    }
}
