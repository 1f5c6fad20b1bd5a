using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Packets;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

public sealed class TaskSettingsTests
{
    private static string Frozen(double leaseMinutes) =>
        (
            TaskSettings.Merge(
                PacketParser.Parse(PacketText.Simple("Settings"), LineCatalog.Empty),
                new LineSettings()
            ) with
            {
                LeaseMinutes = leaseMinutes,
            }
        ).ToJson();

    [Fact]
    public void FromJson_TheSameFrozenText_IsParsedOnce()
    {
        var json = Frozen(17);
        // A copy of the text, as every read of the task's row gives a new string.
        Assert.Same(TaskSettings.FromJson(json), TaskSettings.FromJson(new string(json.AsSpan())));
    }

    [Fact]
    public void FromJson_AnotherText_ReadsThatText()
    {
        Assert.Equal(17, TaskSettings.FromJson(Frozen(17)).LeaseMinutes);
        Assert.Equal(18, TaskSettings.FromJson(Frozen(18)).LeaseMinutes);
    }
}
