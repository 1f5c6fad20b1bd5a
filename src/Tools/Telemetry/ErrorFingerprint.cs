using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using FactoryMcp.Tools.Telemetry.Otlp;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// A production error read from OTLP, and its fingerprint: the service, the exception type, the message with
/// numbers, hex, UUIDs and quoted values replaced, and the route (README "Telemetry", "Production errors").
/// </summary>
public sealed record ProductionError(
    string Service,
    string ExceptionType,
    string Message,
    string Route,
    string Sample,
    string? TraceId
)
{
    public string Fingerprint =>
        Convert.ToHexStringLower(
            SHA256.HashData(Encoding.UTF8.GetBytes($"{Service}\n{ExceptionType}\n{Message}\n{Route}"))
        )[..32];
}

public static partial class ErrorFingerprint
{
    private const int MaxText = 300;

    /// <summary>The error a span reports: an <c>exception</c> event, or status ERROR; null for any other span.</summary>
    public static ProductionError? Of(OtlpSpan span)
    {
        var exception = span.Events.FirstOrDefault(e => e.Name == "exception");
        if (exception is null && span.StatusCode != 2)
            return null;
        var a = exception?.Attributes ?? new Dictionary<string, string>();
        var type = a.GetValueOrDefault("exception.type") ?? span.Attributes.GetValueOrDefault("error.type") ?? "error";
        var message = a.GetValueOrDefault("exception.message") ?? span.StatusMessage ?? span.Name;
        var route =
            span.Attributes.GetValueOrDefault("http.route")
            ?? (
                span.Attributes.GetValueOrDefault("rpc.method") is { } method
                    ? $"{span.Attributes.GetValueOrDefault("rpc.service")}/{method}"
                    : span.Name
            );
        return Make(span.Resource, type, message, route, a.GetValueOrDefault("exception.stacktrace"), span.TraceId);
    }

    /// <summary>The error a log record reports: severity ERROR or worse, or exception attributes; null otherwise.</summary>
    public static ProductionError? Of(OtlpLogRecord record)
    {
        var a = record.Attributes;
        var error =
            record.SeverityNumber >= 17
            || a.ContainsKey("exception.type")
            || (
                record.SeverityNumber == 0
                && record.SeverityText?.ToUpperInvariant() is "ERROR" or "FATAL" or "CRITICAL"
            );
        if (!error)
            return null;
        var type = a.GetValueOrDefault("exception.type") ?? "log";
        var message = a.GetValueOrDefault("exception.message") ?? record.Body ?? "";
        var route = a.GetValueOrDefault("http.route") ?? a.GetValueOrDefault("code.function") ?? "";
        return Make(record.Resource, type, message, route, a.GetValueOrDefault("exception.stacktrace"), record.TraceId);
    }

    private static ProductionError Make(
        OtlpResource resource,
        string type,
        string message,
        string route,
        string? stack,
        string? traceId
    ) =>
        new(
            Clip(resource["service.name"] ?? "unknown_service"),
            Clip(type),
            Normalise(message),
            Normalise(route),
            Clip(message + (stack is null ? "" : "\n" + string.Join('\n', stack.Split('\n').Take(20))), 4000),
            traceId is { Length: 32 } && traceId.Any(c => c != '0') ? traceId : null
        );

    /// <summary>The message with its variable parts replaced, so one error with different ids is one group.</summary>
    public static string Normalise(string text)
    {
        var s = Quoted().Replace(text, "<str>");
        s = Uuid().Replace(s, "<uuid>");
        s = Hex().Replace(s, "<hex>");
        s = Number().Replace(s, "<n>");
        s = Space().Replace(s, " ").Trim();
        return Clip(s);
    }

    private static string Clip(string text, int max = MaxText) => text.Length <= max ? text : text[..max];

    [GeneratedRegex("\"[^\"\\n]*\"|'[^'\\n]*'|`[^`\\n]*`")]
    private static partial Regex Quoted();

    [GeneratedRegex("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")]
    private static partial Regex Uuid();

    // 0x-prefixed, or eight or more hex digits mixing digits and letters (long words and plain numbers are left alone).
    [GeneratedRegex(@"\b0[xX][0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*[0-9])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b")]
    private static partial Regex Hex();

    [GeneratedRegex(@"[-+]?\b\d+(?:[.,]\d+)*\b")]
    private static partial Regex Number();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Space();
}
