using System.Diagnostics.CodeAnalysis;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Escalations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>
/// The MCP face one caller sees: the tools, prompts and resources of its role and nothing else
/// (DESIGN section 4). Used for stdio and for every HTTP session alike.
/// </summary>
public static class RoleSurface
{
    public static McpServerOptions Build(
        Caller caller,
        IServiceProvider services,
        string version,
        ToolListing listing = ToolListing.Snapshot
    )
    {
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "factory", Version = version },
            ServerInstructions = Instructions(caller),
            ToolCollection = [],
            // The surface resolves nothing from the services per request (tool classes are built by the lambdas
            // below), so no DI scope is made and disposed for every call.
            ScopeRequests = false,
        };
        // The composition root hands each tool class the few collaborators it uses.
        var f = services.GetRequiredService<Hosting.FactoryServices>();
        switch (caller.Role)
        {
            case Roles.Agent:
                Add(options, listing, services, () => new PacketTools(f.Packets, caller));
                Add(options, listing, services, () => new EvidenceTools(f.Evidence, f.Config, caller));
                Add(options, listing, services, request => new DeclarationTools(f.Gate, caller, request));
                Add(options, listing, services, () => new DispatchTools(f.Claims, f.SpecJobs, f.Intake, caller));
                break;
            case Roles.Verifier:
                Add(
                    options,
                    listing,
                    services,
                    () =>
                        new VerifierTools(
                            f.VerifierPackets,
                            f.Verifications,
                            f.Runs,
                            f.Workspaces,
                            f.Notifier,
                            f.PullVerifications,
                            caller
                        )
                );
                break;
            case Roles.Human:
                Add(options, listing, services, () => new HumanDispatchTools(f.Tasks, f.Intake, f.SpecJobs, caller));
                Add(
                    options,
                    listing,
                    services,
                    () => new HumanTaskTools(f.Tasks, f.Intake, f.Bundles, f.Db.Time, caller)
                );
                Add(
                    options,
                    listing,
                    services,
                    () => new HumanRecordTools(f.Signals, f.Tasks, f.Lessons, f.Drafts, f.Agents, f.Db.Time)
                );
                Add(
                    options,
                    listing,
                    services,
                    () => new HumanJudgmentTools(f.Reviews, f.Intake, f.Escalations, f.Lessons, caller)
                );
                Add(options, listing, services, () => new HumanDecisionTools(f.Drafts, f.Signals, caller));
                Add(options, listing, services, () => new HumanShippingTools(f.Ship, f.Funnel, caller));
                Add(
                    options,
                    listing,
                    services,
                    () => new HumanAdminTools(f.Agents, f.SignalIntake, f.Publisher, f.Paths, caller)
                );
                break;
        }
        // Outermost: one span per call, refusals included (no-op unless telemetry is on).
        options.Filters.Request.CallToolFilters.Add(Telemetry.ToolCallSpans.Filter(caller, f.RunSpans));
        // Then the record of calls on runs the run timeline draws (queued in memory, written about every second).
        options.Filters.Request.CallToolFilters.Add(f.ToolCalls.Filter(caller));
        // First of the filters: a malformed call is refused before anything else runs.
        options.Filters.Request.CallToolFilters.Add(ToolArguments.Filter(options.ToolCollection!));
        if (caller.Role is Roles.Agent or Roles.Human)
            new TaskViews.TaskHandlers(f.McpTasks, caller).Register(options);
        new PromptHandlers(f.Runs).Register(options, caller);
        new ResourceHandlers(f.Tasks, f.Verifications, f.Bundles, f.DiffPages, f.Funnel, f.Drafts).Register(
            options,
            caller
        );
        var logger =
            services.GetService<ILoggerFactory>()?.CreateLogger("FactoryMcp.Tools")
            ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        options.Filters.Request.CallToolFilters.Add(next =>
            async (context, ct) =>
            {
                try
                {
                    return await next(context, ct);
                }
                catch (LedgerException e)
                {
                    return ToolReply.Refused(e);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Tool {Tool} failed", context.Params?.Name);
                    throw;
                }
            }
        );
        // Escalations a call raised (directly, or by a lease sweep) are announced after it committed; those other
        // processes raised, by the first call a second after the last look (Notifier.AfterCallAsync).
        var notifier = f.Notifier;
        options.Filters.Request.CallToolFilters.Add(next =>
            async (context, ct) =>
            {
                var raisedBefore = EscalationLedger.RaisedInProcess;
                try
                {
                    return await next(context, ct);
                }
                finally
                {
                    try
                    {
                        await notifier.AfterCallAsync(raisedBefore, CancellationToken.None);
                    }
                    catch (Exception e)
                    {
                        logger.LogError(e, "Announcing escalations after {Tool} failed", context.Params?.Name);
                    }
                }
            }
        );
        return options;
    }

    /// <summary>
    /// Adds the tools of <typeparamref name="T"/> (its [McpServerTool] methods, listed from the snapshot);
    /// <paramref name="create"/> builds an instance per call (a constructor call: no reflection or compiled
    /// expressions, which would cost every call, or every server's startup, their own time).
    /// </summary>
    private static void Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] T>(
        McpServerOptions options,
        ToolListing listing,
        IServiceProvider services,
        Func<T> create
    )
        where T : class => Add(options, listing, services, _ => create());

    /// <summary>As above, for a tool that reads its own request (declare_terminal_state: whether the client takes tasks).</summary>
    private static void Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] T>(
        McpServerOptions options,
        ToolListing listing,
        IServiceProvider services,
        Func<RequestContext<CallToolRequestParams>, T> create
    )
        where T : class
    {
        foreach (var tool in ToolSnapshot.Of(listing, services, create))
            options.ToolCollection!.Add(tool);
    }

    private static string Instructions(Caller caller) =>
        caller.Role switch
        {
            Roles.Agent =>
                $"FactoryMcp, the outer loop of this software factory. You are builder '{caller.Name}'. Call get_task_packet to get your work, record_evidence as you go, and finish with declare_terminal_state. The server validates your work itself. The 'station' prompt explains the rules.",
            Roles.Verifier =>
                $"FactoryMcp. You are verifier '{caller.Name}' ({caller.VerifierRole}). Call get_task_packet for the next artifact to judge, then submit_verdict. You see only the artifact; the 'verifier-{caller.VerifierRole}' prompt states your mandate.",
            _ =>
                $"FactoryMcp. You are human '{caller.Name}'. Queue work with enqueue_for_agent; read with list_tasks, list_records, get_run and funnel_report; decide with approve_task, update_packet, reject_task, cancel_task, answer_escalation, record_review, mark_shipped, decide_draft, dismiss_signal, promote_lesson and retire_lesson. Ids are in each result's structured content.",
        };
}
