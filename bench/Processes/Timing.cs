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
            return sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Round(p * (sorted.Count - 1)))];
        }
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
