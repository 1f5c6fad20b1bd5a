using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tools.Mcp.TaskViews;

/// <summary>
/// One MCP task as a client sees it: a validation job (or an answer given at once), its status, and, when
/// asked for and finished, the tool result the blocking call would have returned.
/// </summary>
internal sealed record TaskView(
    string Id,
    string Status,
    string StatusMessage,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    CallToolResult? Result = null
)
{
    public const string Working = "working";
    public const string Completed = "completed";
    public const string Cancelled = "cancelled";

    public bool Terminal => Status != Working;
}
