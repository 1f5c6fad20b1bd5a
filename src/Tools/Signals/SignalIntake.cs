using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Specs;
using FactoryMcp.Tools.Tasks;

namespace FactoryMcp.Tools.Signals;

/// <summary>
/// Where every signal enters the factory, whatever carried it (import file, webhook): it is recorded once
/// per key, then drafted into a <c>proposed</c> packet from its line's template (line chosen by
/// label_map). A signal that cannot make a valid packet is kept with the reason. A proposal reaches no
/// agent before a human approves it, unless its line auto-approves and everything that runs or gates
/// (commands, scope, front matter) comes wholly from the line's configuration with no weakening override,
/// and the signal is not a possible duplicate. When the spec line has a <c>route</c>, a signal whose line
/// has no template (or that no line takes) becomes a spec job for that route instead (README, "Spec jobs").
/// </summary>
public sealed class SignalIntake(
    SignalLedger signals,
    TaskLedger tasks,
    TaskIntake intake,
    SpecJobs specs,
    ConfigFiles config,
    LedgerPaths paths
)
{
    /// <summary>
    /// What became of one signal: its task (a proposal, or its spec job), and the open tasks and signals it
    /// may duplicate. <paramref name="Note"/> says why an auto-approve line still waits for a human.
    /// </summary>
    public sealed record Outcome(SignalRow Signal, bool Created, TaskRow? Task = null, string? Note = null)
    {
        public IReadOnlyList<SignalLink> Duplicates { get; init; } = [];
    }

    /// <summary>
    /// Records the signal (once per key) and drafts its proposal. Ingesting a signal already drafted adds
    /// nothing; one that was set aside (unrouted or invalid) is drafted again, since lines.yaml may have changed.
    /// </summary>
    /// <remarks>
    /// <paramref name="line"/>, when given (a trigger's line), takes the signal instead of label_map, with the
    /// priority its label_map gives the signal's labels, if any.
    /// </remarks>
    /// <remarks>
    /// <paramref name="target"/>, when given (an issue assigned to a registered agent), is the agent the drafted
    /// task is queued for once approved, instead of the line's route.
    /// </remarks>
    public async Task<Outcome> IngestAsync(
        string actor,
        SignalInput input,
        CancellationToken ct = default,
        string? line = null,
        string? target = null
    )
    {
        var (signal, created) = await signals.RecordAsync(actor, input, config.Settings.DuplicateThreshold, ct);
        var duplicates = await signals.LinksAsync(signal.Id, ct);
        if (!SignalStatuses.IsUndrafted(signal.Status))
            return new Outcome(signal, created, await tasks.FindBySignalAsync(signal.Id, ct))
            {
                Duplicates = duplicates,
            };
        return await DraftAsync(actor, signal, created, duplicates, line, target, ct) with { Duplicates = duplicates };
    }

    private async Task<Outcome> DraftAsync(
        string actor,
        SignalRow signal,
        bool created,
        IReadOnlyList<SignalLink> duplicates,
        string? line,
        string? target,
        CancellationToken ct
    )
    {
        var lines = config.Lines;
        var labels = Json.ReadStrings(signal.LabelsJson);
        var route = line is null
            ? SignalRouting.Choose(lines, labels, signal.Source)
            : SignalRouting.Forced(lines, line, labels);
        if (line is not null && route is null)
            return new Outcome(
                await signals.SetAsideAsync(
                    actor,
                    signal.Id,
                    SignalStatuses.Invalid,
                    $"Line {line} is not in lines.yaml, so no packet can be drafted. Add it (with a template) and the next firing drafts this signal.",
                    ct
                ),
                created
            );
        if (
            (route is null || route.Settings.Template is null)
            && lines.Find(LineCatalog.SpecLine)?.Route is { } specRoute
        )
            return await SpecAsync(actor, signal, created, specRoute, ct);
        if (route is null)
            return new Outcome(
                await signals.SetAsideAsync(
                    actor,
                    signal.Id,
                    SignalStatuses.Unrouted,
                    SignalRouting.Unrouted(lines, signal, labels),
                    ct
                ),
                created
            );

        string markdown;
        Packet packet;
        Dictionary<string, string> values;
        string template;
        try
        {
            if (route.Settings.Template is null)
                throw new LedgerException(
                    $"Line {route.Line}{(route.Label is { } l ? $" (chosen by label '{l}')" : "")} has no `template` in lines.yaml, so no packet can be drafted. Add one and ingest again."
                );
            template = SignalTemplate.Load(route.Settings.Template, paths);
            values = SignalTemplate.ValuesOf(signal, labels, route.Line, route.Priority, route.Settings);
            markdown = SignalTemplate.Render(template, values, route.Line, route.Priority, signal.Url);
            packet = PacketParser.Parse(markdown, lines);
            if (packet.Line != route.Line)
                throw new LedgerException(
                    $"The template of line {route.Line} sets `line: {packet.Line}`; a template drafts packets for its own line only."
                );
        }
        catch (LedgerException e)
        {
            return new Outcome(
                await signals.SetAsideAsync(actor, signal.Id, SignalStatuses.Invalid, Reason(route.Line, e), ct),
                created
            );
        }

        TaskRow task;
        try
        {
            task = await intake.ProposeAsync(
                Caller.SignalIntake,
                markdown,
                signal.Id,
                target ?? route.Settings.Route,
                ct
            );
        }
        catch (LedgerException e)
        {
            var now = await signals.GetAsync(signal.Id, ct);
            // Another intake drafted it meanwhile: that task is the one.
            if (now.Status == SignalStatuses.Proposed)
                return new Outcome(now, created, await tasks.FindBySignalAsync(signal.Id, ct));
            return new Outcome(
                await signals.SetAsideAsync(actor, signal.Id, SignalStatuses.Invalid, Reason(route.Line, e), ct),
                created
            );
        }

        string? note = null;
        if (route.Settings.AutoApprove)
        {
            var blockers = AutoApprovalBlockers(template, values, route, packet, lines);
            if (duplicates.Count > 0)
                blockers.Add($"it may duplicate {string.Join("; ", duplicates.Select(d => d.Describe()))}");
            // A production error's text comes from a service's telemetry: a human always reads it first.
            if (signal.Source == SignalKeys.Otlp)
                blockers.Add("production errors (OTLP intake) always wait for a human");
            if (blockers.Count == 0)
            {
                task = await intake.AutoApproveAsync(task.Id, ct);
            }
            else
            {
                note =
                    $"Line {route.Line} auto-approves, but this proposal needs a human: {string.Join("; ", blockers)}.";
                await signals.NoteAsync(actor, signal.Id, note, ct);
            }
        }
        return new Outcome(await signals.GetAsync(signal.Id, ct), created, task, note);
    }

    /// <summary>
    /// Why a proposal on an auto-approve line may not skip the human: anything that runs or gates it
    /// (commands, scope, non-goals, front matter) changes with the signal's text, or an override weakens
    /// the line. Checked by drafting again with every signal-supplied value blank.
    /// </summary>
    private static List<string> AutoApprovalBlockers(
        string template,
        Dictionary<string, string> values,
        SignalRouting.Route route,
        Packet packet,
        LineCatalog lines
    )
    {
        var blockers = new List<string>();
        Packet? configured = null;
        try
        {
            configured = PacketParser.Parse(
                SignalTemplate.Render(
                    template,
                    SignalTemplate.Blank(values),
                    route.Line,
                    route.Priority,
                    "https://example.invalid/"
                ),
                lines
            );
        }
        catch (LedgerException) { }
        if (configured is null || Gates(configured) != Gates(packet))
            blockers.Add(
                "its commands, scope or front matter depend on the signal's text, not only on the line's configuration"
            );
        blockers.AddRange(TaskSettings.Weakenings(packet, route.Settings).Select(w => "it weakens a gate: " + w));
        return blockers;
    }

    /// <summary>Sends the signal to a spec agent (the spec line's route); a route that names nobody sets it aside with the reason.</summary>
    private async Task<Outcome> SpecAsync(
        string actor,
        SignalRow signal,
        bool created,
        string route,
        CancellationToken ct
    )
    {
        try
        {
            var job = await specs.DispatchAsync(Caller.SignalIntake, signal.Id, route, ct);
            return new Outcome(await signals.GetAsync(signal.Id, ct), created, job);
        }
        catch (LedgerException e)
        {
            var now = await signals.GetAsync(signal.Id, ct);
            if (!SignalStatuses.IsUndrafted(now.Status))
                return new Outcome(now, created, await tasks.FindBySignalAsync(signal.Id, ct));
            return new Outcome(
                await signals.SetAsideAsync(
                    actor,
                    signal.Id,
                    SignalStatuses.Invalid,
                    $"Line spec (route {route}): {e.Message}",
                    ct
                ),
                created
            );
        }
    }

    private static string Gates(Packet p) =>
        Json.Compact(
            new JsonObject
            {
                ["validation"] = Json.Array(p.Validation),
                ["reproduction"] = JsonSerializer.SerializeToNode(p.Reproduction, LedgerJson.Default.Reproduction),
                ["scope"] = Json.Array(p.Scope),
                ["non_goals"] = Json.Array(p.NonGoals),
                ["front_matter"] = JsonSerializer.SerializeToNode(p.FrontMatter, LedgerJson.Default.PacketFrontMatter),
            }
        );

    private static string Reason(string line, LedgerException e) => $"Line {line}: {e.Message}";
}
