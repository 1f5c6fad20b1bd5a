using System.Diagnostics;

namespace FactoryMcp.Bench.Processes;

/// <summary>Times a sequence of operations: per-operation latencies and the sequential rate.</summary>
internal static class Timing
{
    public sealed record Sample(IReadOnlyList<double> LatenciesMs, double Seconds)
    {
        public double MedianMs => Percentile(0.5);
        public double PerSecond => LatenciesMs.Count / Seconds;

        public double Percentile(double p)
        {
            var sorted = LatenciesMs.Order().ToList();
            return sorted.Count == 0
                ? double.NaN
                : sorted[(int)Math.Min(sorted.Count - 1, Math.Round(p * (sorted.Count - 1)))];
        }
    }

    /// <summary>
    /// Warm means tiered up: the .NET runtime recompiles hot methods in the background, a few at a time, so a
    /// server measured in its first seconds still runs much of its first-tier code (a JIT-compiled peer such
    /// as Node is in the same position). Calls for at least <paramref name="duration"/>, then pauses for the
    /// last recompilations.
    /// </summary>
    public static async Task WarmAsync(Func<int, Task> operation, int count, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        do await SequentialAsync(count, operation);
        while (clock.Elapsed < duration);
        if (duration > TimeSpan.Zero)
            await Task.Delay(300);
    }

    public static async Task<Sample> SequentialAsync(int count, Func<int, Task> operation)
    {
        var latencies = new double[count];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await operation(i);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        return new Sample(latencies, total.Elapsed.TotalSeconds);
    }
}
