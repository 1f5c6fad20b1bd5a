using Microsoft.Extensions.Logging;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>A logger that keeps what it is given, so a test can read what was logged.</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (entries)
                return entries.ToList();
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(
        LogLevel logLevel,
        EventId eventId,
        TState state,
        Exception? exception,
        Func<TState, Exception?, string> formatter
    )
    {
        lock (entries)
            entries.Add((logLevel, formatter(state, exception)));
    }
}
