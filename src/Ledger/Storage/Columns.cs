using System.Data.Common;
using System.Globalization;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// Column readers for the hand-written hot reads (prepared statements read without the row mapper): integers come back as
/// Int64 from SQLite and as Int32 or Int64 from PostgreSQL, dates as the ledger's ISO text.
/// </summary>
internal static class Columns
{
    public static long Long(DbDataReader r, int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);

    public static long? LongOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : Long(r, i);

    public static string Text(DbDataReader r, int i) => r.GetString(i);

    public static string? TextOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    public static DateTimeOffset At(DbDataReader r, int i) => Iso.Parse(r.GetString(i));

    public static DateTimeOffset? AtOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : Iso.Parse(r.GetString(i));
}
