using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// The tests' fake clock, which can also be set to move with real time for a while: inside <see cref="Paced"/>
/// it reads the fake time plus the real time elapsed since pacing began, and when pacing ends the fake time is
/// advanced by that much, so it never goes back. A step that mixes the ledger's clock with real durations (the
/// gate's commands are stamped when they finish and carry their measured duration_ms) then gets honest times.
/// Timers still fire only on <see cref="FakeTimeProvider.Advance"/>.
/// </summary>
public sealed class PacedTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock gate = new();
    private long? pacedSince;

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            var now = base.GetUtcNow();
            return pacedSince is { } since ? now + Stopwatch.GetElapsedTime(since) : now;
        }
    }

    /// <summary>Moves the clock with real time until the returned handle is disposed.</summary>
    public IDisposable Paced()
    {
        lock (gate)
        {
            if (pacedSince is not null)
                throw new InvalidOperationException("The clock is already paced.");
            pacedSince = Stopwatch.GetTimestamp();
        }
        return new Pacing(this);
    }

    private void StopPacing()
    {
        lock (gate)
        {
            if (pacedSince is not { } since)
                return;
            var elapsed = Stopwatch.GetElapsedTime(since);
            pacedSince = null;
            Advance(elapsed);
        }
    }

    private sealed class Pacing(PacedTimeProvider clock) : IDisposable
    {
        public void Dispose() => clock.StopPacing();
    }
}
