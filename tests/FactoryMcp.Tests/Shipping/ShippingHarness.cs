using FactoryMcp.Ledger.Reviews;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tests.Judgment;

namespace FactoryMcp.Tests.Shipping;

/// <summary>A reviewed, approved run: the point where publishing and shipping begin.</summary>
public static class ShippingHarness
{
    public static async Task<(GateHarness Gate, ReviewRow Review)> ApprovedAsync(
        string? packet = null,
        string lines = "bugfix:\n  lease_minutes: 30\n",
        Func<GateHarness, Task>? whileOpen = null,
        LedgerEngine engine = LedgerEngine.Sqlite
    )
    {
        var gate = await JudgmentHarness.AcceptedAsync(lines, packet, whileOpen, engine);
        var (review, _) = await gate.Factory.Services.Reviews.RecordAsync(
            TestFactory.Human,
            gate.RunId,
            "approve",
            "ship it"
        );
        return (gate, review);
    }
}
