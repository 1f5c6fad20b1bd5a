using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Dispatch;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Specs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Signals;
using FactoryMcp.Tools.Tasks;

namespace FactoryMcp.Tools.Specs;

/// <summary>
/// The spec station (README, "Spec jobs"): dispatches a signal to a spec agent or pool as a task on the
/// built-in spec line, takes the agent's answer (a packet linked to the signal, always waiting for a
/// human's approval), and tells the agent what it needs to write that packet.
/// </summary>
public sealed class SpecJobs(
    SignalLedger signals,
    SpecLedger specs,
    TaskIntake intake,
    RepositoryResolver repositories,
    Mirrors mirrors,
    LeaseSweeper leases,
    ConfigFiles config,
    LedgerPaths paths
)
{
    /// <summary>Related items a spec agent sees: flagged duplicates, then open work scoring at least this.</summary>
    public const double RelatedMinimum = 0.2;

    public const int RelatedLimit = 8;

    /// <summary>Makes the spec job of a signal, queued for <paramref name="target"/> (an agent or pool:NAME).</summary>
    public async Task<TaskRow> DispatchAsync(
        Caller caller,
        long signalId,
        string target,
        CancellationToken ct = default
    )
    {
        if (string.IsNullOrWhiteSpace(target) || DispatchTargets.IsAnyone(target))
            throw new LedgerException("A spec job needs a target: the spec agent's name or pool:NAME.");
        var signal = await signals.GetAsync(signalId, ct);
        var lines = config.Lines;
        var labels = Json.ReadStrings(signal.LabelsJson);
        var route = SignalRouting.Choose(lines, labels, signal.Source);
        var (markdown, packet) = SpecPacket.Build(signal, labels, route);
        var repo = await repositories.ResolveAsync(TemplateRepo(signal, labels, route), ct);
        var baseSha = await mirrors.ResolveBaseAsync(repo, null, ct);
        var settings = TaskSettings.Merge(packet, lines.Get(LineCatalog.SpecLine));
        var task = await specs.DispatchAsync(caller, signalId, target, markdown, packet, repo, baseSha, settings, ct);
        await mirrors.UpdateRefAsync(repo, $"refs/factory/tasks/{task.Id}/base", baseSha, ct);
        return task;
    }

    /// <summary>The spec agent's answer: a proposal linked to the signal that closes its spec run.</summary>
    public async Task<(TaskRow Proposal, RunRow SpecRun)> AnswerAsync(
        Caller caller,
        long signalId,
        string markdown,
        string target,
        string? note,
        CancellationToken ct = default
    )
    {
        await leases.SweepExpiredAsync(ct);
        var (packet, repo) = await intake.ParseAsync(markdown, ct);
        var to = DispatchTargets.IsAnyone(target) ? null : target;
        return await specs.AnswerAsync(caller, signalId, markdown, packet, repo, to, note, ct);
    }

    /// <summary>What a spec agent reads besides its packet: the signal, related work, and the target line with its template.</summary>
    public async Task<SpecBrief> BriefAsync(TaskRow specTask, CancellationToken ct = default)
    {
        var signal = await signals.GetAsync(
            specTask.SignalId ?? throw new LedgerException($"Task {specTask.Id} is not a spec job."),
            ct
        );
        var lines = config.Lines;
        var labels = Json.ReadStrings(signal.LabelsJson);
        var route = SignalRouting.Choose(lines, labels, signal.Source);
        string? template = null;
        if (route?.Settings.Template is { } t)
        {
            try
            {
                template = SignalTemplate.Load(t, paths);
            }
            catch (LedgerException e)
            {
                template = $"(the template could not be read: {e.Message})";
            }
        }
        return new SpecBrief
        {
            Signal = signal,
            Labels = labels,
            Related = await signals.RelatedAsync(signal, RelatedMinimum, RelatedLimit, ct),
            Route = route,
            Template = template,
            Lines = lines.Lines.Keys.Where(l => l != LineCatalog.SpecLine).Order(StringComparer.Ordinal).ToList(),
        };
    }

    /// <summary>The repository a spec agent should read: the <c>repo:</c> its target line's template gives, else the project's.</summary>
    private string? TemplateRepo(SignalRow signal, IReadOnlyList<string> labels, SignalRouting.Route? route)
    {
        if (route?.Settings.Template is not { } template)
            return null;
        try
        {
            var values = SignalTemplate.ValuesOf(signal, labels, route.Line, route.Priority);
            var text = SignalTemplate.Render(
                SignalTemplate.Load(template, paths),
                values,
                route.Line,
                route.Priority,
                signal.Url
            );
            return PacketParser.Parse(text, config.Lines).FrontMatter.Repo;
        }
        catch (LedgerException)
        {
            return null;
        }
    }
}
