using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.ChildProcesses;

namespace FactoryMcp.Bench.Processes;

/// <summary>
/// Any stdio MCP server as a child process, spoken to in raw newline-delimited JSON-RPC, so that the
/// figures carry no client library's overhead and peers in other languages are measured the same way.
/// The spawn clock starts just before the process is started.
/// </summary>
internal sealed class StdioPeer : IAsyncDisposable
{
    private static readonly UTF8Encoding Utf8 = new(false);
    private readonly ChildProcess process;
    private readonly StreamReader output;
    private readonly Stopwatch sinceSpawn;
    private long nextId;

    private StdioPeer(ChildProcess process, Stopwatch sinceSpawn)
    {
        this.process = process;
        this.sinceSpawn = sinceSpawn;
        output = new StreamReader(process.StandardOutput, Utf8);
    }

    public int ProcessId => process.Id;
    public IReadOnlyList<string> Stderr => process.Stderr;

    public static async Task<StdioPeer> StartAsync(ServerCommand command)
    {
        var clock = Stopwatch.StartNew();
        var process = await ChildProcess.StartAsync(
            command.FileName,
            command.Arguments,
            command.WorkingDirectory,
            command.Environment,
            interactive: true
        );
        return new StdioPeer(process, clock);
    }

    /// <summary>Sends initialize and the initialized notification; returns the time from spawn to the reply.</summary>
    public async Task<TimeSpan> InitializeAsync(CancellationToken ct = default)
    {
        await RequestAsync(
            "initialize",
            new JsonObject
            {
                ["protocolVersion"] = "2025-06-18",
                ["capabilities"] = new JsonObject(),
                ["clientInfo"] = new JsonObject { ["name"] = "factory-bench", ["version"] = "1.0" },
            },
            ct
        );
        var elapsed = sinceSpawn.Elapsed;
        await SendAsync(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = "notifications/initialized" }, ct);
        return elapsed;
    }

    /// <summary>One request; returns the reply line as received (its UTF-8 length is what crossed the pipe).</summary>
    public async Task<string> RequestAsync(string method, JsonNode? parameters, CancellationToken ct = default)
    {
        var id = ++nextId;
        var request = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = id,
            ["method"] = method,
        };
        if (parameters is not null)
            request["params"] = parameters;
        await SendAsync(request, ct);
        while (true)
        {
            var line =
                await output.ReadLineAsync(ct)
                ?? throw new InvalidOperationException(
                    $"The server exited (code {(process.HasExited ? process.Exited.Result : -1)}) before answering {method}:\n{string.Join('\n', Stderr.TakeLast(20))}"
                );
            if (line.Length == 0 || line[0] != '{')
                continue;
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            if (
                !root.TryGetProperty("id", out var idElement)
                || idElement.ValueKind != JsonValueKind.Number
                || idElement.GetInt64() != id
            )
                continue;
            if (root.TryGetProperty("error", out var error))
                throw new InvalidOperationException($"{method} failed: {error}");
            return line;
        }
    }

    /// <summary>tools/call; a result with isError is an exception (a benchmark must not measure refusals).</summary>
    public async Task<string> CallToolAsync(string tool, JsonObject arguments, CancellationToken ct = default)
    {
        var line = await RequestAsync(
            "tools/call",
            new JsonObject { ["name"] = tool, ["arguments"] = arguments.DeepClone() },
            ct
        );
        using var doc = JsonDocument.Parse(line);
        if (
            doc.RootElement.GetProperty("result").TryGetProperty("isError", out var isError)
            && isError.ValueKind == JsonValueKind.True
        )
            throw new InvalidOperationException($"{tool} returned an error: {line[..Math.Min(line.Length, 400)]}");
        return line;
    }

    private async Task SendAsync(JsonObject message, CancellationToken ct)
    {
        await process.StandardInput.WriteAsync(Utf8.GetBytes(message.ToJsonString() + "\n"), ct);
        await process.StandardInput.FlushAsync(ct);
    }

    /// <summary>CPU time the server process has used so far (user + system, in the kernel's 10 ms ticks).</summary>
    public double CpuMilliseconds()
    {
        var stat = File.ReadAllText($"/proc/{process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command name.
        return (
                long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
                + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)
            )
            * 1000.0
            / 100;
    }

    /// <summary>Resident and peak resident memory of the server and its descendants (npx starts node as a child).</summary>
    public ProcessMemory Memory() => ProcessMemory.OfTree(process.Id);

    /// <summary>Closes standard input (a stdio server's cue to exit); killed with its descendants after 5 s.</summary>
    public async ValueTask DisposeAsync()
    {
        process.CloseStandardInput();
        await process.DisposeAsync();
        output.Dispose();
    }
}

/// <summary>A server command line: program, arguments, environment overrides (null removes), working directory.</summary>
internal sealed record ServerCommand(
    string FileName,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string?> Environment,
    string? WorkingDirectory = null
)
{
    public override string ToString() => string.Join(' ', [FileName, .. Arguments]);
}
