using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace FactoryMcp.Bench.Fleet;

/// <summary>
/// A PostgreSQL cluster of the benchmark's own, as the tests start theirs (tests/…/Infrastructure/PostgresCluster.cs):
/// Debian's binaries (<c>pg_config --bindir</c>, else /usr/lib/postgresql/N/bin), <c>initdb</c> in a temp folder
/// owned by an unprivileged user when the benchmark runs as root (the server refuses root), listening on 127.0.0.1
/// at a free port. Unlike the tests' cluster it keeps PostgreSQL's default durability (fsync, synchronous commit):
/// the figures are a fleet's. Stopped (and its folder deleted) on dispose, and by a watchdog should the benchmark
/// be killed.
/// </summary>
internal sealed class PrivatePostgres : IDisposable
{
    public const string User = "factory";

    private readonly string bin;
    private readonly string folder;
    private readonly string osUser;
    private readonly Process watchdog;

    private PrivatePostgres(string bin, string folder, string osUser, int port, Process watchdog)
    {
        this.bin = bin;
        this.folder = folder;
        this.osUser = osUser;
        this.watchdog = watchdog;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server's URL (database postgres), as `--postgres` takes it: BenchDatabase makes the ledger's own there.</summary>
    public string ServerUrl => $"postgresql://{User}@127.0.0.1:{Port}/postgres";

    public static async Task<PrivatePostgres> StartAsync()
    {
        var bin =
            FindBinDir()
            ?? throw new InvalidOperationException(
                "`bench fleet` starts its own PostgreSQL, but its server binaries are not installed (no pg_config on PATH, nothing under /usr/lib/postgresql/*/bin): `apt-get install postgresql`."
            );
        // In the temp folder, which the server's user can reach (the benchmark's --dir may be under /root).
        var folder = Path.Combine(Path.GetTempPath(), $"factory-bench-pg-{Guid.NewGuid():N}"[..29]);
        Directory.CreateDirectory(folder);
        var osUser = Environment.UserName == "root" ? (UserExists("postgres") ? "postgres" : "nobody") : "";
        if (osUser.Length > 0)
        {
            await RunAsync("chown", ["-R", osUser, folder]);
        }
        var data = Path.Combine(folder, "data");
        await RunAsync(
            osUser,
            Path.Combine(bin, "initdb"),
            ["-D", data, "-U", User, "-A", "trust", "-E", "UTF8", "--locale=C"]
        );
        var port = FreePort();
        var options =
            $"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c max_connections=200 -c shared_buffers=64MB";
        await RunAsync(
            osUser,
            Path.Combine(bin, "pg_ctl"),
            ["-D", data, "-o", options, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60", "start"]
        );
        var stop = osUser.Length > 0 ? $"runuser -u {osUser} -- " : "";
        var script =
            $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; "
            + $"{stop}'{bin}/pg_ctl' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{folder}'";
        var watchdog = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", script]) { UseShellExecute = false })!;
        return new PrivatePostgres(bin, folder, osUser, port, watchdog);
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            var (file, args) = Command(
                osUser,
                Path.Combine(bin, "pg_ctl"),
                ["-D", Path.Combine(folder, "data"), "-m", "fast", "stop"]
            );
            using var process = Process.Start(
                new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true }
            )!;
            process.WaitForExit(30_000);
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e)
            when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception) { }
        try
        {
            watchdog.Kill();
        }
        catch (InvalidOperationException) { }
        watchdog.Dispose();
    }

    private static string? FindBinDir()
    {
        try
        {
            using var process = Process.Start(
                new ProcessStartInfo("pg_config", "--bindir")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                }
            )!;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            if (process.ExitCode == 0 && File.Exists(Path.Combine(output, "initdb")))
                return output;
        }
        catch (System.ComponentModel.Win32Exception) { }
        return Directory.Exists("/usr/lib/postgresql")
            ? Directory
                .GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
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

    private static Task RunAsync(string osUser, string file, string[] args)
    {
        var (f, a) = Command(osUser, file, args);
        return RunAsync(f, a);
    }

    private static async Task RunAsync(string file, string[] args)
    {
        using var process = Process.Start(
            new ProcessStartInfo(file, args)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = "/",
            }
        )!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"`{file} {string.Join(' ', args)}` failed (exit {process.ExitCode}): {await stderr}{await stdout}"
            );
    }
}
