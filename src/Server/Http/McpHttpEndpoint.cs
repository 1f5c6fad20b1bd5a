using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Server.Http;

/// <summary>
/// Streamable HTTP at one path, on the SDK's Core <see cref="StreamableHttpServerTransport"/>.
/// 2025-revision clients open a session with <c>initialize</c> (Mcp-Session-Id, GET stream, DELETE);
/// 2026-07-28 clients are served statelessly, one server per request. Every request is authenticated
/// by <see cref="McpCallerResolver"/>, and a session only ever serves the caller that opened it.
/// </summary>
internal sealed partial class McpHttpEndpoint(
    McpSessionStore sessions,
    McpCallerResolver resolveCaller,
    McpSurfaceFactory surfaces,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    CancellationToken stopping
)
{
    private const string SessionHeader = "Mcp-Session-Id";
    private const string VersionHeader = "MCP-Protocol-Version";
    private readonly ILogger logger = loggerFactory.CreateLogger("FactoryMcp.Http");
    private readonly StatelessSurfaces statelessSurfaces = new(surfaces);

    public void Map(IEndpointRouteBuilder routes, string path)
    {
        routes.MapPost(path, PostAsync);
        routes.MapGet(path, GetAsync);
        routes.MapDelete(path, DeleteAsync);
    }

    public async Task PostAsync(HttpContext context)
    {
        var accept = context.Request.GetTypedHeaders().Accept;
        if (
            !accept.Any(a => a.MatchesMediaType("application/json"))
            || !accept.Any(a => a.MatchesMediaType("text/event-stream"))
        )
        {
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status406NotAcceptable,
                "Not Acceptable: the Accept header must include both application/json and text/event-stream."
            );
            return;
        }
        var message = await ReadMessageAsync(context);
        if (message is null)
            return;
        var id = message is JsonRpcRequest request ? request.Id : default;
        var version = context.Request.Headers[VersionHeader].ToString();
        if (version.Length > 0 && !ProtocolVersions.IsSupported(version))
        {
            await JsonRpcErrors.UnsupportedVersionAsync(context, version, id);
            return;
        }
        var caller = await resolveCaller(context);
        if (caller is null)
            return;

        if (ProtocolVersions.IsStateless(version))
        {
            await ServeStatelessAsync(context, message, version, caller, id);
            return;
        }

        McpHttpSession? session;
        var sessionId = context.Request.Headers[SessionHeader].ToString();
        if (sessionId.Length == 0)
        {
            if (message is not JsonRpcRequest { Method: RequestMethods.Initialize })
            {
                await JsonRpcErrors.WriteAsync(
                    context,
                    StatusCodes.Status400BadRequest,
                    "Bad Request: a session starts with an initialize request; send its Mcp-Session-Id with every later request (or use protocol version 2026-07-28, which needs no session).",
                    id: id
                );
                return;
            }
            session = await OpenSessionAsync(context, caller, id);
        }
        else
        {
            session = await FindSessionAsync(context, sessionId, caller, id);
        }
        if (session is null)
            return;

        using var use = session.TryUse();
        if (use is null)
        {
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status404NotFound,
                "Session not found: it was closed. Start a new session with initialize.",
                -32001,
                id
            );
            return;
        }
        if (version.Length > 0)
            (message.Context ??= new()).ProtocolVersion = version;
        context.Response.Headers[SessionHeader] = session.Id;
        PrepareEventStream(context);
        // The request's own abort token only ends this response; the session's server keeps running.
        if (!await session.Transport.HandlePostRequestAsync(message, context.Response.Body, context.RequestAborted))
        {
            context.Response.Headers.ContentType = (string?)null;
            context.Response.StatusCode = StatusCodes.Status202Accepted;
        }
    }

    public async Task GetAsync(HttpContext context)
    {
        var version = context.Request.Headers[VersionHeader].ToString();
        if (version.Length > 0 && !ProtocolVersions.IsSupported(version))
        {
            await JsonRpcErrors.UnsupportedVersionAsync(context, version);
            return;
        }
        if (ProtocolVersions.IsStateless(version))
        {
            context.Response.Headers.Allow = HttpMethods.Post;
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status405MethodNotAllowed,
                "Method Not Allowed: protocol version 2026-07-28 has no GET stream; use POST."
            );
            return;
        }
        if (!context.Request.GetTypedHeaders().Accept.Any(a => a.MatchesMediaType("text/event-stream")))
        {
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status406NotAcceptable,
                "Not Acceptable: the Accept header must include text/event-stream."
            );
            return;
        }
        var caller = await resolveCaller(context);
        if (caller is null)
            return;
        var sessionId = context.Request.Headers[SessionHeader].ToString();
        if (sessionId.Length == 0)
        {
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status400BadRequest,
                "Bad Request: GET needs the Mcp-Session-Id that initialize returned."
            );
            return;
        }
        var session = await FindSessionAsync(context, sessionId, caller, default);
        if (session is null)
            return;
        using var use = session.TryUse();
        if (use is null)
        {
            await JsonRpcErrors.WriteAsync(context, StatusCodes.Status404NotFound, "Session not found.", -32001);
            return;
        }
        // The stream ends when the client goes, the session closes, or the server starts shutting down.
        using var streamEnd = CancellationTokenSource.CreateLinkedTokenSource(
            context.RequestAborted,
            session.Closing,
            stopping
        );
        context.Response.Headers[SessionHeader] = session.Id;
        PrepareEventStream(context);
        try
        {
            await session.Transport.HandleGetRequestAsync(context.Response.Body, streamEnd.Token);
        }
        catch (OperationCanceledException) when (streamEnd.IsCancellationRequested) { }
        catch (InvalidOperationException e)
        {
            await JsonRpcErrors.WriteAsync(context, StatusCodes.Status400BadRequest, $"Bad Request: {e.Message}");
        }
    }

    public async Task DeleteAsync(HttpContext context)
    {
        var caller = await resolveCaller(context);
        if (caller is null)
            return;
        var sessionId = context.Request.Headers[SessionHeader].ToString();
        if (sessionId.Length == 0)
        {
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status400BadRequest,
                "Bad Request: DELETE needs the Mcp-Session-Id to close."
            );
            return;
        }
        if (await FindSessionAsync(context, sessionId, caller, default) is null)
            return;
        await sessions.RemoveAsync(sessionId);
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private async Task<McpHttpSession?> OpenSessionAsync(HttpContext context, Caller caller, RequestId id)
    {
        var sessionId = NewSessionId();
        var transport = new StreamableHttpServerTransport(loggerFactory) { SessionId = sessionId };
        var (options, services) = surfaces(caller);
        var server = McpServer.Create(transport, options, loggerFactory, services);
        var session = new McpHttpSession(sessionId, caller, transport, server, services, time);
        if (!await sessions.TryAddAsync(session))
        {
            await session.DisposeAsync();
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status503ServiceUnavailable,
                "Too many open sessions; close unused ones (DELETE) or retry later.",
                id: id
            );
            return null;
        }
        session.Start();
        LogOpened(logger, sessionId, caller.Name, caller.Role);
        return session;
    }

    private async Task<McpHttpSession?> FindSessionAsync(
        HttpContext context,
        string sessionId,
        Caller caller,
        RequestId id
    )
    {
        if (!sessions.TryGet(sessionId, out var session))
        {
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status404NotFound,
                "Session not found: it expired or was closed. Start a new session with initialize.",
                -32001,
                id
            );
            return null;
        }
        if (session.Caller.AgentId != caller.AgentId || session.Caller.Name != caller.Name)
        {
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status403Forbidden,
                "Forbidden: this session belongs to another caller; use the token that opened it.",
                id: id
            );
            return null;
        }
        return session;
    }

    /// <summary>A 2026-07-28 request: its own short-lived server, tied to this request alone.</summary>
    private async Task ServeStatelessAsync(
        HttpContext context,
        JsonRpcMessage message,
        string version,
        Caller caller,
        RequestId id
    )
    {
        if (message is JsonRpcRequest { Method: RequestMethods.Initialize or RequestMethods.Ping } removed)
        {
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status404NotFound,
                $"Method '{removed.Method}' is not available on protocol version {version}.",
                (int)McpErrorCode.MethodNotFound,
                id
            );
            return;
        }
        if (
            message is JsonRpcRequest { Params: var parameters }
            && (
                parameters is not JsonObject p
                || p["_meta"] is not JsonObject meta
                || meta["io.modelcontextprotocol/clientCapabilities"] is not JsonObject
            )
        )
        {
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status400BadRequest,
                $"Requests using protocol version {version} must include _meta/io.modelcontextprotocol/clientCapabilities.",
                (int)McpErrorCode.InvalidParams,
                id
            );
            return;
        }
        (message.Context ??= new()).ProtocolVersion = version;
        var (options, services, owned) = statelessSurfaces.Get(caller);
        await using (owned ? services : null)
        {
            var transport = new StreamableHttpServerTransport(loggerFactory) { Stateless = true };
            await using var server = McpServer.Create(transport, options, loggerFactory, services);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            var run = server.RunAsync(done.Token);
            try
            {
                PrepareEventStream(context);
                if (!await transport.HandlePostRequestAsync(message, context.Response.Body, context.RequestAborted))
                {
                    context.Response.Headers.ContentType = (string?)null;
                    context.Response.StatusCode = StatusCodes.Status202Accepted;
                }
            }
            finally
            {
                await transport.DisposeAsync();
                await done.CancelAsync();
                try
                {
                    await run;
                }
                catch (OperationCanceledException) { }
            }
        }
    }

    private static async Task<JsonRpcMessage?> ReadMessageAsync(HttpContext context)
    {
        try
        {
            var message = (JsonRpcMessage?)
                await JsonSerializer.DeserializeAsync(
                    context.Request.Body,
                    McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage)),
                    context.RequestAborted
                );
            if (message is not null)
                return message;
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await JsonRpcErrors.WriteAsync(
                context,
                StatusCodes.Status413PayloadTooLarge,
                $"Payload Too Large: the request body exceeds this server's limit of {context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize} bytes (http.body_limit_bytes in factory.yaml)."
            );
            return null;
        }
        catch (JsonException) { }
        await JsonRpcErrors.WriteAsync(
            context,
            StatusCodes.Status400BadRequest,
            "Bad Request: the body is not one JSON-RPC message.",
            (int)McpErrorCode.InvalidRequest
        );
        return null;
    }

    private static void PrepareEventStream(HttpContext context)
    {
        context.Response.Headers.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache,no-store";
        context.Response.Headers.ContentEncoding = "identity";
        context.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
    }

    private static string NewSessionId() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    [LoggerMessage(Level = LogLevel.Information, Message = "Opened MCP session {SessionId} for {Caller} ({Role})")]
    private static partial void LogOpened(ILogger logger, string sessionId, string caller, string role);
}
