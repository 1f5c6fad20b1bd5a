using System.Security.Cryptography;
using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tools.Hosting;
using Microsoft.AspNetCore.Http;

namespace FactoryMcp.Server.Http;

/// <summary>
/// Bearer tokens from the agent registry: the token alone says who is calling and, through the
/// registry, its role. No token or a bad one is 401; a caller over its rate is 429. With an anonymous
/// agent configured (loopback only), a request without a token acts as that builder, as a stdio
/// builder may connect by name alone.
/// </summary>
internal sealed class BearerAuthentication(FactoryServices factory, TokenRateLimiter limiter, string? anonymousAgent)
{
    public async Task<Caller?> ResolveAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        Caller? caller;
        string key;
        if (header.Length == 0)
        {
            if (anonymousAgent is null)
                return await UnauthorizedAsync(
                    context,
                    "Unauthorized: send `Authorization: Bearer <token>` with the token `factory agent add NAME` printed."
                );
            try
            {
                caller = await factory.Agents.AuthenticateAsync(
                    anonymousAgent,
                    null,
                    Roles.Agent,
                    context.RequestAborted
                );
            }
            catch (LedgerException e)
            {
                return await UnauthorizedAsync(context, $"Unauthorized: {e.Message}");
            }
            key = "anonymous:" + context.Connection.RemoteIpAddress;
        }
        else
        {
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
                return await UnauthorizedAsync(
                    context,
                    "Unauthorized: the Authorization header must be `Bearer <token>`."
                );
            var token = header[7..].Trim();
            caller = await factory.Agents.AuthenticateTokenAsync(token, context.RequestAborted);
            if (caller is null)
                return await UnauthorizedAsync(
                    context,
                    "Unauthorized: this token is not registered or was revoked. `factory agent add NAME` issues a new one."
                );
            key = "token:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        }
        if (!limiter.TryAcquire(key))
        {
            context.Response.Headers.RetryAfter = "60";
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status429TooManyRequests,
                $"Too Many Requests: {caller.Name} is over this server's rate limit (http.rate_limit_per_minute in factory.yaml); retry in a minute."
            );
            return null;
        }
        return caller;
    }

    private static async Task<Caller?> UnauthorizedAsync(HttpContext context, string message)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"factory\"";
        await JsonRpcErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, message);
        return null;
    }
}
