using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace FactoryMcp.Server.Http;

/// <summary>
/// ASP.NET Core rate limiting, after authentication and before authorization (so before any body is read):
/// /mcp is limited per token (http.rate_limit_per_minute, a token bucket refilled each minute, so a burst up
/// to the limit passes) and per remote address for the anonymous agent; a request to /mcp that proved
/// nothing (no token, a wrong or revoked one) draws from its address's own, smaller bucket of
/// <see cref="FailuresPerMinute"/>, so guessing tokens is slow while valid callers at that address are not
/// held up; dashboard logins per address at the same rate. Over the limit: 429 with Retry-After.
/// </summary>
internal static class HttpRateLimits
{
    public const string Mcp = "mcp";
    public const string Login = "login";

    /// <summary>Failed authentications (and login attempts) an address may make per minute.</summary>
    public const int FailuresPerMinute = 20;

    public static void Configure(RateLimiterOptions options, int perMinute)
    {
        options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        options.AddPolicy(
            Mcp,
            context =>
                CallerClaims.TokenHash(context.User) is { } hash ? Bucket("token:" + hash, perMinute)
                : context.User.Identity?.IsAuthenticated == true
                    ? Bucket("address:" + context.Connection.RemoteIpAddress, perMinute)
                : Bucket("failed:" + context.Connection.RemoteIpAddress, Math.Min(perMinute, FailuresPerMinute))
        );
        options.AddPolicy(Login, context => Bucket("login:" + context.Connection.RemoteIpAddress, FailuresPerMinute));
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
                    context.User.Identity?.IsAuthenticated == true
                        ? $"Too Many Requests: {context.User.Identity.Name} is over this server's rate limit (http.rate_limit_per_minute in factory.yaml); retry in {retryAfter} s."
                        : $"Too Many Requests: too many failed authentications from this address; retry in {retryAfter} s with a valid bearer token."
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
