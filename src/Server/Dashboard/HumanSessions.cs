using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using FactoryMcp.Ledger.Agents;
using Microsoft.AspNetCore.Http;

namespace FactoryMcp.Server.Dashboard;

/// <summary>
/// Dashboard logins: a human's registry token exchanged for a random session cookie (HttpOnly,
/// SameSite=Strict) and a per-session CSRF token every form carries. Kept in memory: a restart logs
/// everyone out.
/// </summary>
internal sealed class HumanSessions(TimeProvider time)
{
    public const string Cookie = "factory_session";
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);
    private readonly ConcurrentDictionary<string, Session> sessions = new(StringComparer.Ordinal);

    public sealed record Session(Caller Human, string Csrf, DateTimeOffset Expires);

    public void SignIn(HttpContext context, Caller human)
    {
        var id = Random();
        sessions[id] = new Session(human, Random(), time.GetUtcNow() + Lifetime);
        context.Response.Cookies.Append(
            Cookie,
            id,
            new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
                MaxAge = Lifetime,
            }
        );
    }

    public void SignOut(HttpContext context)
    {
        if (context.Request.Cookies.TryGetValue(Cookie, out var id))
            sessions.TryRemove(id, out _);
        context.Response.Cookies.Delete(Cookie, new CookieOptions { Path = "/" });
    }

    public Session? Find(HttpContext context)
    {
        if (!context.Request.Cookies.TryGetValue(Cookie, out var id) || !sessions.TryGetValue(id, out var session))
            return null;
        if (session.Expires > time.GetUtcNow())
            return session;
        sessions.TryRemove(id, out _);
        return null;
    }

    /// <summary>Whether a form's CSRF token is this session's.</summary>
    public static bool CsrfMatches(Session session, string? given) =>
        given is not null
        && CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(session.Csrf),
            Encoding.ASCII.GetBytes(given)
        );

    private static string Random() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
