using System.CommandLine;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Server.Cli;

/// <summary>agent add|revoke, agents.</summary>
internal static class AgentCommands
{
    public static void Add(RootCommand root)
    {
        var agent = new Command("agent", "Register and revoke agents, verifiers and humans.");
        var name = new Argument<string>("name") { Description = "The agent's name (what FACTORY_AGENT will say)." };
        var role = new Option<string>("--role") { Description = "agent, verifier or human.", DefaultValueFactory = _ => "agent" };
        role.AcceptOnlyFromAmong("agent", "verifier", "human");
        var verifierRole = new Option<string?>("--verifier-role") { Description = "For verifiers: the role they verify for (qa, secops, devops, …)." };
        var pools = new Option<string[]>("--pool") { Description = "Pools to join (repeatable).", Arity = ArgumentArity.ZeroOrMore };
        var add = new Command("add", "Register an agent and print its token once (only its hash is stored).") { name, role, verifierRole, pools };
        add.SetAction(FactoryCli.Handler(async (parse, context, ct) =>
        {
            var factory = await context.OpenAsync(ct);
            var (row, token) = await factory.Agents.AddAsync(CliContext.Human.Actor, parse.GetValue(name)!, parse.GetValue(role)!, parse.GetValue(verifierRole), parse.GetValue(pools) ?? [], ct);
            await context.Error.WriteLineAsync($"Registered {row.Name} as {row.Role}{(row.VerifierRole is { } v ? $" ({v})" : "")}. Its token, shown only now:");
            await context.Out.WriteLineAsync(token);
            return 0;
        }));
        agent.Subcommands.Add(add);

        var revokeName = new Argument<string>("name") { Description = "The agent to revoke." };
        var revoke = new Command("revoke", "Revoke an agent: its token stops working and it leaves its pools.") { revokeName };
        revoke.SetAction(FactoryCli.Handler(async (parse, context, ct) =>
        {
            var factory = await context.OpenAsync(ct);
            await factory.Agents.RevokeAsync(CliContext.Human.Actor, parse.GetValue(revokeName)!, ct);
            await context.Out.WriteLineAsync($"Revoked {parse.GetValue(revokeName)}.");
            return 0;
        }));
        agent.Subcommands.Add(revoke);
        root.Subcommands.Add(agent);

        var agents = new Command("agents", "List registered agents: role, pools, last seen.");
        agents.SetAction(FactoryCli.Handler(async (_, context, ct) =>
        {
            var factory = await context.OpenAsync(ct);
            foreach (var a in await factory.Agents.ListAsync(ct))
            {
                var poolList = await factory.Agents.PoolsOfAsync(a.Id, ct);
                await context.Out.WriteLineAsync($"{a.Name}\t{a.Role}{(a.VerifierRole is { } v ? $"/{v}" : "")}\tpools: {(poolList.Count == 0 ? "-" : string.Join(",", poolList))}\tlast seen: {(a.LastSeenAt is { } s ? Iso.Text(s) : "never")}{(a.RevokedAt is not null ? "\trevoked" : "")}");
            }
            return 0;
        }));
        root.Subcommands.Add(agents);
    }
}
