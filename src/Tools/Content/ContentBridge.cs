using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Content;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Shipping;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Git;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Tasks;

namespace FactoryMcp.Tools.Content;

/// <summary>What one `factory content drain` did.</summary>
public sealed record DrainReport(int Events, int DraftsCreated, int ContentPackets, IReadOnlyList<string> Exported);

/// <summary>
/// The bridge from shipped work to marketing drafts (DESIGN section 11): for each live shipped event, a
/// deterministic blog post, social post and changelog entry from the allowlisted brief, redacted before
/// they are stored, idempotent per (event, kind); the ledger is authoritative and drafts/ holds exports.
/// When a marketing line exists, a content packet goes to a writer, whose files replace the drafts (after
/// redaction) once the server accepts the writer's run. Nothing is published automatically.
/// </summary>
public sealed class ContentBridge(
    ShippingLedger shipping,
    TaskLedger tasks,
    RunLedger runs,
    EvidenceLedger evidence,
    DraftLedger drafts,
    TaskIntake intake,
    Mirrors mirrors,
    ConfigFiles config,
    LedgerPaths paths
)
{
    public static readonly Caller Bridge = new(0, "content-bridge", "server");

    public Redactor RedactorFor(string? repo)
    {
        var settings = config.Settings.Content;
        var names = new List<string>();
        if (repo is not null)
        {
            var name = Path.GetFileName(repo.TrimEnd('/')).Replace(".git", "");
            if (name.Length > 0)
                names.Add(name);
            if (Mirrors.IsUrl(repo) && repo.Split(['/', ':']) is { Length: >= 2 } parts)
                names.Add($"{parts[^2]}/{parts[^1].Replace(".git", "")}");
        }
        // A local folder named like a public repository (app for acme/app) is that repository: its name may appear.
        names.RemoveAll(n =>
            settings.PublicRepositories.Any(p =>
                p.Equals(n, StringComparison.OrdinalIgnoreCase)
                || p.EndsWith("/" + n, StringComparison.OrdinalIgnoreCase)
            )
        );
        return new Redactor(settings.PublicRepositories, names);
    }

    /// <summary>Drafts every shipped event that lacks them (live ones; test ones only when asked). Running it twice adds nothing.</summary>
    public async Task<DrainReport> DrainAsync(bool includeTest, CancellationToken ct = default)
    {
        var events = (await shipping.EventsAsync(ct)).Where(e => e.Environment == "live" || includeTest).ToList();
        return await DraftAllAsync(events, ct);
    }

    /// <summary>
    /// What a long-running server does on its own: drafts the events of its ledger's environment that still
    /// lack a draft (a test ledger's server drafts its test events, which never reach live figures).
    /// </summary>
    public async Task<DrainReport> DrainPendingAsync(CancellationToken ct = default)
    {
        var pending = await drafts.UndraftedEventsAsync(ct);
        var events = new List<ShippedEventRow>(pending.Count);
        foreach (var id in pending)
            events.Add(await shipping.GetAsync(id, ct));
        return await DraftAllAsync(events, ct);
    }

    private async Task<DrainReport> DraftAllAsync(IReadOnlyList<ShippedEventRow> events, CancellationToken ct)
    {
        int created = 0,
            packets = 0;
        var exported = new List<string>();
        foreach (var shipped in events)
        {
            var brief = await BriefAsync(shipped, ct);
            var task = await tasks.GetAsync(shipped.TaskId, ct);
            var redactor = RedactorFor(task.Repo);
            var briefJson = Json.Serialize(
                redactor.Redact(Json.Serialize(brief, Mcp.ToolsJson.Default.Brief)).Text,
                LedgerJson.Default.String
            );
            foreach (
                var (kind, text) in new[]
                {
                    (DraftKinds.Blog, DraftTemplates.Blog(brief)),
                    (DraftKinds.Social, DraftTemplates.Social(brief)),
                    (DraftKinds.Changelog, DraftTemplates.Changelog(brief)),
                }
            )
            {
                var (_, changed) = await drafts.StoreAsync(
                    Bridge.Actor,
                    shipped.Id,
                    kind,
                    text,
                    briefJson,
                    "template",
                    redactor,
                    replace: false,
                    ct
                );
                if (changed)
                    created++;
            }
            exported.AddRange(await ExportAsync(shipped.Id, ct));
            if (await EnqueueWriterAsync(shipped, brief, task, ct))
                packets++;
        }
        return new DrainReport(events.Count, created, packets, exported);
    }

    /// <summary>Writes the ledger's drafts of an event to drafts/event-N/ (exports; the ledger stays authoritative).</summary>
    public async Task<IReadOnlyList<string>> ExportAsync(long eventId, CancellationToken ct = default)
    {
        var folder = Path.Combine(paths.Drafts, $"event-{eventId}");
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        foreach (var draft in await drafts.ListAsync(eventId, ct))
        {
            var path = Path.Combine(folder, FileName(draft.Kind));
            await File.WriteAllTextAsync(path, draft.Content, ct);
            written.Add(path);
        }
        return written;
    }

    public static string FileName(string kind) =>
        kind switch
        {
            DraftKinds.Blog => "blog.md",
            DraftKinds.Social => "social.txt",
            _ => "changelog.md",
        };

    private async Task<Brief> BriefAsync(ShippedEventRow shipped, CancellationToken ct)
    {
        var task = await tasks.GetAsync(shipped.TaskId, ct);
        var run = await runs.GetAsync(shipped.RunId, ct);
        var packet = TaskLedger.ParsedPacket(await tasks.GetPacketAsync(task.Id, run.PacketVersion, ct));
        var server = (await evidence.ForRunAsync(run.Id, ct)).Where(e => e.Origin == Origins.Server).ToList();
        var diff = server.LastOrDefault(e => e.Kind == EvidenceKinds.Diff);
        var validation = server.LastOrDefault(e => e.Kind == EvidenceKinds.TestOutput);
        var reproduction = server.LastOrDefault(e => e.Kind == EvidenceKinds.Reproduction);
        var settings = Ledger.Runs.RunLedger.SettingsOf(task);
        var source = packet.Source?.Trim().Split('\n')[0];
        return new Brief
        {
            EventId = shipped.Id,
            Run = run.Id,
            Task = task.Id,
            Line = task.Line,
            Title = task.Title,
            Intent = string.Join(
                ' ',
                packet.Intent.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            ),
            WhatChanged = diff?.Summary ?? "See the pull request.",
            Validated = validation is null
                ? "Validated by the factory."
                : $"The factory re-ran {string.Join(", ", settings.Validation.Select(c => $"`{c}`"))} on a clean checkout, sandboxed: {validation.Summary}.",
            Reproduction = reproduction?.Summary,
            Source = source is { Length: > 0 } && source.StartsWith("http", StringComparison.Ordinal) ? source : null,
            PullRequest = shipped.PrUrl,
            ShippedAt = Iso.Text(shipped.ShippedAt),
            Environment = shipped.Environment,
        };
    }

    /// <summary>Sends a content packet to the marketing line's writer once per event, when such a line exists.</summary>
    private async Task<bool> EnqueueWriterAsync(
        ShippedEventRow shipped,
        Brief brief,
        TaskRow shippedTask,
        CancellationToken ct
    )
    {
        var settings = config.Settings.Content;
        var lines = config.Lines;
        if (!lines.Configured || !lines.Lines.ContainsKey(settings.MarketingLine))
            return false;
        if (await drafts.ContentTaskOfAsync(shipped.Id, ct) is not null)
            return false;
        var folder = $"drafts/event-{shipped.Id}";
        var current = await drafts.ListAsync(shipped.Id, ct);
        var redactor = RedactorFor(shippedTask.Repo);
        var packet = $"""
            ---
            line: {settings.MarketingLine}
            output: patch
            ---
            # Write about: {brief.Title.Replace('\n', ' ')}

            ## Intent
            Improve the blog post, social post (at most 280 characters) and changelog entry for shipped change {shipped.Id}, using only the brief below. The prompt `writer` has the rules.

            ## Scope
            - {folder}/

            ## Validation
            - `test -s {folder}/blog.md`
            - `test -s {folder}/social.txt`
            - `test -s {folder}/changelog.md`
            - `test "$(wc -m < {folder}/social.txt)" -le 281`

            ## Evidence Required
            - plan

            ## Brief
            {redactor.Redact(brief.ToMarkdown()).Text}

            ## Current drafts
            {string.Join("\n\n", current.Select(d => $"### {FileName(d.Kind)}\n```\n{d.Content.TrimEnd()}\n```"))}
            """;
        var target = settings.Writer ?? lines.Lines[settings.MarketingLine].Route;
        var task = await intake.ProposeAsync(Bridge, packet, target: target, ct: ct);
        await drafts.RecordContentJobAsync(Bridge.Actor, shipped.Id, task.Id, ct);
        return true;
    }

    /// <summary>After a writer's run is accepted, its files replace the event's drafts (redacted first).</summary>
    public async Task<int> ApplyWriterOutputAsync(long runId, CancellationToken ct = default)
    {
        var run = await runs.GetAsync(runId, ct);
        var eventId = await drafts.EventOfContentTaskAsync(run.TaskId, ct);
        if (eventId is not { } id || run.HeadSha is null)
            return 0;
        var task = await tasks.GetAsync(run.TaskId, ct);
        var shipped = await shipping.GetAsync(id, ct);
        var shippedTask = await tasks.GetAsync(shipped.TaskId, ct);
        var redactor = RedactorFor(shippedTask.Repo);
        var replaced = 0;
        foreach (var kind in DraftKinds.All)
        {
            byte[] bytes;
            try
            {
                bytes = await GitRunner.RunBytesAsync(
                    ["cat-file", "blob", $"{run.HeadSha}:drafts/event-{id}/{FileName(kind)}"],
                    new GitRunner.Options { GitDir = mirrors.PathFor(task.Repo) },
                    ct
                );
            }
            catch (GitException)
            {
                continue;
            }
            var existing = (await drafts.ListAsync(id, ct)).FirstOrDefault(d => d.Kind == kind);
            var (_, changed) = await drafts.StoreAsync(
                Bridge.Actor,
                id,
                kind,
                System.Text.Encoding.UTF8.GetString(bytes),
                existing?.BriefJson ?? "{}",
                $"writer:{run.AgentName}",
                redactor,
                replace: true,
                ct
            );
            if (changed)
                replaced++;
        }
        await drafts.MarkContentAppliedAsync(Bridge.Actor, id, ct);
        await ExportAsync(id, ct);
        return replaced;
    }
}
