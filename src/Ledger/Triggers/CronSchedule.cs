using System.Globalization;

namespace FactoryMcp.Ledger.Triggers;

/// <summary>
/// A 5-field cron expression (minute hour day-of-month month day-of-week) read in a time zone (README,
/// "Triggers"). Each field is <c>*</c>, a value, a range <c>a-b</c>, a step <c>*/n</c>, <c>a-b/n</c> or
/// <c>a/n</c>, or a comma list of those; months and weekdays also take English three-letter names, and
/// weekday 7 is Sunday like 0. When both day fields are restricted, a day matching either fires (as in
/// Vixie cron). A local time skipped by a daylight-saving change never fires; a repeated one fires once.
/// </summary>
public sealed class CronSchedule
{
    private static readonly string[] FieldNames = ["minute", "hour", "day of month", "month", "day of week"];
    private static readonly string[] Months =
    [
        "JAN",
        "FEB",
        "MAR",
        "APR",
        "MAY",
        "JUN",
        "JUL",
        "AUG",
        "SEP",
        "OCT",
        "NOV",
        "DEC",
    ];
    private static readonly string[] Days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    /// <summary>How far a search looks before it gives up (an expression such as <c>0 0 31 2 *</c> never fires).</summary>
    private static readonly TimeSpan Horizon = TimeSpan.FromDays(366 * 8);

    private readonly bool[] minutes;
    private readonly bool[] hours;
    private readonly bool[] daysOfMonth;
    private readonly bool[] months;
    private readonly bool[] daysOfWeek;
    private readonly bool dayOfMonthRestricted;
    private readonly bool dayOfWeekRestricted;

    private CronSchedule(string text, bool[][] fields, bool domRestricted, bool dowRestricted)
    {
        Text = text;
        (minutes, hours, daysOfMonth, months, daysOfWeek) = (fields[0], fields[1], fields[2], fields[3], fields[4]);
        dayOfMonthRestricted = domRestricted;
        dayOfWeekRestricted = dowRestricted;
    }

    public string Text { get; }

    /// <summary>Parses an expression; a bad one is refused naming the field and what it accepts.</summary>
    public static CronSchedule Parse(string? text)
    {
        var parts = (text ?? "").Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 5)
            throw new LedgerException(
                $"schedule '{text}' must have 5 fields (minute hour day-of-month month day-of-week), for example '0 3 * * *' for 03:00 every day; it has {parts.Length}."
            );
        var fields = new bool[5][];
        fields[0] = Field(parts[0], 0, 0, 59, null);
        fields[1] = Field(parts[1], 1, 0, 23, null);
        fields[2] = Field(parts[2], 2, 1, 31, null);
        fields[3] = Field(parts[3], 3, 1, 12, Months);
        var dow = Field(parts[4], 4, 0, 7, Days);
        if (dow[7])
            dow[0] = true;
        fields[4] = dow[..7];
        var schedule = new CronSchedule(
            string.Join(' ', parts),
            fields,
            !parts[2].StartsWith('*'),
            !parts[4].StartsWith('*')
        );
        if (schedule.NextLocal(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Unspecified), TimeZoneInfo.Utc) is null)
            throw new LedgerException(
                $"schedule '{text}' never fires: no month has the day of month it names (for example '31 2' is February 31)."
            );
        return schedule;
    }

    /// <summary>The first firing strictly after <paramref name="after"/>, or null when none comes within eight years.</summary>
    public DateTimeOffset? Next(DateTimeOffset after, TimeZoneInfo zone)
    {
        var local = Minute(TimeZoneInfo.ConvertTime(after, zone).DateTime).AddMinutes(1);
        while (NextLocal(local, zone) is { } found)
        {
            var at = new DateTimeOffset(found, zone.GetUtcOffset(found));
            if (zone.IsAmbiguousTime(found))
                at = new DateTimeOffset(found, zone.GetAmbiguousTimeOffsets(found).Max());
            if (at > after)
                return at.ToUniversalTime();
            local = found.AddMinutes(1);
        }
        return null;
    }

    /// <summary>The latest firing at or before <paramref name="atOrBefore"/>, or null when none within eight years.</summary>
    public DateTimeOffset? Previous(DateTimeOffset atOrBefore, TimeZoneInfo zone)
    {
        var local = Minute(TimeZoneInfo.ConvertTime(atOrBefore, zone).DateTime);
        while (PreviousLocal(local, zone) is { } found)
        {
            var at = new DateTimeOffset(found, zone.GetUtcOffset(found));
            if (zone.IsAmbiguousTime(found))
                at = new DateTimeOffset(found, zone.GetAmbiguousTimeOffsets(found).Max());
            if (at <= atOrBefore)
                return at.ToUniversalTime();
            local = found.AddMinutes(-1);
        }
        return null;
    }

    public override string ToString() => Text;

    private static DateTime Minute(DateTime t) =>
        new(t.Year, t.Month, t.Day, t.Hour, t.Minute, 0, DateTimeKind.Unspecified);

    private DateTime? NextLocal(DateTime t, TimeZoneInfo zone)
    {
        var limit = t + Horizon;
        while (t <= limit)
        {
            if (!months[t.Month])
                t = new DateTime(t.Year, t.Month, 1).AddMonths(1);
            else if (!DayMatches(t))
                t = t.Date.AddDays(1);
            else if (!hours[t.Hour])
                t = t.Date.AddHours(t.Hour + 1);
            else if (!minutes[t.Minute] || zone.IsInvalidTime(t))
                t = t.AddMinutes(1);
            else
                return t;
        }
        return null;
    }

    private DateTime? PreviousLocal(DateTime t, TimeZoneInfo zone)
    {
        var limit = t - Horizon;
        while (t >= limit)
        {
            if (!months[t.Month])
                t = new DateTime(t.Year, t.Month, 1).AddMinutes(-1);
            else if (!DayMatches(t))
                t = t.Date.AddMinutes(-1);
            else if (!hours[t.Hour])
                t = t.Date.AddHours(t.Hour).AddMinutes(-1);
            else if (!minutes[t.Minute] || zone.IsInvalidTime(t))
                t = t.AddMinutes(-1);
            else
                return t;
        }
        return null;
    }

    private bool DayMatches(DateTime t)
    {
        var dom = daysOfMonth[t.Day];
        var dow = daysOfWeek[(int)t.DayOfWeek];
        return dayOfMonthRestricted && dayOfWeekRestricted ? dom || dow : dom && dow;
    }

    private static bool[] Field(string text, int index, int min, int max, string[]? names)
    {
        var name = FieldNames[index];
        var set = new bool[max + 1];
        foreach (var item in text.Split(','))
        {
            var (range, stepText) = item.Split('/') switch
            {
                [var r] => (r, null),
                [var r, var s] => (r, s),
                _ => throw Bad(text, name, min, max, names, $"'{item}' has more than one '/'"),
            };
            int low,
                high;
            if (range == "*")
                (low, high) = (min, max);
            else if (range.Split('-') is [var a, var b])
                (low, high) = (Value(a, text, name, min, max, names), Value(b, text, name, min, max, names));
            else
            {
                low = Value(range, text, name, min, max, names);
                high = stepText is null ? low : max;
            }
            if (low > high)
                throw Bad(text, name, min, max, names, $"the range '{range}' runs backwards");
            var step = 1;
            if (
                stepText is not null
                && (
                    !int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out step)
                    || step < 1
                    || step > max
                )
            )
                throw Bad(text, name, min, max, names, $"the step '{stepText}' must be a number from 1 to {max}");
            for (var v = low; v <= high; v += step)
                set[v] = true;
        }
        return set;
    }

    private static int Value(string text, string field, string fieldName, int min, int max, string[]? names)
    {
        if (names is not null)
        {
            var i = Array.FindIndex(names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
            if (i >= 0)
                return i + (min == 1 ? 1 : 0);
        }
        if (
            int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            && value >= min
            && value <= max
        )
            return value;
        throw Bad(field, fieldName, min, max, names, $"'{text}' is not a value from {min} to {max}");
    }

    private static LedgerException Bad(string field, string name, int min, int max, string[]? names, string why) =>
        new(
            $"the {name} field '{field}' is not valid: {why}. It takes *, a value from {min} to {max}{(names is null ? "" : $" or a name ({string.Join(", ", names)})")}, a range a-b, a step */n or a-b/n, or a comma list of those."
        );
}
