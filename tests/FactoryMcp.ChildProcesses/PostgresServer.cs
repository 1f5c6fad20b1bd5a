using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FactoryMcp.ChildProcesses;

/// <summary>
/// A PostgreSQL server of the tests' or the benchmark's own, from Debian's binaries (<c>pg_config --bindir</c>,
/// else the newest /usr/lib/postgresql/N/bin): <c>initdb</c> in the folder the caller gives, listening on 127.0.0.1 at
/// a free port and on a socket in that folder, run by an unprivileged user when this process runs as root (the
/// server refuses root). A watchdog stops it and removes its folder should this process die without
/// <see cref="Stop"/>. Superuser <see cref="Superuser"/>, trusted on the socket and on 127.0.0.1 unless the caller's
/// <c>pg_hba.conf</c> says otherwise.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    public const string Superuser = "factory";

    private readonly Process watchdog;
    private readonly string settings;
    private int stopped;

    private PostgresServer(string bin, string folder, string osUser, int port, string settings, Process watchdog)
    {
        BinDir = bin;
        Folder = folder;
        OsUser = osUser;
        Port = port;
        this.settings = settings;
        this.watchdog = watchdog;
    }

    public string BinDir { get; }
    public string Folder { get; }
    public int Port { get; }

    /// <summary>The operating-system user the server runs as; empty when it runs as this process's user.</summary>
    public string OsUser { get; }

    public string Data => Path.Combine(Folder, "data");

    /// <summary>The server's options as `pg_ctl -o` takes them: address, port, socket folder and the caller's settings.</summary>
    public string Options => $"-c listen_addresses=127.0.0.1 -p {Port} -k {Folder} {settings}";

    /// <summary>
    /// Starts a server in <paramref name="folder"/> (created; it must be reachable by the server's user).
    /// <paramref name="settings"/> are further <c>-c name=value</c> options; <paramref name="hba"/>, when given,
    /// replaces pg_hba.conf; <paramref name="syncInit"/> false skips initdb's fsync (a throwaway cluster).
    /// </summary>
    public static async Task<PostgresServer> StartAsync(string folder, string settings, string? hba, bool syncInit)
    {
        var bin =
            FindBinDir()
            ?? throw new InvalidOperationException(
                "PostgreSQL's server binaries are not installed (no pg_config on PATH, nothing under /usr/lib/postgresql/*/bin): `apt-get install postgresql` (.ci/run does)"
            );
        Directory.CreateDirectory(folder);
        var osUser = Environment.UserName == "root" ? (UserExists("postgres") ? "postgres" : "nobody") : "";
        if (osUser.Length > 0)
            await RunAsync("chown", ["-R", osUser, folder]);
        var data = Path.Combine(folder, "data");
        string[] init = ["-D", data, "-U", Superuser, "-A", "trust", "-E", "UTF8", "--locale=C"];
        await RunAsync(osUser, Path.Combine(bin, "initdb"), syncInit ? init : [.. init, "--no-sync"]);
        if (hba is not null)
        {
            await File.WriteAllTextAsync(Path.Combine(data, "pg_hba.conf"), hba);
            if (osUser.Length > 0)
                await RunAsync("chown", [osUser, Path.Combine(data, "pg_hba.conf")]);
        }
        var port = FreePort();
        var stop = osUser.Length > 0 ? $"runuser -u {osUser} -- " : "";
        var script =
            $"while kill -0 {Environment.ProcessId} 2>/dev/null; do sleep 1; done; "
            + $"{stop}'{bin}/pg_ctl' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{folder}'";
        var server = new PostgresServer(
            bin,
            folder,
            osUser,
            port,
            settings,
            Process.Start(new ProcessStartInfo("/bin/sh", ["-c", script]) { UseShellExecute = false })!
        );
        try
        {
            await server.PgCtlAsync("start");
        }
        catch
        {
            server.Stop();
            throw;
        }
        return server;
    }

    /// <summary>`pg_ctl restart -m <paramref name="mode"/>`: every connection is cut, the server comes back.</summary>
    public Task RestartAsync(string mode = "fast") => PgCtlAsync("restart", "-m", mode);

    private Task PgCtlAsync(string action, params string[] extra) =>
        RunAsync(
            OsUser,
            Path.Combine(BinDir, "pg_ctl"),
            ["-D", Data, .. extra, "-o", Options, "-l", Path.Combine(Folder, "server.log"), "-w", "-t", "60", action]
        );

    /// <summary>Stops the server (`-m <paramref name="mode"/>`) and removes its folder; once, whoever calls it.</summary>
    public void Stop(string mode = "immediate")
    {
        if (Interlocked.Exchange(ref stopped, 1) == 1)
            return;
        try
        {
            var (file, args) = Command(OsUser, Path.Combine(BinDir, "pg_ctl"), ["-D", Data, "-m", mode, "stop"]);
            using var process = Process.Start(
                new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true }
            )!;
            process.WaitForExit(30_000);
            Directory.Delete(Folder, recursive: true);
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

    public void Dispose() => Stop();

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
