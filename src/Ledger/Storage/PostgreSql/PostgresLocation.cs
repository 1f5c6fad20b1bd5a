using Npgsql;

namespace FactoryMcp.Ledger.Storage.PostgreSql;

/// <summary>
/// A PostgreSQL ledger named by URL: <c>postgresql://user@host:port/database</c> (a Unix socket folder as
/// <c>?host=/run/postgresql</c>). The URL never carries a password: it comes from <c>PGPASSWORD</c>, the
/// password file (<c>PGPASSFILE</c>, default <c>~/.pgpass</c>) or a secret file named by
/// <c>FACTORY_LEDGER_PASSWORD_FILE</c>, so the URL can be shown, logged and written to agent registrations.
/// </summary>
public sealed class PostgresLocation
{
    public const string PasswordFileVariable = "FACTORY_LEDGER_PASSWORD_FILE";

    private PostgresLocation(string url, string host, int port, string database, string user, string? sslMode)
    {
        Url = url;
        Host = host;
        Port = port;
        Database = database;
        User = user;
        SslMode = sslMode;
    }

    /// <summary>The URL as given, without a password (one is refused): safe to show.</summary>
    public string Url { get; }
    public string Host { get; }
    public int Port { get; }
    public string Database { get; }
    public string User { get; }
    public string? SslMode { get; }

    /// <summary>Whether <paramref name="ledger"/> names a PostgreSQL database rather than a SQLite file.</summary>
    public static bool IsUrl(string? ledger) =>
        ledger is not null
        && (
            ledger.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            || ledger.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        );

    public static PostgresLocation Parse(string url)
    {
        if (!FactoryBuild.Full)
            throw FactoryBuild.Refused("A PostgreSQL ledger");
        if (!IsUrl(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
            throw new LedgerException(
                "The ledger URL is not of the form postgresql://user@host:5432/database; nothing was changed."
            );
        var userInfo = Uri.UnescapeDataString(uri.UserInfo);
        if (userInfo.Contains(':', StringComparison.Ordinal))
            throw new LedgerException(
                "The ledger URL carries a password, which would end up in logs and agent registrations. Give it through PGPASSWORD, ~/.pgpass (or PGPASSFILE) or a file named by "
                    + PasswordFileVariable
                    + ", and drop it from the URL; nothing was changed."
            );
        var database = Uri.UnescapeDataString(uri.AbsolutePath.Trim('/'));
        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
            throw new LedgerException(
                $"The ledger URL names no database (postgresql://user@host:5432/DATABASE); nothing was changed."
            );
        string? socketHost = null,
            sslMode = null;
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = pair.Split('=', 2);
            var name = Uri.UnescapeDataString(parts[0]);
            var value = parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : "";
            switch (name)
            {
                case "host":
                    socketHost = value;
                    break;
                case "sslmode":
                    sslMode = value;
                    break;
                case "password":
                    throw new LedgerException(
                        "The ledger URL carries a password; give it through PGPASSWORD, ~/.pgpass or "
                            + PasswordFileVariable
                            + " instead. Nothing was changed."
                    );
                default:
                    throw new LedgerException(
                        $"The ledger URL has an unknown parameter '{name}' (known: host for a socket folder, sslmode); nothing was changed."
                    );
            }
        }
        var host = socketHost ?? (uri.Host.Length > 0 ? uri.Host : "localhost");
        var user =
            userInfo.Length > 0 ? userInfo
            : Environment.GetEnvironmentVariable("PGUSER") is { Length: > 0 } pgUser ? pgUser
            : Environment.UserName;
        return new PostgresLocation(url, host, uri.Port > 0 ? uri.Port : 5432, database, user, sslMode);
    }

    /// <summary>The connection string Npgsql opens; it may hold the password, so it is never shown or logged.</summary>
    internal string ConnectionString(string applicationName)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = Host,
            Port = Port,
            Database = Database,
            Username = User,
            ApplicationName = applicationName,
            Pooling = true,
            MaxPoolSize = 50,
            Timeout = 10,
            CommandTimeout = 30,
            // A connection the server dropped (restart, failover) is noticed on the next use and retried.
            IncludeErrorDetail = false,
            // A statement run twice on a server connection is prepared there and stays prepared while the pool keeps
            // the connection (the hot reads and writes: see PreparedConnection); the least used of more give way.
            MaxAutoPrepare = 64,
            AutoPrepareMinUsages = 2,
        };
        if (SslMode is { } ssl)
            builder.SslMode = Enum.Parse<SslMode>(ssl, ignoreCase: true);
        if (Environment.GetEnvironmentVariable("PGPASSWORD") is { Length: > 0 } password)
            builder.Password = password;
        else if (Environment.GetEnvironmentVariable(PasswordFileVariable) is { Length: > 0 } secretFile)
            builder.Password = ReadSecret(secretFile);
        else if (Environment.GetEnvironmentVariable("PGPASSFILE") is { Length: > 0 } passFile)
            builder.Passfile = passFile;
        return builder.ToString();
    }

    private static string ReadSecret(string file)
    {
        try
        {
            return File.ReadAllText(file).TrimEnd('\r', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerException(
                $"{PasswordFileVariable} names {file}, which cannot be read ({e.Message}); nothing was changed."
            );
        }
    }

    public override string ToString() => Url;
}
