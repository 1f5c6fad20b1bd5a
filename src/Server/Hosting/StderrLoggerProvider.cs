using Microsoft.Extensions.Logging;

namespace FactoryMcp.Server.Hosting;

/// <summary>
/// One line per entry on stderr (stdout is the protocol in stdio mode), in the console logger's
/// single-line shape: <c>warn: Category[0] message</c>, then the exception. Built without the logging
/// builder, configuration and options machinery, which cost `factory serve` tens of milliseconds at startup.
/// </summary>
internal sealed class StderrLoggerProvider(LogLevel minimum) : ILoggerProvider
{
    private static readonly Lock Gate = new();

    public static ILoggerFactory Factory(LogLevel minimum) =>
        new LoggerFactory([new StderrLoggerProvider(minimum)], new LoggerFilterOptions { MinLevel = minimum });

    public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName, minimum);

    public void Dispose() { }

    private sealed class StderrLogger(string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(
            LogLevel logLevel,
            EventId eventId,
            TState state,
            Exception? exception,
            Func<TState, Exception?, string> formatter
        )
        {
            if (!IsEnabled(logLevel))
                return;
            var line =
                $"{Label(logLevel)}: {category}[{eventId.Id}] {formatter(state, exception).ReplaceLineEndings(" ")}";
            lock (Gate)
            {
                Console.Error.WriteLine(line);
                if (exception is not null)
                    Console.Error.WriteLine(exception.ToString());
            }
        }

        private static string Label(LogLevel level) =>
            level switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
    }
}
