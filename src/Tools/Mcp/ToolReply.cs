using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using FactoryMcp.Ledger;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tools.Mcp;

/// <summary>
/// Tool results as DESIGN section 4 asks: ids and status in structured content, details as text.
/// Returning a <see cref="CallToolResult"/> keeps output schemas out of tools/list, which stays small.
/// Structured content is written with source-generated metadata (<see cref="ToolsJson"/>) or built as a
/// <see cref="JsonObject"/>, in <see cref="Json.Options"/>' shape: snake_case, null members omitted.
/// </summary>
internal static class ToolReply
{
    public const int MaxTextChars = 60_000;

    public static CallToolResult Of<T>(T structured, JsonTypeInfo<T> type, string text) =>
        Reply(JsonSerializer.SerializeToElement(structured, type), text, isError: false);

    public static CallToolResult Of(JsonObject structured, string text) =>
        Reply(Element(structured), text, isError: false);

    /// <summary>A reply whose structured content was serialized already (a kept reply, given again).</summary>
    public static CallToolResult Of(JsonElement structured, string text) => Reply(structured, text, isError: false);

    public static CallToolResult Error(string text, JsonObject? structured = null) =>
        Reply(structured is null ? null : Element(structured), text, isError: true);

    /// <summary>A refusal as every tool gives it: the message, and its problems in structured content.</summary>
    public static CallToolResult Refused(LedgerException e) =>
        Error(e.Message, new JsonObject { ["error"] = "refused", ["problems"] = Json.Array(e.Problems) });

    internal static JsonElement Element(JsonObject structured) =>
        JsonSerializer.SerializeToElement(Json.WithoutNulls(structured), ToolsJson.Default.JsonObject);

    private static CallToolResult Reply(JsonElement? structured, string text, bool isError) =>
        isError
            ? new()
            {
                IsError = true,
                StructuredContent = structured,
                Content = [new TextContentBlock { Text = Cap(text) }],
            }
            : new() { StructuredContent = structured, Content = [new TextContentBlock { Text = Cap(text) }] };

    private static string Cap(string text) =>
        text.Length <= MaxTextChars
            ? text
            : text[..MaxTextChars]
                + $"\n\n… [truncated at {MaxTextChars} characters; ask for the rest with a cursor or read the resource]";
}
