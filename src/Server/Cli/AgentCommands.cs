using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Queries;

namespace FactoryMcp.Server.Cli;

/// <summary>agent add|revoke, agents.</summary>
internal static class AgentCommands
{
    public static void Add(RootCommand root)
    {
        var agent = new Command("agent", "Register and revoke agents, verifiers and humans.");
        var name = new Argument<string>("name") { Description = "The agent's name (what FACTORY_AGENT will say)." };
        var role = new Option<string>("--role")
        {
            Description = "agent, verifier or human.",
            DefaultValueFactory = _ => "agent",
        };
        role.AcceptOnlyFromAmong("agent", "verifier", "human");
        var verifierRole = new Option<string?>("--verifier-role")
        {
            Description = "For verifiers: the role they verify for (qa, secops, devops, …).",
        };
        var pools = new Option<string[]>("--pool")
        {
            Description = "Pools to join (repeatable).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var add = new Command("add", "Register an agent and print its token once (only its hash is stored).")
        {
            name,
            role,
            verifierRole,
            pools,
        };
        add.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var (row, token) = await factory.Agents.AddAsync(
                        CliContext.Human.Actor,
                        parse.GetValue(name)!,
                        parse.GetValue(role)!,
                        parse.GetValue(verifierRole),
                        parse.GetValue(pools) ?? [],
                        ct
                    );
                    await context.Error.WriteLineAsync(
                        $"Registered {row.Name} as {row.Role}{(row.VerifierRole is { } v ? $" ({v})" : "")}. Its token, shown only now:"
                    );
                    await context.Out.WriteLineAsync(token);
                    return 0;
                }
            )
        );
        agent.Subcommands.Add(add);

        var revokeName = new Argument<string>("name") { Description = "The agent to revoke." };
        var revoke = new Command("revoke", "Revoke an agent: its token stops working and it leaves its pools.")
        {
            revokeName,
        };
        revoke.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    await factory.Agents.RevokeAsync(CliContext.Human.Actor, parse.GetValue(revokeName)!, ct);
                    await context.Out.WriteLineAsync($"Revoked {parse.GetValue(revokeName)}.");
                    return 0;
                }
            )
        );
        agent.Subcommands.Add(revoke);
        root.Subcommands.Add(agent);

        var window = new Option<string>("--window")
        {
            Description = "How far back busy time and utilization look: 90m, 24h, 7d (default 24h).",
            DefaultValueFactory = _ => "24h",
        };
        var json = CliOutput.JsonOption();
        var agents = new Command(
            "agents",
            "List agents: role, pools, last seen, open runs, busy time and utilization over a window, and who is idle."
        )
        {
            window,
            json,
        };
        agents.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var span = ParseWindow(parse.GetValue(window)!);
                    var factory = await context.OpenAsync(ct);
                    var now = factory.Db.Now;
                    var rows = await factory.Agents.ActivityAsync(span, ct);
                    if (parse.GetValue(json))
                    {
                        await CliOutput.WriteJsonAsync(
                            context.Out,
                            Json.Array(
                                rows.Select(a =>
                                    (JsonNode?)
                                        new JsonObject
                                        {
                                            ["name"] = a.Agent.Name,
                                            ["role"] = a.Agent.Role,
                                            ["verifier_role"] = a.Agent.VerifierRole,
                                            ["pools"] = Json.Array(a.Pools),
                                            ["status"] = a.Status,
                                            ["last_seen_at"] = a.Agent.LastSeenAt,
                                            ["open_runs"] = a.OpenRuns,
                                            ["busy_minutes"] = Math.Round(a.Busy.TotalMinutes, 1),
                                            ["utilization"] = Math.Round(a.Utilization, 4),
                                        }
                                )
                            )
                        );
                        return 0;
                    }
                    await context.Out.WriteLineAsync(
                        $"NAME\tROLE\tPOOLS\tSTATUS\tLAST SEEN\tOPEN RUNS\tBUSY ({parse.GetValue(window)})\tUTILIZATION"
                    );
                    foreach (var a in rows)
                    {
                        var role = a.Agent.Role + (a.Agent.VerifierRole is { } v ? $"/{v}" : "");
                        var seen = a.Agent.LastSeenAt is { } s ? $"{Ago(now - s)} ago" : "never";
                        await context.Out.WriteLineAsync(
                            string.Join(
                                '\t',
                                a.Agent.Name,
                                role,
                                a.Pools.Count == 0 ? "-" : string.Join(",", a.Pools),
                                a.Status,
                                seen,
                                a.OpenRuns.ToString(CultureInfo.InvariantCulture),
                                Ago(a.Busy),
                                (a.Utilization * 100).ToString("0", CultureInfo.InvariantCulture) + "%"
                            )
                        );
                    }
                    var builders = rows.Where(a =>
                            a.Agent.Role == Roles.Agent && a.Status != AgentActivity.RevokedStatus
                        )
                        .ToList();
                    var idle = builders
                        .Where(a => a.Status == AgentActivity.IdleStatus)
                        .Select(a => a.Agent.Name)
                        .ToList();
                    var busy = builders.Count(a => a.Status == AgentActivity.BusyStatus);
                    await context.Out.WriteLineAsync(
                        $"Builders: {builders.Count}, busy {busy}, idle {idle.Count}{(idle.Count > 0 ? $" ({string.Join(", ", idle)})" : "")}, away {builders.Count - busy - idle.Count}."
                    );
                    return 0;
                }
            )
        );
        root.Subcommands.Add(agents);
    }

    /// <summary>90m, 24h, 7d or 3600s (the same reading as the tools' since: <see cref="Since.Duration"/>).</summary>
    internal static TimeSpan ParseWindow(string text) =>
        Since.Duration(text)
        ?? throw new UsageException($"--window '{text.Trim()}' is not a duration; write it like 90m, 24h or 7d.");

    private static string Ago(TimeSpan span) =>
        span.TotalMinutes < 1 ? $"{(int)span.TotalSeconds}s"
        : span.TotalHours < 1 ? $"{(int)span.TotalMinutes}m"
        : span.TotalDays < 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m"
        : $"{(int)span.TotalDays}d{span.Hours:00}h";
}
