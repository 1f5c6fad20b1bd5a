// Custom request handlers and alternate tool results are SDK 2.4.0's (experimental) way to serve methods it
// does not know: exactly what an extension needs.
#pragma warning disable MCPEXP002
using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Validation;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp.TaskViews;

/// <summary>
/// The MCP face of <see cref="ValidationTasks"/>: <c>tasks/get</c>, <c>tasks/result</c>, <c>tasks/list</c> and
/// <c>tasks/cancel</c> as custom request handlers (SDK 2.4.0 has no tasks API), a call-tool filter that turns a
/// declaration's validation job into a task handle for a client that takes tasks, and the capability and
/// <c>execution.taskSupport</c> the 2025-11-25 design needs to see. Each answer takes the wire format the
/// request declares (<see cref="TaskFormats"/>).
/// </summary>
internal sealed class TaskHandlers(ValidationTasks tasks, Caller caller)
{
    /// <summary>Where declare_terminal_state leaves the job it started or found, for the filter to hand out.</summary>
    public const string JobKey = "factory.validation-job";

    public const string TaskTool = "declare_terminal_state";

    public void Register(McpServerOptions options)
    {
        options.Capabilities ??= new ServerCapabilities();
        options.Capabilities.Extensions ??= new Dictionary<string, object>();
        options.Capabilities.Extensions[TaskFormats.ExtensionId] = JsonDocument.Parse("{}").RootElement;
        options.RequestHandlers ??= [];
        foreach (var (method, handler) in Handlers())
            options.RequestHandlers.Add(
                new McpServerRequestHandler
                {
                    Method = method,
                    Handler = async (context, ct) => await handler(context.Params, ct),
                }
            );
        options.Filters.Request.CallToolWithAlternateFilters.Add(HandOutAsync);
        options.Filters.Message.OutgoingFilters.Add(next =>
            async (context, ct) =>
            {
                if (context.JsonRpcMessage is JsonRpcResponse { Result: JsonObject result })
                    TaskWire.Advertise(result, TaskTool);
                await next(context, ct);
            }
        );
    }

    private IEnumerable<(string Method, Func<JsonNode?, CancellationToken, Task<JsonNode?>> Handler)> Handlers()
    {
        yield return ("tasks/get", GetAsync);
        yield return ("tasks/result", ResultAsync);
        yield return ("tasks/list", ListAsync);
        yield return ("tasks/cancel", CancelAsync);
    }

    private async ValueTask<ResultOrAlternate<CallToolResult>> HandOutAsync(
        RequestContext<CallToolRequestParams> context,
        McpRequestHandler<CallToolRequestParams, ResultOrAlternate<CallToolResult>> next,
        CancellationToken ct
    )
    {
        var format = TaskFormats.Requested(context.JsonRpcRequest.Params);
        if (format == TaskFormat.None || context.Params?.Name != TaskTool)
            return await next(context, ct);
        var answer = await next(context, ct);
        if (answer.IsAlternate || answer.Result is null)
            return answer;
        TaskView view;
        if (context.Items.TryGetValue(JobKey, out var held) && held is ValidationJobRow job)
            view = await tasks.OpenAsync(caller, job, ct);
        else if (format == TaskFormat.Sdk2025)
            // That design's client reads every answer to params.task as a task: one decided at once is a completed one.
            view = await tasks.AnswerAsync(caller, answer.Result, ct);
        else
            return answer; // the extension lets the server answer at once
        return ResultOrAlternate<CallToolResult>.FromAlternate(TaskWire.Created(format, view), TaskWire.HandleType);
    }

    private async Task<JsonNode?> GetAsync(JsonNode? parameters, CancellationToken ct)
    {
        var format = FormatOf(parameters);
        var view = await tasks.GetAsync(caller, TaskId(parameters), withResult: format == TaskFormat.Extension, ct);
        var task = TaskWire.Task(format, view, withPayload: true);
        if (format == TaskFormat.Extension)
            task["resultType"] = "complete";
        return task;
    }

    private async Task<JsonNode?> ResultAsync(JsonNode? parameters, CancellationToken ct)
    {
        var id = TaskId(parameters);
        var view = await tasks.ResultAsync(caller, id, ct);
        if (view.Result is null)
            throw new McpProtocolException(
                $"Task {id} is {view.Status}: {view.StatusMessage}",
                McpErrorCode.InvalidParams
            );
        var result = TaskWire.ToolResult(view.Result);
        var meta = result["_meta"] as JsonObject ?? [];
        meta[TaskWire.RelatedTaskKey] = new JsonObject { ["taskId"] = view.Id };
        result["_meta"] = meta;
        return result;
    }

    private async Task<JsonNode?> ListAsync(JsonNode? parameters, CancellationToken ct)
    {
        var format = FormatOf(parameters);
        var (list, next) = await tasks.ListAsync(caller, parameters?["cursor"]?.GetValue<string>(), ct);
        var result = new JsonObject
        {
            ["tasks"] = new JsonArray([.. list.Select(v => (JsonNode)TaskWire.Task(format, v, withPayload: false))]),
        };
        if (next is not null)
            result["nextCursor"] = next;
        return result;
    }

    private async Task<JsonNode?> CancelAsync(JsonNode? parameters, CancellationToken ct)
    {
        var format = FormatOf(parameters);
        var id = TaskId(parameters);
        var view = await tasks.CancelAsync(caller, id, ct);
        if (format == TaskFormat.Extension)
            return new JsonObject
            {
                ["resultType"] = "complete",
                ["_meta"] = new JsonObject { [TaskWire.NoteKey] = view.StatusMessage },
            };
        if (view.Status != TaskView.Cancelled)
            throw new McpProtocolException(
                $"Task {id} is already {view.Status}, so it cannot be cancelled; nothing changed. {view.StatusMessage}",
                McpErrorCode.InvalidParams
            );
        return TaskWire.Task(format, view, withPayload: false);
    }

    private static TaskFormat FormatOf(JsonNode? parameters) =>
        TaskFormats.DeclaresExtension(parameters) ? TaskFormat.Extension : TaskFormat.Sdk2025;

    private static string TaskId(JsonNode? parameters) =>
        parameters?["taskId"] is JsonValue v && v.TryGetValue<string>(out var id) && id.Length > 0
            ? id
            : throw new McpProtocolException(
                "taskId is missing: give the taskId a tools/call answered with (tasks/list shows yours). Nothing changed.",
                McpErrorCode.InvalidParams
            );
}
