using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Content;
using FactoryMcp.Ledger.Funnel;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Verification;
using FactoryMcp.Tools.Runs;
using FactoryMcp.Tools.Verification;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>Resources by role: packets for builders and humans, run bundles for humans.</summary>
internal sealed class ResourceHandlers(
    TaskLedger tasks,
    VerificationLedger verifications,
    RunBundle bundles,
    DiffPages diffs,
    FunnelLedger funnel,
    DraftLedger drafts
)
{
    private const string PacketTemplate = "factory://tasks/{id}/packet";
    private const string BundleTemplate = "factory://runs/{id}/bundle";
    private const string DiffTemplate = "factory://runs/{id}/diff{?page}";
    private const string DraftTemplate = "factory://drafts/{id}";
    private const string FunnelUri = "factory://funnel";

    public void Register(McpServerOptions options, Caller caller)
    {
        var templates = new List<ResourceTemplate>();
        if (caller.Role is Roles.Agent or Roles.Human or Roles.Verifier)
            templates.Add(
                new ResourceTemplate
                {
                    UriTemplate = PacketTemplate,
                    Name = "packet",
                    Description = "A task's packet (Markdown, the approved version once approved).",
                    MimeType = "text/markdown",
                }
            );
        if (caller.Role is Roles.Human)
            templates.Add(
                new ResourceTemplate
                {
                    UriTemplate = BundleTemplate,
                    Name = "bundle",
                    Description = "A run's evidence bundle (Markdown).",
                    MimeType = "text/markdown",
                }
            );
        if (caller.Role is Roles.Human or Roles.Verifier)
            templates.Add(
                new ResourceTemplate
                {
                    UriTemplate = DiffTemplate,
                    Name = "diff",
                    Description = "The server-computed diff of a run, in pages of 40,000 characters.",
                    MimeType = "text/x-diff",
                }
            );
        if (caller.Role is Roles.Human)
            templates.Add(
                new ResourceTemplate
                {
                    UriTemplate = DraftTemplate,
                    Name = "draft",
                    Description = "A content draft made from a shipped event (status drafted, approved or rejected).",
                    MimeType = "text/markdown",
                }
            );
        if (templates.Count == 0)
            return;
        options.Capabilities ??= new ServerCapabilities();
        options.Capabilities.Resources = new ResourcesCapability();
        options.Handlers.ListResourceTemplatesHandler = (_, _) =>
            ValueTask.FromResult(new ListResourceTemplatesResult { ResourceTemplates = templates });
        options.Handlers.ListResourcesHandler = (_, _) =>
            ValueTask.FromResult(
                new ListResourcesResult
                {
                    Resources =
                        caller.Role is Roles.Human
                            ?
                            [
                                new Resource
                                {
                                    Uri = FunnelUri,
                                    Name = "funnel",
                                    Description = "The funnel report (live and test figures apart).",
                                    MimeType = "text/markdown",
                                },
                            ]
                            : [],
                }
            );
        options.Handlers.ReadResourceHandler = async (request, ct) =>
        {
            var uri = request.Params?.Uri ?? "";
            string text;
            try
            {
                if (
                    Match(uri, "factory://tasks/", "/packet") is { } taskId
                    && templates.Any(t => t.UriTemplate == PacketTemplate)
                )
                {
                    if (caller.Role == Roles.Verifier && !await verifications.VerifiesAsync(caller, null, taskId, ct))
                        throw new McpException(
                            $"You verify no run of task {taskId}; verifiers read only the packets of tasks they verify."
                        );
                    var task = await tasks.GetAsync(taskId, ct);
                    text = (
                        await tasks.GetPacketAsync(taskId, task.ApprovedVersion ?? task.CurrentVersion, ct)
                    ).Markdown;
                }
                else if (
                    Match(uri, "factory://runs/", "/bundle") is { } runId
                    && templates.Any(t => t.UriTemplate == BundleTemplate)
                )
                {
                    text = (await bundles.BuildAsync(runId, ct)).Markdown;
                }
                else if (MatchDiff(uri) is { } diff && templates.Any(t => t.UriTemplate == DiffTemplate))
                {
                    if (
                        caller.Role == Roles.Verifier
                        && !await verifications.VerifiesAsync(caller, diff.RunId, null, ct)
                    )
                        throw new McpException(
                            $"You hold no verification of run {diff.RunId}; verifiers read only the diffs of runs they verify."
                        );
                    var page = await diffs.GetAsync(diff.RunId, diff.Page, ct);
                    text = $"# Diff of run {page.RunId}, page {page.Number} of {page.Count}\n\n{page.Text}";
                }
                else if (uri == FunnelUri && caller.Role is Roles.Human)
                {
                    text = Funnel.FunnelText.Render(await funnel.ReportAsync(ct));
                }
                else if (
                    Match(uri, "factory://drafts/", "") is { } draftId
                    && templates.Any(t => t.UriTemplate == DraftTemplate)
                )
                {
                    var draft = await drafts.GetAsync(draftId, ct);
                    text =
                        $"<!-- draft {draft.Id}: event {draft.EventId}, {draft.Kind}, {draft.Status}, by {draft.Author} -->\n{draft.Content}";
                }
                else
                    throw new McpException(
                        $"Resource '{uri}' is not available to role {caller.Role}; templates: {string.Join(", ", templates.Select(t => t.UriTemplate))}."
                    );
            }
            catch (LedgerException e)
            {
                throw new McpException(e.Message);
            }
            return new ReadResourceResult
            {
                Contents =
                [
                    new TextResourceContents
                    {
                        Uri = uri,
                        MimeType = "text/markdown",
                        Text = text,
                    },
                ],
            };
        };
    }

    private static (long RunId, int Page)? MatchDiff(string uri)
    {
        var query = uri.IndexOf('?');
        var path = query < 0 ? uri : uri[..query];
        if (Match(path, "factory://runs/", "/diff") is not { } runId)
            return null;
        var page = 1;
        if (query >= 0)
        {
            var parameters = System.Web.HttpUtility.ParseQueryString(uri[(query + 1)..]);
            if (parameters["page"] is { } p && (!int.TryParse(p, out page) || page < 1))
                throw new McpException($"page must be a positive number, not '{p}'.");
        }
        return (runId, page);
    }

    private static long? Match(string uri, string prefix, string suffix)
    {
        if (!uri.StartsWith(prefix, StringComparison.Ordinal) || !uri.EndsWith(suffix, StringComparison.Ordinal))
            return null;
        return long.TryParse(uri.AsSpan(prefix.Length, uri.Length - prefix.Length - suffix.Length), out var id)
            ? id
            : null;
    }
}
