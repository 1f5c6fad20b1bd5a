using System.Text.Json.Nodes;

namespace FactoryMcp.Tools.Mcp.TaskViews;

/// <summary>The two wire formats of MCP Tasks a client may speak, and none.</summary>
internal enum TaskFormat
{
    /// <summary>No task support declared: the call waits, as it always did.</summary>
    None,

    /// <summary>The 2025-11-25 design the TypeScript SDK 1.32 speaks: <c>params.task</c>, a nested <c>task</c>, <c>tasks/result</c>.</summary>
    Sdk2025,

    /// <summary>The <c>io.modelcontextprotocol/tasks</c> extension of 2026-07-28: declared per request in <c>_meta</c>.</summary>
    Extension,
}

/// <summary>Reads which format a request declares (README, "Waiting").</summary>
internal static class TaskFormats
{
    public const string ExtensionId = "io.modelcontextprotocol/tasks";
    public const string ClientCapabilitiesKey = "io.modelcontextprotocol/clientCapabilities";

    /// <summary>
    /// The extension when the request's per-request capabilities name it, else the 2025-11-25 design when a
    /// tools/call carries <c>params.task</c>, else none.
    /// </summary>
    public static TaskFormat Requested(JsonNode? parameters)
    {
        if (DeclaresExtension(parameters))
            return TaskFormat.Extension;
        return parameters is JsonObject p && p["task"] is JsonObject ? TaskFormat.Sdk2025 : TaskFormat.None;
    }

    /// <summary>Whether <c>_meta["io.modelcontextprotocol/clientCapabilities"].extensions</c> names the tasks extension.</summary>
    public static bool DeclaresExtension(JsonNode? parameters) =>
        parameters is JsonObject p
        && p["_meta"] is JsonObject meta
        && meta[ClientCapabilitiesKey] is JsonObject capabilities
        && capabilities["extensions"] is JsonObject extensions
        && extensions.ContainsKey(ExtensionId);
}
