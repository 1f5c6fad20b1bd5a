using System.IO.Compression;
using FactoryMcp.Tools.Telemetry;
using FactoryMcp.Tools.Telemetry.Otlp;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Server.Hooks;

/// <summary>
/// POST /otlp/v1/logs, /otlp/v1/metrics and /otlp/v1/traces on the hooks listener: OTLP/HTTP in either encoding
/// (application/x-protobuf or application/json, optionally gzip), authenticated by a token derived from the hooks
/// secret (<see cref="OtlpTokens"/>). Bodies are capped by http.body_limit_bytes (and, inflated, at eight times
/// that), exports at hooks.otlp_max_items items; what is rejected is answered in partial_success.
/// </summary>
internal sealed partial class OtlpReceiver(
    OtlpIntake intake,
    byte[] secret,
    long bodyLimit,
    int maxItems,
    ILogger logger
)
{
    public Task LogsAsync(HttpContext context) => HandleAsync(context, OtlpSignal.Logs);

    public Task MetricsAsync(HttpContext context) => HandleAsync(context, OtlpSignal.Metrics);

    public Task TracesAsync(HttpContext context) => HandleAsync(context, OtlpSignal.Traces);

    private async Task HandleAsync(HttpContext context, OtlpSignal signal)
    {
        var request = context.Request;
        var token = request.Headers[OtlpTokens.Header].FirstOrDefault();
        if (token is null && request.Headers.Authorization.FirstOrDefault() is { } authorization)
            token = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                ? authorization["Bearer ".Length..].Trim()
                : null;
        var (valid, run) = OtlpTokens.Check(secret, token);
        if (!valid)
        {
            await Reply(
                context,
                StatusCodes.Status401Unauthorized,
                $"missing or wrong OTLP token: send the run's token (factory drain sets it) or the intake token (factory otlp-token) in {OtlpTokens.Header} or Authorization: Bearer"
            );
            return;
        }
        var mediaType = (request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        var json = mediaType == "application/json";
        if (!json && mediaType != "application/x-protobuf")
        {
            await Reply(
                context,
                StatusCodes.Status415UnsupportedMediaType,
                "send application/x-protobuf (http/protobuf) or application/json (http/json)"
            );
            return;
        }
        byte[] body;
        try
        {
            body = await ReadAsync(request, context.RequestAborted);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await Reply(context, StatusCodes.Status413PayloadTooLarge, "payload too large (http.body_limit_bytes)");
            return;
        }
        catch (InvalidDataException e)
        {
            await Reply(
                context,
                StatusCodes.Status400BadRequest,
                $"the body is not what Content-Encoding says: {e.Message}"
            );
            return;
        }
        catch (OtlpFormatException e)
        {
            await Reply(context, e.TooLarge ? 413 : 400, e.Message);
            return;
        }
        OtlpIntake.Outcome outcome;
        try
        {
            var export = json ? OtlpJson.Decode(signal, body, maxItems) : OtlpProtobuf.Decode(signal, body, maxItems);
            outcome = await intake.AcceptAsync(signal, export, run, context.RequestAborted);
        }
        catch (OtlpFormatException e)
        {
            await Reply(
                context,
                e.TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest,
                e.Message
            );
            return;
        }
        if (outcome.Rejected > 0)
            LogRejected(logger, signal, outcome.Rejected, outcome.Message ?? "");
        context.Response.StatusCode = StatusCodes.Status200OK;
        if (json)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(
                OtlpJson.Response(signal, outcome.Rejected, outcome.Message),
                context.RequestAborted
            );
        }
        else
        {
            context.Response.ContentType = "application/x-protobuf";
            await context.Response.Body.WriteAsync(
                OtlpProtobuf.Response(outcome.Rejected, outcome.Message),
                context.RequestAborted
            );
        }
    }

    private async Task<byte[]> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        if (encoding is "" or "identity")
        {
            await request.Body.CopyToAsync(buffer, ct);
            return buffer.ToArray();
        }
        if (encoding != "gzip")
            throw new OtlpFormatException($"Content-Encoding {encoding} is not supported; send gzip or none.");
        await using var gzip = new GZipStream(request.Body, CompressionMode.Decompress);
        var limit = bodyLimit * 8;
        var chunk = new byte[81920];
        int read;
        while ((read = await gzip.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit)
                throw new OtlpFormatException(
                    $"The body inflates past {limit} bytes (eight times http.body_limit_bytes).",
                    tooLarge: true
                );
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private static async Task Reply(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "OTLP {Signal}: {Rejected} item(s) rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, OtlpSignal signal, long rejected, string reason);
}
