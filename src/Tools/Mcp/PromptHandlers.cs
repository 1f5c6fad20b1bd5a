using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Tools.Prompts;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>Serves prompts/*.md as MCP prompts, filtered by the caller's role.</summary>
internal sealed class PromptHandlers(RunLedger runs)
{
    public void Register(McpServerOptions options, Caller caller)
    {
        // Read (and parse) the prompt files on the first prompts request, not while the server starts.
        var lazy = new Lazy<List<PromptCatalog.PromptFile>>(() =>
            PromptCatalog.ForRole(caller.Role, caller.VerifierRole).ToList()
        );
        options.Capabilities ??= new ServerCapabilities();
        options.Capabilities.Prompts = new PromptsCapability();
        options.Handlers.ListPromptsHandler = (_, _) =>
            ValueTask.FromResult(
                new ListPromptsResult
                {
                    Prompts = lazy
                        .Value.Select(p => new Prompt
                        {
                            Name = p.Name,
                            Description = p.Description,
                            Arguments =
                            [
                                new PromptArgument
                                {
                                    Name = "run_id",
                                    Description = "Your run (defaults to the run you hold).",
                                    Required = false,
                                },
                            ],
                        })
                        .ToList(),
                }
            );
        options.Handlers.GetPromptHandler = async (request, ct) =>
        {
            var name = request.Params?.Name ?? "";
            var visible = lazy.Value;
            var prompt =
                visible.FirstOrDefault(p => p.Name == name)
                ?? throw new McpException(
                    $"There is no prompt '{name}' for role {caller.Role}; available: {string.Join(", ", visible.Select(p => p.Name))}."
                );
            var values = await ValuesAsync(caller, request.Params?.Arguments, ct);
            return new GetPromptResult
            {
                Description = prompt.Description,
                Messages =
                [
                    new PromptMessage
                    {
                        Role = Role.User,
                        Content = new TextContentBlock { Text = PromptCatalog.Render(prompt, values) },
                    },
                ],
            };
        };
    }

    private async Task<Dictionary<string, string>> ValuesAsync(
        Caller caller,
        IDictionary<string, System.Text.Json.JsonElement>? arguments,
        CancellationToken ct
    )
    {
        var values = new Dictionary<string, string>
        {
            ["agent"] = caller.Name,
            ["role"] = caller.Role,
            ["verifier_role"] = caller.VerifierRole ?? "",
            ["workspace"] = "(call get_task_packet: its result names your workspace)",
            ["run_id"] = "(none yet)",
        };
        long? runId = null;
        if (arguments is not null && arguments.TryGetValue("run_id", out var raw))
        {
            runId =
                raw.ValueKind == System.Text.Json.JsonValueKind.Number ? raw.GetInt64()
                : long.TryParse(raw.GetString(), out var parsed) ? parsed
                : throw new McpException("run_id must be a number.");
        }
        if (caller.Role == Roles.Agent)
        {
            var run = runId is { } id ? await runs.GetAsync(id, ct) : await runs.HeldByAsync(caller.AgentId, ct);
            if (run is not null)
            {
                if (run.AgentId != caller.AgentId)
                    throw new McpException($"Run {run.Id} is not yours.");
                values["run_id"] = run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
                values["workspace"] = run.Workspace ?? values["workspace"];
            }
        }
        return values;
    }
}
