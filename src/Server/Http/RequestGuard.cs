using Microsoft.AspNetCore.Http;

namespace FactoryMcp.Server.Http;

/// <summary>
/// Host filtering and Origin checks for every request (DNS rebinding, cross-site pages), and the message
/// for a body over the limit. A request's Host must name this server; a browser's Origin must be this
/// server's own origin or one listed in http.allowed_origins. Requests without Origin (agents, CLIs) pass
/// the Origin check. Ours because ASP.NET Core's host filtering answers 400 with no reason (this says 421
/// and what to configure) and has no Origin check, and Kestrel answers 413 with an empty body.
/// </summary>
internal sealed class RequestGuard(HttpListenOptions options)
{
    private static readonly string[] LoopbackNames = ["localhost", "127.0.0.1", "[::1]", "::1"];

    private readonly HashSet<string> hosts = new(
        LoopbackNames
            .Concat(options.Urls.Select(u => u.Host))
            .Concat(options.AllowedHosts)
            .Where(h => h is not ("0.0.0.0" or "[::]")),
        StringComparer.OrdinalIgnoreCase
    );

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var host = context.Request.Host;
        if (!host.HasValue || !hosts.Contains(host.Host))
        {
            await Refuse(
                context,
                StatusCodes.Status421MisdirectedRequest,
                $"Host '{host.Value}' is not served here; add it to http.allowed_hosts in factory.yaml if clients really use that name."
            );
            return;
        }
        var origin = context.Request.Headers.Origin.ToString();
        if (origin.Length > 0 && !OriginAllowed(origin, context.Request))
        {
            await Refuse(
                context,
                StatusCodes.Status403Forbidden,
                $"Origin '{origin}' may not call this server; only its own origin and http.allowed_origins in factory.yaml may."
            );
            return;
        }
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e)
            when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            await Refuse(
                context,
                StatusCodes.Status413PayloadTooLarge,
                $"Payload Too Large: the request body exceeds this server's limit of {options.BodyLimitBytes} bytes (http.body_limit_bytes in factory.yaml)."
            );
        }
    }

    private bool OriginAllowed(string origin, HttpRequest request)
    {
        var trimmed = origin.TrimEnd('/');
        if (options.AllowedOrigins.Contains(trimmed, StringComparer.OrdinalIgnoreCase))
            return true;
        return Uri.TryCreate(trimmed, UriKind.Absolute, out var uri)
            && uri.Scheme == request.Scheme
            && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static Task Refuse(HttpContext context, int status, string message) =>
        context.Request.Path.StartsWithSegments("/mcp")
            ? JsonRpcErrors.WriteAsync(context, status, message)
            : Results.Text(message, "text/plain; charset=utf-8", statusCode: status).ExecuteAsync(context);
}
