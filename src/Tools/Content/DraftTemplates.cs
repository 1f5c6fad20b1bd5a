using FactoryMcp.Ledger.Content;

namespace FactoryMcp.Tools.Content;

/// <summary>Deterministic drafts from a brief: the same brief always gives the same blog post, social post and changelog entry.</summary>
public static class DraftTemplates
{
    public static string Blog(Brief b) =>
        $"""
            ---
            title: "{b.Title.Replace("\"", "'")}"
            run: {b.Run}
            task: {b.Task}
            line: {b.Line}
            source: {b.Source ?? "none"}
            shipped_at: {b.ShippedAt}
            pr: {b.PullRequest ?? "none"}
            ---
            # {b.Title}

            {b.Intent}

            ## What changed

            {b.WhatChanged}

            ## How we know it works

            {b.Validated}
            {(b.Reproduction is { } r ? $"\n{r}\n" : "")}
            """;

    public static string Social(Brief b)
    {
        var link = b.PullRequest ?? b.Source;
        var sentence = FirstSentence(b.Intent);
        var text = $"Shipped: {b.Title}. {sentence}";
        var withLink = link is null ? text : $"{text} {link}";
        if (withLink.Length <= DraftLedger.SocialLimit)
            return withLink;
        var room = DraftLedger.SocialLimit - (link is null ? 0 : link.Length + 1) - 1;
        return (text.Length > room ? text[..Math.Max(0, room)].TrimEnd() + "…" : text)
            + (link is null ? "" : " " + link);
    }

    public static string Changelog(Brief b) =>
        $"- {b.Title} ({b.Line}, task {b.Task}{(b.PullRequest is { } pr ? $", {pr}" : "")})";

    private static string FirstSentence(string text)
    {
        var flat = string.Join(
            ' ',
            text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        );
        var end = flat.IndexOfAny(['.', '!', '?']);
        return end < 0 ? flat : flat[..(end + 1)];
    }
}
