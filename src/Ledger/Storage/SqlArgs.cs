using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// A statement's parameters, taken from the public properties of an object (an anonymous one as a rule:
/// <c>SqlArgs.Of(new { id, state })</c> binds <c>@id</c> and <c>@state</c>). The type is a generic argument
/// annotated for the trimmer, so reading its properties stays safe under Native AOT; the properties are looked up
/// once per type. Only the parameters a statement names are bound (see <see cref="SqlCommands"/>).
/// </summary>
public sealed class SqlArgs
{
    private SqlArgs(Arg[] values) => Values = values;

    internal readonly record struct Arg(string Name, object? Value, Type Type);

    internal Arg[] Values { get; }

    public static SqlArgs Of<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(T values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var properties = Properties<T>.All;
        var args = new Arg[properties.Length];
        for (var i = 0; i < properties.Length; i++)
        {
            var (name, type, get) = properties[i];
            args[i] = new Arg(name, get.Invoke(values), type);
        }
        return new SqlArgs(args);
    }

    /// <summary>Parameters by name, for a statement built at run time.</summary>
    public static SqlArgs Named(params ReadOnlySpan<(string Name, object? Value)> values)
    {
        var args = new Arg[values.Length];
        for (var i = 0; i < values.Length; i++)
            args[i] = new Arg(values[i].Name, values[i].Value, values[i].Value?.GetType() ?? typeof(object));
        return new SqlArgs(args);
    }

    private static class Properties<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>
    {
        public static readonly (string Name, Type Type, MethodInvoker Get)[] All = typeof(T)
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0)
            .Select(p => (p.Name, p.PropertyType, MethodInvoker.Create(p.GetMethod!)))
            .ToArray();
    }
}
