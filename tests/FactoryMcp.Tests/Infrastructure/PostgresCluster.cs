using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Storage.PostgreSql;
using Npgsql;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// One private PostgreSQL cluster for the whole test run, started the first time a test asks for it: Debian's
/// binaries (<c>pg_config --bindir</c>, else /usr/lib/postgresql/N/bin), <c>initdb</c> in a temp folder,
/// listening on 127.0.0.1 at a free port and on a socket in that folder, run by an unprivileged user when the
/// tests run as root (the server refuses root), durability off (a test cluster dies with its run). It stops
/// when the test process exits, and a watchdog stops it should the process be killed. Each test gets a fresh
/// database of its own (<see cref="CreateDatabaseAsync"/>).
/// Missing binaries fail the test in CI and skip it only elsewhere, as <see cref="ExternalClients"/> does.
/// </summary>
public static class PostgresCluster
{
    /// <summary>The superuser the tests connect as (trusted on 127.0.0.1 and the socket).</summary>
    public const string User = "factory";

    /// <summary>A user that must give a password (<see cref="SecuredPassword"/>), for the bad-credentials tests.</summary>
    public const string SecuredUser = "secured";
    public const string SecuredPassword = "correct horse";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Started? started;
    private static string? failure;

    /// <summary>
    /// A running cluster. <c>Durable</c>: commits wait for their WAL (synchronous_commit on), so an acknowledged
    /// commit survives an immediate shutdown of the server (fsync stays off: the host itself does not crash).
    /// </summary>
    public sealed record Started(string BinDir, string Folder, int Port, string OsUser, Process Watchdog, bool Durable)
    {
        public string Data => Path.Combine(Folder, "data");
        public string Options =>
            $"-c listen_addresses=127.0.0.1 -p {Port} -k {Folder} -c fsync=off -c synchronous_commit={(Durable ? "on" : "off")} "
            + "-c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB";
    }

    public static int Port => started?.Port ?? throw new InvalidOperationException("The cluster is not started.");
    public static string BinDir =>
        started?.BinDir ?? throw new InvalidOperationException("The cluster is not started.");

    /// <summary>Starts the cluster once (or fails/skips the test as described above).</summary>
    public static async Task RequireAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (started is null && failure is null)
            {
                try
                {
                    started = await StartAsync();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    failure = e.Message;
                }
            }
        }
        finally
        {
            Gate.Release();
        }
        if (failure is null)
            return;
        if (ExternalClients.InCi)
            Assert.Fail($"CI must run every PostgreSQL test, but {failure}");
        Assert.Skip(failure);
    }

    /// <summary>A fresh, empty database on the cluster; returns its ledger URL.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix = "t")
    {
        await RequireAsync();
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 60)];
        await using var connection = new NpgsqlConnection(Admin("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0", connection);
        await command.ExecuteNonQueryAsync();
        return Url(name);
    }

    public static string Url(string database, string user = User) => $"postgresql://{user}@127.0.0.1:{Port}/{database}";

    /// <summary>A ledger location on a fresh database, with its state folder.</summary>
    public static async Task<LedgerPaths> NewLedgerPathsAsync(string stateFolder) =>
        new(PostgresLocation.Parse(await CreateDatabaseAsync()), stateFolder);

    /// <summary>Drops a test's database, closing whatever connections still use it.</summary>
    public static async Task DropDatabaseAsync(string url)
    {
        if (started is null)
            return;
        var database = PostgresLocation.Parse(url).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Admin("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A connection string for the test's own administration (never one the factory sees).</summary>
    public static string Admin(string database) => Admin(database, Port);

    private static string Admin(string database, int port) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = User,
            Database = database,
            Pooling = false,
        }.ToString();

    private static string? FindBinDir()
    {
        try
        {
            var psi = new ProcessStartInfo("pg_config", "--bindir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(psi)!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            if (process.ExitCode == 0 && File.Exists(Path.Combine(output, "initdb")))
                return output;
        }
        catch (System.ComponentModel.Win32Exception) { }
        if (!Directory.Exists("/usr/lib/postgresql"))
            return null;
        return Directory
            .GetDirectories("/usr/lib/postgresql")
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb")))
            .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    private static async Task<Started> StartAsync(bool durable = false)
    {
        var bin =
            FindBinDir()
            ?? throw new InvalidOperationException(
                "PostgreSQL's server binaries are not installed (no pg_config on PATH, nothing under /usr/lib/postgresql/*/bin): `apt-get install postgresql` (.ci/run does)"
            );
        var folder = Path.Combine(Path.GetTempPath(), "factory-tests", $"pg-{Guid.NewGuid():N}"[..15]);
        Directory.CreateDirectory(folder);
        var osUser = Environment.UserName == "root" ? (UserExists("postgres") ? "postgres" : "nobody") : "";
        if (osUser.Length > 0)
        {
            // The server refuses to run as root: the cluster belongs to an unprivileged user.
            await RunAsync("chown", ["-R", osUser, folder]);
            File.SetUnixFileMode(
                Path.GetDirectoryName(folder)!,
                File.GetUnixFileMode(Path.GetDirectoryName(folder)!) | UnixFileMode.OtherExecute
            );
        }
        var data = Path.Combine(folder, "data");
        await RunAsServerUserAsync(
            osUser,
            Path.Combine(bin, "initdb"),
            ["-D", data, "-U", User, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]
        );
        await File.WriteAllTextAsync(
            Path.Combine(data, "pg_hba.conf"),
            $"""
            local all all trust
            host all {SecuredUser} 127.0.0.1/32 scram-sha-256
            host all all 127.0.0.1/32 trust
            """
        );
        if (osUser.Length > 0)
            await RunAsync("chown", [osUser, Path.Combine(data, "pg_hba.conf")]);
        var port = FreePort();
        var options = new Started(bin, folder, port, osUser, null!, durable).Options;
        await RunAsServerUserAsync(
            osUser,
            Path.Combine(bin, "pg_ctl"),
            ["-D", data, "-o", options, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "start"]
        );
        var watchdog = StartWatchdog(bin, data, folder, osUser);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(bin, data, folder, osUser, watchdog);
        var result = new Started(bin, folder, port, osUser, watchdog, durable);
        await using (var connection = new NpgsqlConnection(Admin("postgres", port)))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                $"CREATE ROLE {SecuredUser} LOGIN CREATEDB PASSWORD '{SecuredPassword}'",
                connection
            );
            await command.ExecuteNonQueryAsync();
        }
        return result;
    }

    /// <summary>
    /// A second cluster, private to one test (its own folder, data directory and port), started by the same code
    /// as the shared one: for a test that restarts or stops PostgreSQL, which the shared cluster's other tests,
    /// running in parallel, must never see. Its commits are durable (see <see cref="Started"/>), so a test may kill
    /// it with `-m immediate`. Disposing it stops it and removes its folder.
    /// </summary>
    public static async Task<PrivateCluster> StartPrivateAsync()
    {
        await RequireAsync(); // skips or fails the test exactly as the shared cluster would
        return new PrivateCluster(await StartAsync(durable: true));
    }

    public sealed class PrivateCluster(Started cluster) : IAsyncDisposable
    {
        public int Port => cluster.Port;

        public string Url(string database) => $"postgresql://{User}@127.0.0.1:{Port}/{database}";

        /// <summary>A fresh, empty database on this cluster; returns its ledger URL.</summary>
        public async Task<string> CreateDatabaseAsync(string prefix = "t")
        {
            var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 60)];
            await using var connection = new NpgsqlConnection(Admin("postgres", Port));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0", connection);
            await command.ExecuteNonQueryAsync();
            return Url(name);
        }

        /// <summary>`pg_ctl restart -m <paramref name="mode"/>`: every connection is cut, the server comes back.</summary>
        public Task RestartAsync(string mode = "fast") =>
            RunAsServerUserAsync(
                cluster.OsUser,
                Path.Combine(cluster.BinDir, "pg_ctl"),
                [
                    "-D",
                    cluster.Data,
                    "-m",
                    mode,
                    "-o",
                    cluster.Options,
                    "-l",
                    Path.Combine(cluster.Folder, "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "restart",
                ]
            );

        public ValueTask DisposeAsync()
        {
            Stop(cluster.BinDir, cluster.Data, cluster.Folder, cluster.OsUser, cluster.Watchdog);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Stops the cluster and removes its folder when this process dies, however it dies.</summary>
    private static Process StartWatchdog(string bin, string data, string folder, string osUser)
    {
        var stop = osUser.Length > 0 ? $"runuser -u {osUser} -- " : "";
        var script =
            $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; "
            + $"{stop}'{bin}/pg_ctl' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{folder}'";
        var psi = new ProcessStartInfo("/bin/sh", ["-c", script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = false,
            UseShellExecute = false,
        };
        return Process.Start(psi)!;
    }

    private static void Stop(string bin, string data, string folder, string osUser, Process watchdog)
    {
        try
        {
            var (file, args) = Command(osUser, Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"]);
            using var process = Process.Start(
                new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true }
            )!;
            process.WaitForExit(20_000);
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e)
            when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception) { }
        try
        {
            watchdog.Kill();
        }
        catch (InvalidOperationException) { }
    }

    private static bool UserExists(string name) =>
        File.ReadLines("/etc/passwd").Any(l => l.StartsWith(name + ":", StringComparison.Ordinal));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static (string File, string[] Args) Command(string osUser, string file, string[] args) =>
        osUser.Length > 0 ? ("runuser", ["-u", osUser, "--", file, .. args]) : (file, args);

    private static Task RunAsServerUserAsync(string osUser, string file, string[] args)
    {
        var (f, a) = Command(osUser, file, args);
        return RunAsync(f, a);
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"`{file} {string.Join(' ', args)}` failed (exit {process.ExitCode}): {await stderr}{await stdout}"
            );
    }
}
