using System.Net;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Settings;

namespace FactoryMcp.Server.Http;

/// <summary>
/// What `factory serve --http` listens on and enforces, from the command line over factory.yaml's
/// <c>http:</c> section. Refuses, at startup, anything that would expose the factory without tokens.
/// </summary>
internal sealed record HttpListenOptions
{
    public required IReadOnlyList<Uri> Urls { get; init; }
    public long BodyLimitBytes { get; init; } = 1024 * 1024;
    public int RateLimitPerMinute { get; init; } = 600;
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];
    public TimeSpan SessionIdle { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Idle MCP sessions kept at most; past it the idlest are closed before their timeout.</summary>
    public int MaxIdleSessions { get; init; } = 1_000;

    /// <summary>A builder name that requests without a bearer token act as (loopback only), or null: tokens required.</summary>
    public string? AnonymousAgent { get; init; }

    public bool LoopbackOnly => Urls.All(IsLoopback);

    public static HttpListenOptions From(
        FactorySettings.HttpSettings http,
        string? urlsOption,
        string? anonymousAgent
    ) =>
        new()
        {
            Urls = ParseUrls(urlsOption ?? http.Urls),
            BodyLimitBytes = http.BodyLimitBytes,
            RateLimitPerMinute = http.RateLimitPerMinute,
            AllowedOrigins = http.AllowedOrigins.Select(o => o.TrimEnd('/')).ToList(),
            AllowedHosts = http.AllowedHosts,
            SessionIdle = TimeSpan.FromMinutes(http.SessionIdleMinutes),
            AnonymousAgent = string.IsNullOrWhiteSpace(anonymousAgent) ? null : anonymousAgent,
        };

    /// <summary>The startup refusals: beyond loopback every caller needs a token, and the Host names must be known.</summary>
    public void RequireSafe(bool anyTokenRegistered)
    {
        if (LoopbackOnly)
            return;
        var exposed = string.Join(", ", Urls.Where(u => !IsLoopback(u)));
        if (AnonymousAgent is not null)
            throw new LedgerException(
                $"Refusing to serve {exposed} with --anonymous-agent: beyond loopback every caller needs a bearer token. Drop --anonymous-agent, or listen on 127.0.0.1 only."
            );
        if (!anyTokenRegistered)
            throw new LedgerException(
                $"Refusing to serve {exposed}: no agent holds a token yet, so nobody could connect safely. Register callers first with `factory agent add NAME --role agent|verifier|human`, then start the server."
            );
        if (Urls.Any(IsWildcard) && AllowedHosts.Count == 0)
            throw new LedgerException(
                $"Refusing to serve {exposed}: a wildcard address accepts any Host header. List the host names clients use under http.allowed_hosts in factory.yaml."
            );
    }

    public static IReadOnlyList<Uri> ParseUrls(string text)
    {
        var urls = new List<Uri>();
        foreach (
            var part in text.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        )
        {
            if (
                !Uri.TryCreate(
                    part.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"),
                    UriKind.Absolute,
                    out var uri
                )
                || uri.Scheme != Uri.UriSchemeHttp
                || uri.AbsolutePath != "/"
            )
                throw new LedgerException(
                    $"--urls entry '{part}' is not an http://HOST:PORT address (for example http://127.0.0.1:7171). TLS belongs to a reverse proxy in front of the factory."
                );
            urls.Add(uri);
        }
        if (urls.Count == 0)
            throw new LedgerException("--urls is empty; give at least one address, for example http://127.0.0.1:7171.");
        return urls;
    }

    public static bool IsLoopback(Uri url) =>
        url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static bool IsWildcard(Uri url) =>
        IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip)
        && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any));
}
