using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Escalations;
using FactoryMcp.Ledger.Settings;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Processes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FactoryMcp.Tools.Notifications;

/// <summary>
/// Tells humans something happened (DESIGN section 10): per event type (escalation, review, shipped)
/// factory.yaml's <c>notifications:</c> names a URL (the event is POSTed as JSON) or a command (run
/// with /bin/sh -c outside the sandbox, the event as JSON on stdin and in FACTORY_EVENT_JSON). Always
/// called after the ledger committed, never inside a transaction; a failing notification is logged,
/// never thrown, and changes nothing in the ledger.
/// </summary>
public sealed partial class Notifier(EscalationOutbox escalations, ConfigFiles config, string workingDirectory)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>
    /// How often, at most, tool calls that raised nothing look for escalations other processes raised (one ledger
    /// read each time). A call that raised one announces at once; `factory serve --http` also looks every
    /// <c>HttpHost.AnnouncePeriod</c> without calls. Real (monotonic) time, so a test's stopped clock cannot stop it.
    /// </summary>
    public TimeSpan OthersCheckPeriod { get; set; } = TimeSpan.FromSeconds(1);

    private long lastOthersCheck = long.MinValue;

    /// <summary>
    /// After a tool call: announces the escalations it raised (<paramref name="raisedBefore"/> is
    /// <see cref="EscalationLedger.RaisedInProcess"/> when it started), and those other processes raised once
    /// <see cref="OthersCheckPeriod"/> has passed since the last look. Otherwise reads nothing: a ledger read on
    /// every call was one of the two the HTTP pipeline made per call outside the tool (issue 18's profile).
    /// </summary>
    public Task<int> AfterCallAsync(long raisedBefore, CancellationToken ct = default)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref lastOthersCheck);
        var due = last == long.MinValue || now - last >= (long)OthersCheckPeriod.TotalMilliseconds;
        if (EscalationLedger.RaisedInProcess == raisedBefore && !due)
            return Task.FromResult(0);
        Interlocked.Exchange(ref lastOthersCheck, now);
        return FlushEscalationsAsync(ct);
    }

    /// <summary>Announces escalations raised since the last call (by any process on this ledger).</summary>
    public async Task<int> FlushEscalationsAsync(CancellationToken ct = default)
    {
        var pending = await escalations.ClaimAsync(ct);
        foreach (var e in pending)
        {
            await NotifyAsync(
                "escalation",
                new JsonObject
                {
                    ["escalation_id"] = e.Id,
                    ["task_id"] = e.TaskId,
                    ["run_id"] = e.RunId,
                    ["title"] = e.Title,
                    ["question"] = e.Question,
                    ["raised_by"] = e.RaisedBy,
                    ["raised_at"] = Ledger.Storage.Iso.Text(e.RaisedAt),
                },
                ct
            );
        }
        return pending.Count;
    }

    /// <summary>Announces a task that now waits for a human review (after validation, verification or a NO_OP).</summary>
    public async Task AfterTaskStateAsync(long taskId, long runId, string taskState, CancellationToken ct = default)
    {
        if (taskState == Ledger.Lifecycle.TaskStates.AwaitingReview)
            await NotifyAsync(
                "review",
                new JsonObject
                {
                    ["task_id"] = taskId,
                    ["run_id"] = runId,
                    ["state"] = taskState,
                },
                ct
            );
    }

    /// <summary>Sends one event to its configured target, if any. Returns whether it was delivered.</summary>
    public async Task<bool> NotifyAsync(string eventType, JsonObject details, CancellationToken ct = default)
    {
        if (!FactorySettings.NotificationEvents.Contains(eventType))
            throw new ArgumentException($"Unknown event type {eventType}.", nameof(eventType));
        FactorySettings settings;
        try
        {
            settings = config.Settings;
        }
        catch (LedgerException e)
        {
            LogFailed(Logger, eventType, "factory.yaml", e.Message);
            return false;
        }
        if (!settings.Notifications.TryGetValue(eventType, out var target) || string.IsNullOrWhiteSpace(target))
            return false;
        var json = Json.Compact(new JsonObject { ["event"] = eventType, ["details"] = details });
        try
        {
            if (Uri.TryCreate(target, UriKind.Absolute, out var url) && url.Scheme is "http" or "https")
            {
                using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
                using var response = await Http.PostAsync(url, content, ct);
                if (response.IsSuccessStatusCode)
                    return true;
                LogFailed(Logger, eventType, url.GetLeftPart(UriPartial.Path), $"HTTP {(int)response.StatusCode}");
                return false;
            }
            var result = await ProcessRunner.RunAsync(
                new ProcessSpec("/bin/sh", ["-c", target])
                {
                    WorkingDirectory = workingDirectory,
                    StandardInput = json,
                    EnvironmentOverrides = new Dictionary<string, string?>
                    {
                        ["FACTORY_EVENT"] = eventType,
                        ["FACTORY_EVENT_JSON"] = json,
                    },
                    Timeout = TimeSpan.FromSeconds(30),
                    NewProcessGroup = true,
                },
                ct
            );
            if (result.Succeeded)
                return true;
            LogFailed(
                Logger,
                eventType,
                target,
                result.TimedOut ? "timed out" : $"exit {result.ExitCode}: {result.StandardError.Trim()}"
            );
            return false;
        }
        catch (Exception e)
            when (e
                    is HttpRequestException
                        or TaskCanceledException
                        or IOException
                        or System.ComponentModel.Win32Exception
            )
        {
            LogFailed(Logger, eventType, target, e.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notification {Event} to {Target} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string @event, string target, string reason);
}
