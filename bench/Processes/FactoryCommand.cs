namespace FactoryMcp.Bench.Processes;

/// <summary>`factory serve` command lines on a given ledger, with none of the caller's own FACTORY_* variables.</summary>
internal static class FactoryCommand
{
    public static ServerCommand Serve(string factory, string ledgerFile, string agent, string? token = null) =>
        new(
            factory,
            ["serve"],
            Environment(ledgerFile, new() { ["FACTORY_AGENT"] = agent, ["FACTORY_TOKEN"] = token })
        );

    public static ServerCommand ServeHttp(string factory, string ledgerFile) =>
        new(factory, ["serve", "--http", "--urls", "http://127.0.0.1:0"], Environment(ledgerFile, []));

    public static Dictionary<string, string?> Environment(string ledgerFile, Dictionary<string, string?> extra)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
            if (((string)entry.Key).StartsWith("FACTORY_", StringComparison.Ordinal))
                env[(string)entry.Key] = null;
        env["FACTORY_ENV"] = "test";
        env["FACTORY_LEDGER"] = ledgerFile;
        foreach (var (k, v) in extra)
            env[k] = v;
        return env;
    }
}
