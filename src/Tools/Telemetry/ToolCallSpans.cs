using System.Diagnostics;
using System.Text.Json;
using FactoryMcp.Ledger.Agents;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// One span per tool call, named and tagged by the MCP semantic conventions (<c>tools/call {tool}</c>,
/// mcp.method.name, gen_ai.tool.name, mcp.session.id, error.type=tool_error on a refused call). A call on a run
/// goes into the run's trace, under its root (<see cref="RunSpans"/>); a <c>traceparent</c> in the request's
/// <c>_meta</c> wins (the agent CLI's trace and the factory's join there) and the run's root becomes a link.
/// The span is made when the call ends, because a claim learns its run id only from its result.
/// </summary>
internal static class ToolCallSpans
{
    public static McpRequestFilter<CallToolRequestParams, CallToolResult> Filter(Caller caller, RunSpans runs) =>
        next =>
            async (context, ct) =>
            {
                if (!FactoryTelemetry.Tracing)
                    return await next(context, ct);
                var started = DateTimeOffset.UtcNow;
                var ledgerStarted = runs.Now;
                CallToolResult? result = null;
                Exception? failure = null;
                try
                {
                    return result = await next(context, ct);
                }
                catch (Exception e)
                {
                    failure = e;
                    throw;
                }
                finally
                {
                    var runId = RunIdOf(context.Params, result);
                    Record(
                        caller,
                        context,
                        runId is { } id ? await runs.ContextOfAsync(id, CancellationToken.None) : null,
                        runId,
                        started,
                        result,
                        failure
                    );
                    if (runId is { } closing && failure is null && result is { IsError: not true })
                        await runs.EmitIfClosedAsync(closing, ledgerStarted, CancellationToken.None);
                }
            };

    private static void Record(
        Caller caller,
        RequestContext<CallToolRequestParams> context,
        ActivityContext? run,
        long? runId,
        DateTimeOffset started,
        CallToolResult? result,
        Exception? failure
    )
    {
        var tool = context.Params?.Name ?? "";
        var incoming = Incoming(context.Params?.Meta);
        var parent = incoming ?? run ?? default;
        ActivityLink[]? links = incoming is not null && run is { } root ? [new ActivityLink(root)] : null;
        var outer = Activity.Current;
        Activity.Current = null;
        try
        {
            using var span = FactoryTelemetry.Source.StartActivity(
                $"tools/call {tool}",
                ActivityKind.Server,
                parent,
                tags:
                [
                    new("mcp.method.name", "tools/call"),
                    new("gen_ai.operation.name", "execute_tool"),
                    new("gen_ai.tool.name", tool),
                    new("mcp.session.id", context.Server.SessionId),
                    new("gen_ai.agent.name", caller.Name),
                    new("factory.role", caller.Role),
                ],
                links: links,
                startTime: started
            );
            if (span is null)
                return;
            if (runId is { } id)
                span.SetTag("factory.run.id", id);
            if (failure is not null)
            {
                span.SetTag("error.type", failure.GetType().FullName);
                span.SetStatus(ActivityStatusCode.Error, failure.Message);
            }
            else if (result is { IsError: true })
            {
                span.SetTag("error.type", "tool_error");
                span.SetStatus(ActivityStatusCode.Error, FirstText(result));
            }
            else if (tool == "submit_verdict")
                AddVerdict(span, caller, context.Params?.Arguments);
        }
        finally
        {
            Activity.Current = outer;
        }
    }

    /// <summary>A verifier's verdict as the GenAI evaluation event.</summary>
    private static void AddVerdict(Activity span, Caller caller, IDictionary<string, JsonElement>? arguments)
    {
        var verdict = Text(arguments, "verdict");
        var findings = Text(arguments, "findings") ?? "";
        span.AddEvent(
            new ActivityEvent(
                "gen_ai.evaluation.result",
                tags: new ActivityTagsCollection
                {
                    ["gen_ai.evaluation.name"] = caller.VerifierRole ?? caller.Name,
                    ["gen_ai.evaluation.score.label"] = verdict,
                    ["gen_ai.evaluation.explanation"] = findings.Length <= 1000 ? findings : findings[..1000],
                }
            )
        );
    }

    private static ActivityContext? Incoming(System.Text.Json.Nodes.JsonObject? meta)
    {
        if (meta?["traceparent"]?.GetValueKind() != JsonValueKind.String)
            return null;
        var traceState =
            meta["tracestate"]?.GetValueKind() == JsonValueKind.String ? (string?)meta["tracestate"] : null;
        return ActivityContext.TryParse((string?)meta["traceparent"], traceState, isRemote: true, out var parsed)
            ? parsed
            : null;
    }

    /// <summary>The run a call concerns: its run_id argument, else the run its result names (a claim).</summary>
    internal static long? RunIdOf(CallToolRequestParams? request, CallToolResult? result)
    {
        if (
            request?.Arguments is { } arguments
            && arguments.TryGetValue("run_id", out var argument)
            && argument.ValueKind == JsonValueKind.Number
            && argument.TryGetInt64(out var fromArgument)
        )
            return fromArgument;
        if (
            result is { IsError: not true, StructuredContent: { ValueKind: JsonValueKind.Object } structured }
            && structured.TryGetProperty("run_id", out var property)
            && property.ValueKind == JsonValueKind.Number
            && property.TryGetInt64(out var fromResult)
        )
            return fromResult;
        return null;
    }

    private static string? Text(IDictionary<string, JsonElement>? arguments, string name) =>
        arguments is not null && arguments.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static string? FirstText(CallToolResult result) =>
        result.Content.OfType<TextContentBlock>().FirstOrDefault()?.Text is { } text
            ? (text.Length <= 300 ? text : text[..300])
            : null;
}
