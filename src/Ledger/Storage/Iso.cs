using System.Globalization;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// Dates as fixed-width ISO-8601 UTC text with milliseconds, so that SQLite compares them as text
/// and its date functions still read them.
/// </summary>
public static class Iso
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    public static string Text(DateTimeOffset at) => at.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string text) =>
        DateTimeOffset.Parse(
            text,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal
        );
}
