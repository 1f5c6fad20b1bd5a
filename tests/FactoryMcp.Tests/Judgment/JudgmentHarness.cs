using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Judgment;

/// <summary>An accepted run (a real fix, validated by the server) waiting for blind verification and review.</summary>
public static class JudgmentHarness
{
    public const string Lines = """
        bugfix:
          verifiers: [qa, secops]
          max_reworks: 1
          lease_minutes: 30
          verification_timeout_minutes: 120
        """;

    // whileOpen runs while the builder still holds the run, before it declares (to record more evidence).
    public static async Task<GateHarness> AcceptedAsync(
        string lines = Lines,
        string? packet = null,
        Func<GateHarness, Task>? whileOpen = null,
        LedgerEngine engine = LedgerEngine.Sqlite
    )
    {
        var gate = await GateHarness.CreateAsync(
            packet ?? GateHarness.Packet(reproduction: null),
            lines: lines,
            engine: engine
        );
        await gate.PlanAsync();
        if (whileOpen is not null)
            await whileOpen(gate);
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var result = await gate.DeclareAsync();
        Assert.Equal("accepted", result.Outcome);
        return gate;
    }

    public static async Task<Caller> VerifierAsync(this TestFactory factory, string name, string role)
    {
        var (_, token) = await factory.Services.Agents.AddAsync("human:tester", name, Roles.Verifier, role, []);
        return await factory.Services.Agents.AuthenticateAsync(name, token, null);
    }

    public static async Task<RunRow> RunAsync(this GateHarness gate) =>
        await gate.Factory.Services.Runs.GetAsync(gate.RunId);
}
