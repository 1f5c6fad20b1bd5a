using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using FactoryMcp.Ledger.Storage;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tools.Mcp.TaskViews;

/// <summary>
/// The JSON of a task in each wire format. The 2025-11-25 design (TypeScript SDK 1.32): <c>ttl</c>,
/// <c>pollInterval</c>, the result only through <c>tasks/result</c>. The 2026-07-28 extension: <c>ttlMs</c>,
/// <c>pollIntervalMs</c>, <c>resultType</c>, the result inlined in <c>tasks/get</c>.
/// </summary>
internal static class TaskWire
{
    /// <summary>How often a client should look, in milliseconds.</summary>
    public const int PollIntervalMs = 1000;

    public const string RelatedTaskKey = "io.modelcontextprotocol/related-task";

    /// <summary>Where a note about the validation job goes in a result that has no field for it.</summary>
    public const string NoteKey = "io.factorymcp/note";

    public static JsonObject Task(TaskFormat format, TaskView view, bool withPayload)
    {
        var task = new JsonObject
        {
            ["taskId"] = view.Id,
            ["status"] = view.Status,
            ["statusMessage"] = view.StatusMessage,
            ["createdAt"] = Iso.Text(view.CreatedAt),
            ["lastUpdatedAt"] = Iso.Text(view.UpdatedAt),
        };
        if (format == TaskFormat.Extension)
        {
            task["ttlMs"] = null; // unlimited: the job's row stays in the ledger
            task["pollIntervalMs"] = PollIntervalMs;
            if (withPayload && view.Result is not null)
                task["result"] = ToolResult(view.Result);
        }
        else
        {
            task["ttl"] = null;
            task["pollInterval"] = PollIntervalMs;
        }
        return task;
    }

    /// <summary>The answer to tools/call that hands out a task.</summary>
    public static TaskHandle Created(TaskFormat format, TaskView view) =>
        format == TaskFormat.Extension
            ? new TaskHandle { ResultType = "task", Fields = Elements(Task(format, view, withPayload: false)) }
            : new TaskHandle
            {
                Fields = Elements(new JsonObject { ["task"] = Task(format, view, withPayload: false) }),
            };

    private static Dictionary<string, JsonElement> Elements(JsonObject fields) =>
        fields.ToDictionary(p => p.Key, p => JsonSerializer.SerializeToElement(p.Value, ToolsJson.Default.JsonNode));

    public static JsonObject ToolResult(CallToolResult result) =>
        JsonSerializer.SerializeToNode(result, ResultType)!.AsObject();

    /// <summary>The SDK's own (source-generated) metadata for a tool result.</summary>
    public static readonly JsonTypeInfo<CallToolResult> ResultType =
        (JsonTypeInfo<CallToolResult>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult));

    /// <summary>
    /// Adds what SDK 2.4.0 has no property for: the 2025-11-25 <c>tasks</c> server capability in the
    /// initialize result, and <c>execution.taskSupport</c> on declare_terminal_state in tools/list.
    /// </summary>
    public static void Advertise(JsonObject result, string taskTool)
    {
        if (result["capabilities"] is JsonObject capabilities && result.ContainsKey("serverInfo"))
            capabilities["tasks"] = new JsonObject
            {
                ["list"] = new JsonObject(),
                ["cancel"] = new JsonObject(),
                ["requests"] = new JsonObject { ["tools"] = new JsonObject { ["call"] = new JsonObject() } },
            };
        if (result["tools"] is JsonArray tools)
            foreach (var tool in tools.OfType<JsonObject>())
                if (tool["name"]?.GetValue<string>() == taskTool)
                    tool["execution"] = new JsonObject { ["taskSupport"] = "optional" };
    }

    public static JsonTypeInfo<TaskHandle> HandleType => TaskHandleJson.Default.TaskHandle;
}

/// <summary>A tools/call answer that is a task rather than the tool's result (an alternate result of SDK 2.4.0).</summary>
[JsonConverter(typeof(TaskHandleConverter))]
internal sealed class TaskHandle : Result
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Fields { get; init; }
}

/// <summary>
/// Writes a <see cref="TaskHandle"/> by hand: <c>resultType</c>, <c>_meta</c> and the task's fields at the top level, as
/// the tasks extension and the 2025-11-25 revision put them. (Source-generated metadata for a subclass of the SDK's
/// <see cref="Result"/> wrote neither the inherited <c>resultType</c> nor the extension data.) A handle is only sent.
/// </summary>
internal sealed class TaskHandleConverter : JsonConverter<TaskHandle>
{
    public override TaskHandle Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("A task handle is only written, never read.");

    public override void Write(Utf8JsonWriter writer, TaskHandle value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        if (value.ResultType is { } type)
            writer.WriteString("resultType", type);
        if (value.Meta is { } meta)
        {
            writer.WritePropertyName("_meta");
            meta.WriteTo(writer);
        }
        foreach (var (name, field) in value.Fields ?? [])
        {
            writer.WritePropertyName(name);
            field.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}

/// <summary>Source-generated metadata for <see cref="TaskHandle"/> (written by <see cref="TaskHandleConverter"/>).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(TaskHandle))]
internal sealed partial class TaskHandleJson : JsonSerializerContext;
