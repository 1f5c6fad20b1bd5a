using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// Builds a <typeparamref name="T"/> from each row of a query, without emitted code (safe under Native AOT: the
/// trimmer keeps the constructors and properties the annotation names). A scalar (number, text, bool, date, enum,
/// bytes, Guid, or the nullable form of one) is read from column 0. A value tuple is filled by position. Any other
/// type is built by its public parameterless constructor and the settable properties whose names match a column
/// (case-insensitively), or else by the public constructor whose parameters all match columns by name (the one with
/// the most parameters). Columns the type does not have are ignored. The plan is made once per type and set of
/// columns; each row then costs one constructor call and one conversion per column.
/// </summary>
internal static class RowReader<
    [DynamicallyAccessedMembers(
        DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicProperties
    )]
        T
>
{
    private static readonly bool Scalar = SqlValues.IsScalar(typeof(T));
    private static readonly ConcurrentDictionary<string, Func<DbDataReader, T>> Plans = new(StringComparer.Ordinal);

    /// <summary>The columns and reader of the last plan used (most queries of a type select the same columns).</summary>
    private static Recent? last;

    private sealed record Recent(string[] Columns, Func<DbDataReader, T> Read);

    /// <summary>The reader of <paramref name="reader"/>'s rows, for its columns.</summary>
    public static Func<DbDataReader, T> For(DbDataReader reader)
    {
        if (Scalar)
            return ReadScalar;
        if (last is { } recent && Same(recent.Columns, reader))
            return recent.Read;
        var names = new string[reader.FieldCount];
        for (var i = 0; i < names.Length; i++)
            names[i] = reader.GetName(i);
        var key = string.Join('\n', names);
        if (!Plans.TryGetValue(key, out var plan))
        {
            plan = Plan(names);
            if (Plans.Count < 256)
                Plans.TryAdd(key, plan);
        }
        last = new Recent(names, plan);
        return plan;
    }

    private static bool Same(string[] columns, DbDataReader reader)
    {
        if (columns.Length != reader.FieldCount)
            return false;
        for (var i = 0; i < columns.Length; i++)
            if (!string.Equals(columns[i], reader.GetName(i), StringComparison.Ordinal))
                return false;
        return true;
    }

    private static T ReadScalar(DbDataReader r) => SqlValues.To<T>(r.GetValue(0))!;

    private static Func<DbDataReader, T> Plan(string[] columns)
    {
        var type = typeof(T);
        if (
            type.IsValueType
            && type.IsGenericType
            && type.FullName!.StartsWith("System.ValueTuple`", StringComparison.Ordinal)
        )
            return ByPosition(columns);
        var constructors = type.GetConstructors();
        if (Array.Find(constructors, c => c.GetParameters().Length == 0) is { } parameterless)
            return ByProperties(parameterless, columns);
        return ByConstructor(constructors, columns);
    }

    private static int Column(string[] columns, string name) =>
        Array.FindIndex(columns, c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));

    private static Func<DbDataReader, T> ByPosition(string[] columns)
    {
        var constructor = typeof(T).GetConstructors().Single(c => c.GetParameters().Length > 0);
        var types = constructor.GetParameters().Select(p => SqlValues.Underlying(p.ParameterType)).ToArray();
        if (columns.Length < types.Length)
            throw new InvalidOperationException(
                $"The query returns {columns.Length} column(s) ({string.Join(", ", columns)}) for a tuple of {types.Length}: select one column per element."
            );
        return Build(ConstructorInvoker.Create(constructor), [.. Enumerable.Range(0, types.Length)], types);
    }

    private static Func<DbDataReader, T> ByConstructor(ConstructorInfo[] constructors, string[] columns)
    {
        var name = typeof(T).Name;
        if (constructors.Length == 0)
            throw new InvalidOperationException($"{name} has no public constructor; a row cannot be built.");
        // The constructor with the most parameters that the columns fill entirely; else the error names what lacks.
        var best = constructors
            .Select(c => (Constructor: c, Parameters: c.GetParameters()))
            .OrderByDescending(c => c.Parameters.Length)
            .Select(c =>
                (c.Constructor, c.Parameters, Missing: c.Parameters.Where(p => Column(columns, p.Name!) < 0).ToArray())
            )
            .OrderBy(c => c.Missing.Length)
            .First();
        if (best.Missing.Length > 0)
            throw new InvalidOperationException(
                $"The query's columns ({string.Join(", ", columns)}) cannot build {name}: its constructor's parameter(s) {string.Join(", ", best.Missing.Select(p => p.Name))} have no column of that name (name one with AS)."
            );
        return Build(
            ConstructorInvoker.Create(best.Constructor),
            [.. best.Parameters.Select(p => Column(columns, p.Name!))],
            [.. best.Parameters.Select(p => SqlValues.Underlying(p.ParameterType))]
        );
    }

    private static Func<DbDataReader, T> Build(ConstructorInvoker constructor, int[] at, Type[] types)
    {
        return r =>
        {
            var args = new object?[at.Length];
            for (var i = 0; i < at.Length; i++)
                args[i] = SqlValues.ConvertTo(r.GetValue(at[i]), types[i]);
            return (T)constructor.Invoke(args.AsSpan());
        };
    }

    private static Func<DbDataReader, T> ByProperties(ConstructorInfo parameterless, string[] columns)
    {
        var setters = new List<(int Column, Type Type, MethodInvoker Set)>();
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod is not { } set || property.GetIndexParameters().Length > 0)
                continue;
            var column = Column(columns, property.Name);
            if (column >= 0)
                setters.Add((column, SqlValues.Underlying(property.PropertyType), MethodInvoker.Create(set)));
        }
        var constructor = ConstructorInvoker.Create(parameterless);
        var plan = setters.ToArray();
        return r =>
        {
            var row = constructor.Invoke();
            foreach (var (column, type, set) in plan)
                set.Invoke(row, SqlValues.ConvertTo(r.GetValue(column), type));
            return (T)row;
        };
    }
}
