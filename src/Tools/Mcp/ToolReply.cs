using System.Text.Json;
using FactoryMcp.Ledger;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tools.Mcp;

/// <summary>
/// Tool results as DESIGN section 4 asks: ids and status in structured content, details as text.
/// Returning a <see cref="CallToolResult"/> keeps output schemas out of tools/list, which stays small.
/// </summary>
internal static class ToolReply
{
    public const int MaxTextChars = 60_000;

    public static CallToolResult Of(object structured, string text) =>
        new()
        {
            StructuredContent = JsonSerializer.SerializeToElement(structured, Json.Options),
            Content = [new TextContentBlock { Text = Cap(text) }],
        };

    public static CallToolResult Error(string text, object? structured = null) =>
        new()
        {
            IsError = true,
            StructuredContent = structured is null ? null : JsonSerializer.SerializeToElement(structured, Json.Options),
            Content = [new TextContentBlock { Text = Cap(text) }],
        };

    /// <summary>A refusal as every tool gives it: the message, and its problems in structured content.</summary>
    public static CallToolResult Refused(LedgerException e) =>
        Error(e.Message, new { error = "refused", problems = e.Problems });

    private static string Cap(string text) =>
        text.Length <= MaxTextChars
            ? text
            : text[..MaxTextChars]
                + $"\n\n… [truncated at {MaxTextChars} characters; ask for the rest with a cursor or read the resource]";
}
