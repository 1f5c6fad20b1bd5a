using System.Globalization;

namespace FactoryMcp.Ledger.Queries;

/// <summary>"since" as a human writes it: a duration back from now (90m, 24h, 7d, 3600s) or an ISO-8601 instant.</summary>
public static class Since
{
    public static DateTimeOffset? Parse(string? text, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        if (Duration(text) is { } span)
            return now - span;
        if (
            DateTimeOffset.TryParse(
                text.Trim(),
                CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal,
                out var at
            )
        )
            return at;
        throw new LedgerException(
            $"since '{text}' is neither a duration (90m, 24h, 7d) nor an ISO-8601 instant (2026-11-21T09:00:00Z)."
        );
    }

    /// <summary>90m, 24h, 7d or 3600s; null when the text is not a positive duration.</summary>
    public static TimeSpan? Duration(string text)
    {
        text = text.Trim();
        if (
            text.Length < 2
            || !double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
            || n <= 0
        )
            return null;
        return text[^1] switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => null,
        };
    }
}
