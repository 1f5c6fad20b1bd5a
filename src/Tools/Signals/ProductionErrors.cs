using System.Globalization;
using System.Text;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Telemetry;
using FactoryMcp.Tools.Telemetry.Otlp;

namespace FactoryMcp.Tools.Signals;

/// <summary>
/// Production errors as signals (README "Telemetry"): the error spans and error logs of the team's services,
/// accepted when factory.yaml or a line says <c>intake: otlp</c>, grouped by fingerprint and counted; a group
/// raises one signal, drafted through its line's template like any signal (never auto-approved), and raises a
/// new one only when that signal is no longer open (dismissed, or its task ended).
/// </summary>
public sealed class ProductionErrors(
    ErrorGroupLedger groups,
    SignalLedger signals,
    TaskLedger tasks,
    SignalIntake intake,
    ConfigFiles config
)
{
    public const string Label = "production-error";

    /// <summary>Errors taken; and the items refused with why (intake is off).</summary>
    public sealed record Taken(long Errors, long Rejected, string? Problem);

    public bool Enabled => config.Settings.Intake == "otlp" || config.Lines.Lines.Values.Any(l => l.Intake == "otlp");

    public async Task<Taken> AcceptAsync(
        IEnumerable<OtlpLogRecord> logs,
        IEnumerable<OtlpSpan> spans,
        CancellationToken ct = default
    )
    {
        var errors = logs.Select(ErrorFingerprint.Of)
            .Concat(spans.Select(ErrorFingerprint.Of))
            .OfType<ProductionError>()
            .ToList();
        if (errors.Count == 0)
            return new Taken(0, 0, null);
        if (!Enabled)
            return new Taken(
                0,
                errors.Count,
                $"{errors.Count} production error(s) refused: set `intake: otlp` in factory.yaml or on a line in lines.yaml to make them signals"
            );
        var batch = errors
            .GroupBy(e => e.Fingerprint)
            .Select(g => new ErrorOccurrences(
                g.Key,
                g.First().Service,
                g.First().ExceptionType,
                g.First().Message,
                g.First().Route,
                g.First().Sample,
                g.Count(),
                [.. g.Select(e => e.TraceId).OfType<string>().Distinct().Take(ErrorGroupLedger.MaxExemplars)]
            ))
            .ToList();
        foreach (var group in await groups.RecordAsync(batch, ct))
            await RaiseAsync(group, ct);
        return new Taken(errors.Count, 0, null);
    }

    /// <summary>Raises the group's signal unless an open one already stands for it.</summary>
    private async Task RaiseAsync(ErrorGroupRow group, CancellationToken ct)
    {
        var round = 1;
        if (group.SignalId is { } id)
        {
            var current = await signals.GetAsync(id, ct);
            if (await IsOpenAsync(current, ct))
                return;
            var hash = current.ExternalId.LastIndexOf('#');
            round =
                (
                    hash > 0 && int.TryParse(current.ExternalId[(hash + 1)..], CultureInfo.InvariantCulture, out var n)
                        ? n
                        : 1
                ) + 1;
        }
        var externalId = round == 1 ? group.Fingerprint : $"{group.Fingerprint}#{round}";
        var outcome = await intake.IngestAsync(
            "hook:otlp",
            new SignalInput(
                SignalKeys.Otlp,
                externalId,
                Title(group),
                Body(group),
                null,
                [Label, $"service:{group.Service}"],
                group.Service,
                group.FirstSeen,
                null
            ),
            ct
        );
        await groups.LinkSignalAsync(group.Fingerprint, outcome.Signal.Id, ct);
    }

    private async Task<bool> IsOpenAsync(SignalRow signal, CancellationToken ct)
    {
        if (signal.Status == SignalStatuses.Dismissed)
            return false;
        if (signal.Status != SignalStatuses.Proposed)
            return true;
        return await tasks.FindBySignalAsync(signal.Id, ct) is not { } task || !TaskStates.IsFinal(task.State);
    }

    private static string Title(ErrorGroupRow g)
    {
        var title = $"Production error in {g.Service}: {g.ExceptionType}: {g.Message}";
        return title.Length <= 200 ? title : title[..200];
    }

    private static string Body(ErrorGroupRow g)
    {
        var sb = new StringBuilder();
        sb.AppendLine(
            CultureInfo.InvariantCulture,
            $"{g.ExceptionType} in service {g.Service}{(g.Route.Length > 0 ? $" at {g.Route}" : "")}, first seen {g.FirstSeen:yyyy-MM-ddTHH:mm:ssZ} (counted in `factory errors`)."
        );
        sb.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"Fingerprint: {g.Fingerprint}");
        var traces = Ledger.Json.ReadStrings(g.Exemplars);
        if (traces.Count > 0)
            sb.AppendLine(CultureInfo.InvariantCulture, $"Exemplar traces: {string.Join(", ", traces)}");
        sb.AppendLine().AppendLine("Sample:").AppendLine().AppendLine(g.Sample);
        return sb.ToString().TrimEnd();
    }
}
