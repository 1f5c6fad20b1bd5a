using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Runs;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>Resources by role: packets for builders and humans, run bundles for humans.</summary>
internal static class ResourceHandlers
{
    private const string PacketTemplate = "factory://tasks/{id}/packet";
    private const string BundleTemplate = "factory://runs/{id}/bundle";

    public static void Register(McpServerOptions options, Caller caller, IServiceProvider services)
    {
        var templates = new List<ResourceTemplate>();
        if (caller.Role is Roles.Agent or Roles.Human)
            templates.Add(new ResourceTemplate { UriTemplate = PacketTemplate, Name = "packet", Description = "A task's packet (Markdown, the approved version once approved).", MimeType = "text/markdown" });
        if (caller.Role is Roles.Human)
            templates.Add(new ResourceTemplate { UriTemplate = BundleTemplate, Name = "bundle", Description = "A run's evidence bundle (Markdown).", MimeType = "text/markdown" });
        if (templates.Count == 0) return;
        options.Capabilities ??= new ServerCapabilities();
        options.Capabilities.Resources = new ResourcesCapability();
        options.Handlers.ListResourceTemplatesHandler = (_, _) => ValueTask.FromResult(new ListResourceTemplatesResult { ResourceTemplates = templates });
        options.Handlers.ListResourcesHandler = (_, _) => ValueTask.FromResult(new ListResourcesResult { Resources = [] });
        options.Handlers.ReadResourceHandler = async (request, ct) =>
        {
            var uri = request.Params?.Uri ?? "";
            var factory = services.GetRequiredService<FactoryServices>();
            string text;
            try
            {
                if (Match(uri, "factory://tasks/", "/packet") is { } taskId && templates.Any(t => t.UriTemplate == PacketTemplate))
                {
                    var task = await factory.Tasks.GetAsync(taskId, ct);
                    text = (await factory.Tasks.GetPacketAsync(taskId, task.ApprovedVersion ?? task.CurrentVersion, ct)).Markdown;
                }
                else if (Match(uri, "factory://runs/", "/bundle") is { } runId && templates.Any(t => t.UriTemplate == BundleTemplate))
                {
                    text = (await new RunBundle(factory.Tasks, factory.Runs).BuildAsync(runId, ct)).Markdown;
                }
                else throw new McpException($"Resource '{uri}' is not available to role {caller.Role}; templates: {string.Join(", ", templates.Select(t => t.UriTemplate))}.");
            }
            catch (LedgerException e)
            {
                throw new McpException(e.Message);
            }
            return new ReadResourceResult { Contents = [new TextResourceContents { Uri = uri, MimeType = "text/markdown", Text = text }] };
        };
    }

    private static long? Match(string uri, string prefix, string suffix)
    {
        if (!uri.StartsWith(prefix, StringComparison.Ordinal) || !uri.EndsWith(suffix, StringComparison.Ordinal)) return null;
        return long.TryParse(uri.AsSpan(prefix.Length, uri.Length - prefix.Length - suffix.Length), out var id) ? id : null;
    }
}
