using System.Threading.RateLimiting;

namespace FactoryMcp.Server.Http;

/// <summary>
/// Per-token rate limit (http.rate_limit_per_minute): a token bucket per caller key that refills once
/// a minute, so a burst up to the limit passes and the next request in that minute gets 429.
/// </summary>
internal sealed class TokenRateLimiter(int perMinute) : IDisposable
{
    private readonly PartitionedRateLimiter<string> limiter = PartitionedRateLimiter.Create<string, string>(key =>
        RateLimitPartition.GetTokenBucketLimiter(
            key,
            _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perMinute,
                TokensPerPeriod = perMinute,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }
        )
    );

    /// <summary>Takes one request's permit for <paramref name="key"/>; false means 429.</summary>
    public bool TryAcquire(string key)
    {
        using var lease = limiter.AttemptAcquire(key);
        return lease.IsAcquired;
    }

    public void Dispose() => limiter.Dispose();
}
