using System.Data;
using System.Globalization;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// Conversions between .NET values and what SQLite and PostgreSQL hold: integers come back as Int64 (SQLite) or
/// Int32/Int64 (PostgreSQL) and are converted to the type asked for, reals as Double, booleans as 0/1 or boolean,
/// dates as the ledger's ISO text (<see cref="Iso"/>) both ways, enums as their number, NULL as null or default.
/// </summary>
internal static class SqlValues
{
    /// <summary>Whether a type is read from one column (a scalar) rather than built from several.</summary>
    public static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive
            || type.IsEnum
            || type == typeof(string)
            || type == typeof(decimal)
            || type == typeof(DateTimeOffset)
            || type == typeof(DateTime)
            || type == typeof(TimeSpan)
            || type == typeof(Guid)
            || type == typeof(byte[])
            || type == typeof(object);
    }

    /// <summary>A column's value as <typeparamref name="T"/> (NULL gives default).</summary>
    public static T? To<T>(object? value) =>
        value switch
        {
            T same => same,
            null or DBNull => default,
            _ => (T?)Convert(value, typeof(T)),
        };

    /// <summary>A column's value as <paramref name="target"/> (NULL gives null, which becomes default when passed
    /// to a constructor or setter of a value type).</summary>
    public static object? Convert(object? value, Type target) => ConvertTo(value, Underlying(target));

    /// <summary>The type a nullable value type wraps, or the type itself.</summary>
    public static Type Underlying(Type type) => Nullable.GetUnderlyingType(type) ?? type;

    /// <summary>As <see cref="Convert"/>, to a type already unwrapped by <see cref="Underlying"/> (the row plans').</summary>
    public static object? ConvertTo(object? value, Type type)
    {
        if (value is null or DBNull)
            return null;
        var target = type;
        if (value.GetType() == type || type.IsInstanceOfType(value))
            return value;
        if (type == typeof(DateTimeOffset))
            return value switch
            {
                string text => Iso.Parse(text),
                DateTime at => new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)),
                _ => throw Unreadable(value, target),
            };
        if (type.IsEnum)
            return value is string name ? Enum.Parse(type, name, ignoreCase: true) : Enum.ToObject(type, value);
        if (type == typeof(Guid))
            return value switch
            {
                string text => Guid.Parse(text, CultureInfo.InvariantCulture),
                byte[] bytes => new Guid(bytes),
                _ => throw Unreadable(value, target),
            };
        if (type == typeof(char) && value is string { Length: 1 } one)
            return one[0];
        try
        {
            return System.Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException)
        {
            throw Unreadable(value, target, e);
        }
    }

    private static InvalidCastException Unreadable(object value, Type target, Exception? inner = null) =>
        new($"A column holding {value.GetType().Name} '{value}' cannot be read as {target.Name}.", inner);

    /// <summary>A parameter's value as the database takes it.</summary>
    public static object ToDatabase(object? value) =>
        value switch
        {
            null => DBNull.Value,
            DateTimeOffset at => Iso.Text(at),
            Enum e => System.Convert.ChangeType(e, e.GetTypeCode(), CultureInfo.InvariantCulture),
            _ => value,
        };

    /// <summary>The parameter type for a declared type (so that a NULL is typed on PostgreSQL), or null to infer it.</summary>
    public static DbType? DbTypeOf(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum)
            type = Enum.GetUnderlyingType(type);
        return type switch
        {
            _ when type == typeof(string) || type == typeof(DateTimeOffset) => DbType.String,
            _ when type == typeof(long) => DbType.Int64,
            _ when type == typeof(int) => DbType.Int32,
            _ when type == typeof(short) => DbType.Int16,
            _ when type == typeof(byte) => DbType.Byte,
            _ when type == typeof(double) => DbType.Double,
            _ when type == typeof(float) => DbType.Single,
            _ when type == typeof(decimal) => DbType.Decimal,
            _ when type == typeof(bool) => DbType.Boolean,
            _ when type == typeof(byte[]) => DbType.Binary,
            _ when type == typeof(Guid) => DbType.Guid,
            _ => null,
        };
    }
}
