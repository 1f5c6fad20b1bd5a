using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Tools.Hosting;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Tools.Triggers;

/// <summary>
/// Fires the triggers of factory.yaml when they are due (README, "Triggers"). At each tick a trigger is due at
/// the latest time its schedule names at or before now, when that time is newer than its last claimed firing:
/// so a server that was down fires a missed schedule once on start, not once per missed tick. A trigger that
/// never fired starts with its first scheduled time after this process started. Every process serving the
/// ledger ticks; the ledger's claim lets one of them run each firing.
/// </summary>
public sealed class TriggerScheduler(
    TriggerLedger firings,
    TriggerRunner runner,
    ConfigFiles config,
    TimeProvider time,
    ILogger logger
)
{
    /// <summary>The longest a long-running server sleeps between ticks (factory.yaml may change meanwhile).</summary>
    public static readonly TimeSpan MaxSleep = TimeSpan.FromSeconds(30);

    private readonly DateTimeOffset startedAt = time.GetUtcNow();
    private readonly string owner =
        $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The server's time zone, which schedules are read in.</summary>
    public TimeZoneInfo Zone => time.LocalTimeZone;

    /// <summary>Fires every due trigger this process can claim, one after another; returns what it fired.</summary>
    public async Task<IReadOnlyList<TriggerRunner.Fired>> TickAsync(CancellationToken ct = default)
    {
        var fired = new List<TriggerRunner.Fired>();
        foreach (var trigger in config.Settings.Triggers)
        {
            ct.ThrowIfCancellationRequested();
            if (await DueAsync(trigger, ct) is not { } due)
                continue;
            if (await runner.FireAsync(trigger, due, owner, ct) is { } done)
            {
                fired.Add(done);
                if (done.Error is null)
                    logger.LogInformation(
                        "Trigger {Trigger} fired for {Scheduled}: {New} new signals of {Seen}",
                        trigger.Name,
                        due,
                        done.New,
                        done.Seen
                    );
                else
                    logger.LogWarning(
                        "Trigger {Trigger} failed for {Scheduled}: {Error}",
                        trigger.Name,
                        due,
                        done.Error
                    );
            }
        }
        return fired;
    }

    /// <summary>The scheduled time this trigger should fire for now, or null when none is pending.</summary>
    public async Task<DateTimeOffset?> DueAsync(TriggerSettings trigger, CancellationToken ct = default)
    {
        var schedule = CronSchedule.Parse(trigger.Schedule);
        var now = time.GetUtcNow();
        if (schedule.Previous(now, Zone) is not { } latest)
            return null;
        var last = await firings.LastScheduledAsync(trigger.Name, ct);
        return last is { } claimed ? (latest > claimed ? latest : null) : (latest >= startedAt ? latest : null);
    }

    /// <summary>The next time this trigger fires: now when one is pending, else its schedule's next time.</summary>
    public async Task<DateTimeOffset?> NextAsync(TriggerSettings trigger, CancellationToken ct = default) =>
        await DueAsync(trigger, ct) ?? CronSchedule.Parse(trigger.Schedule).Next(time.GetUtcNow(), Zone);

    /// <summary>The background service of a long-running server: ticks until stopped, never more than <see cref="MaxSleep"/> apart.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await TickAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is LedgerException or InvalidOperationException or IOException)
            {
                logger.LogWarning("Triggers: {Error}", e.Message);
            }
            try
            {
                await Task.Delay(await SleepAsync(ct), time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<TimeSpan> SleepAsync(CancellationToken ct)
    {
        var sleep = MaxSleep;
        try
        {
            var now = time.GetUtcNow();
            foreach (var trigger in config.Settings.Triggers)
            {
                if (await NextAsync(trigger, ct) is { } next && next - now < sleep)
                    sleep = next - now;
            }
        }
        catch (LedgerException) { }
        return sleep < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : sleep;
    }
}
