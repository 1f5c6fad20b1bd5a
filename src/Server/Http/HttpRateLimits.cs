using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace FactoryMcp.Server.Http;

/// <summary>
/// ASP.NET Core rate limiting, after authentication and before authorization: /mcp is limited per token
/// (http.rate_limit_per_minute, a token bucket refilled each minute, so a burst up to the limit passes),
/// and per remote address for everything that proved no token (the anonymous agent, failed
/// authentication); dashboard logins per address. Over the limit: 429 with Retry-After.
/// </summary>
internal static class HttpRateLimits
{
    public const string Mcp = "mcp";
    public const string Login = "login";
    private const int LoginsPerMinute = 20;

    public static void Configure(RateLimiterOptions options, int perMinute)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.AddPolicy(
            Mcp,
            context =>
                Bucket(
                    CallerClaims.TokenHash(context.User) is { } hash
                        ? "token:" + hash
                        : "address:" + context.Connection.RemoteIpAddress,
                    perMinute
                )
        );
        options.AddPolicy(Login, context => Bucket("login:" + context.Connection.RemoteIpAddress, LoginsPerMinute));
        options.OnRejected = async (rejected, ct) =>
        {
            var context = rejected.HttpContext;
            var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait)
                ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))
                : 60;
            context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            if (context.Request.Path.StartsWithSegments("/mcp"))
                await JsonRpcErrors.WriteAsync(
                    context,
                    StatusCodes.Status429TooManyRequests,
                    $"Too Many Requests: {context.User.Identity?.Name ?? "this address"} is over this server's rate limit (http.rate_limit_per_minute in factory.yaml); retry in {retryAfter} s."
                );
            else
                await Results
                    .Text(
                        $"Too many attempts from this address; wait {retryAfter} s.",
                        "text/plain; charset=utf-8",
                        statusCode: StatusCodes.Status429TooManyRequests
                    )
                    .ExecuteAsync(context);
        };
    }

    private static RateLimitPartition<string> Bucket(string key, int perMinute) =>
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
        );
}
