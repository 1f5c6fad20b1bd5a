using System.Data;
using System.Globalization;
using Dapper;

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

    private static int registered;

    /// <summary>Registers the Dapper handler once per process (it covers nullable values too).</summary>
    public static void RegisterDapper()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1)
            return;
        SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());
    }

    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
        {
            parameter.DbType = DbType.String;
            parameter.Value = Text(value);
        }

        public override DateTimeOffset Parse(object value) => Iso.Parse((string)value);
    }
}
