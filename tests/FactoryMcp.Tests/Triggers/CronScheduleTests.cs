using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Settings;
using FactoryMcp.Ledger.Triggers;

namespace FactoryMcp.Tests.Triggers;

/// <summary>The 5-field cron parser of triggers: what fires when, in the server's time zone, and what is refused.</summary>
public sealed class CronScheduleTests
{
    private static DateTimeOffset Utc(int y, int mo, int d, int h, int mi) => new(y, mo, d, h, mi, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0 3 * * *", "2026-11-21T09:00Z", "2026-11-22T03:00Z")]
    [InlineData("*/15 * * * *", "2026-11-21T09:00Z", "2026-11-21T09:15Z")]
    [InlineData("5,35 9-10 * * *", "2026-11-21T09:10Z", "2026-11-21T09:35Z")]
    [InlineData("0 0 1 * *", "2026-11-21T09:00Z", "2026-12-01T00:00Z")]
    [InlineData("0 12 * * MON", "2026-11-21T09:00Z", "2026-11-23T12:00Z")] // 21 Nov 2026 is a Saturday
    [InlineData("0 12 * * 7", "2026-11-21T09:00Z", "2026-11-22T12:00Z")] // 7 is Sunday, like 0
    [InlineData("0 0 29 FEB *", "2026-11-21T09:00Z", "2028-02-29T00:00Z")]
    [InlineData("30 8 1-7/3 jan-mar *", "2026-11-21T09:00Z", "2027-01-01T08:30Z")]
    [InlineData("0 6 13 * FRI", "2026-11-21T09:00Z", "2026-11-27T06:00Z")] // both day fields: either matches
    public void Next_IsTheFirstMatchingMinuteStrictlyAfter(string cron, string after, string expected)
    {
        var schedule = CronSchedule.Parse(cron);
        Assert.Equal(DateTimeOffset.Parse(expected), schedule.Next(DateTimeOffset.Parse(after), TimeZoneInfo.Utc));
    }

    [Fact]
    public void Previous_IsTheLatestMatchAtOrBefore()
    {
        var schedule = CronSchedule.Parse("0 3 * * *");
        Assert.Equal(Utc(2026, 11, 21, 3, 0), schedule.Previous(Utc(2026, 11, 21, 9, 0), TimeZoneInfo.Utc));
        Assert.Equal(Utc(2026, 11, 21, 3, 0), schedule.Previous(Utc(2026, 11, 21, 3, 0), TimeZoneInfo.Utc));
        Assert.Equal(Utc(2026, 11, 20, 3, 0), schedule.Previous(Utc(2026, 11, 21, 2, 59), TimeZoneInfo.Utc));
    }

    [Fact]
    public void Schedules_AreReadInTheGivenTimeZone_AndSkipTheDaylightSavingGap()
    {
        var newYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
        var daily = CronSchedule.Parse("0 3 * * *");
        // 03:00 in New York in November (EST, UTC-5) is 08:00 UTC.
        Assert.Equal(Utc(2026, 11, 22, 8, 0), daily.Next(Utc(2026, 11, 21, 9, 0), newYork));
        // On 8 March 2026 clocks jump from 02:00 to 03:00: 02:30 does not exist that day, so it fires on the 9th.
        var gap = CronSchedule.Parse("30 2 * * *");
        Assert.Equal(Utc(2026, 3, 9, 6, 30), gap.Next(Utc(2026, 3, 8, 0, 0), newYork));
        // On 1 November 2026 01:30 happens twice; it fires once.
        var repeated = CronSchedule.Parse("30 1 * * *");
        var first = repeated.Next(Utc(2026, 11, 1, 0, 0), newYork)!.Value;
        var second = repeated.Next(first, newYork)!.Value;
        Assert.Equal(1, (second - first).Days);
    }

    [Theory]
    [InlineData("0 3 * *", "5 fields")]
    [InlineData("60 3 * * *", "minute field '60'")]
    [InlineData("0 24 * * *", "hour field '24'")]
    [InlineData("0 3 0 * *", "day of month field '0'")]
    [InlineData("0 3 * 13 *", "month field '13'")]
    [InlineData("0 3 * * FUNDAY", "day of week field 'FUNDAY'")]
    [InlineData("*/0 * * * *", "the step '0'")]
    [InlineData("0 5-2 * * *", "runs backwards")]
    [InlineData("0 0 31 2 *", "never fires")]
    [InlineData("a b c d e", "minute field 'a'")]
    public void Invalid_IsRefusedNamingTheField(string cron, string expected)
    {
        var error = Assert.Throws<LedgerException>(() => CronSchedule.Parse(cron));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void FactoryYaml_RefusesABadTrigger_NamingTriggerAndField()
    {
        var error = Assert.Throws<LedgerException>(() =>
            FactorySettings.Parse(
                """
                triggers:
                  - name: nightly
                    schedule: "0 25 * * *"
                    line: deps
                    command: pip-audit --format json
                    format: pip-audit
                  - name: Bad Name
                    schedule: "0 3 * * *"
                    line: deps
                    command: true
                    format: yaml
                """
            )
        );
        Assert.Contains("trigger nightly: the hour field '25'", error.Message);
        Assert.Contains("name must be lower-case", error.Message);
        Assert.Contains("format 'yaml' is not one of jsonl, pip-audit, npm-audit", error.Message);
    }

    [Fact]
    public void FactoryYaml_ReadsTriggers()
    {
        var settings = FactorySettings.Parse(
            """
            triggers:
              - name: nightly-audit
                schedule: "0 3 * * *"
                line: deps
                command: npm audit --json
                format: npm-audit
            """
        );
        var trigger = Assert.Single(settings.Triggers);
        Assert.Equal("nightly-audit", trigger.Name);
        Assert.Equal(TriggerFormats.NpmAudit, trigger.Format);
        Assert.True(trigger.Network);
        Assert.Equal(600, trigger.TimeoutSeconds);
    }
}
