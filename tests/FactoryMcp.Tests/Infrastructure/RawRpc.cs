using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.ChildProcesses;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// A hand-written JSON-RPC client for MCP, so a test controls every byte of a request (per-request
/// <c>_meta</c>, methods the SDK's client does not know): over a real `factory serve` process's stdio
/// (newline-delimited JSON) or over Streamable HTTP (JSON or a one-event SSE body).
/// </summary>
public sealed class RawRpc : IAsyncDisposable
{
    private readonly ChildProcess? process;
    private readonly StreamReader? reader;
    private Uri? url;
    private string? token;
    private string? session;
    private int nextId = 1;

    private RawRpc(ChildProcess? process, Uri? url, string? token)
    {
        this.process = process;
        this.url = url;
        this.token = token;
        if (process is not null)
            reader = new StreamReader(process.StandardOutput, Encoding.UTF8);
    }

    public static async Task<RawRpc> StdioAsync(string workingDirectory, string agent)
    {
        var process = await ChildProcess.StartAsync(
            FactoryBinary.Path,
            ["serve"],
            workingDirectory,
            FactoryBinary.CleanEnvironment(new Dictionary<string, string?> { ["FACTORY_AGENT"] = agent }),
            interactive: true
        );
        var rpc = new RawRpc(process, null, null);
        await rpc.InitializeAsync();
        return rpc;
    }

    public static async Task<RawRpc> HttpAsync(Uri mcpUrl, string token)
    {
        var rpc = new RawRpc(null, mcpUrl, token);
        await rpc.InitializeAsync();
        return rpc;
    }

    public ChildProcess? Process => process;

    /// <summary>The 2025-revision session this client opened over HTTP.</summary>
    public string? SessionId => session;

    /// <summary>Sends this session's next requests to another replica's /mcp (a load balancer's choice).</summary>
    public void MoveTo(Uri mcpUrl) => url = mcpUrl;

    /// <summary>Sends this session's next requests with another bearer token.</summary>
    public void UseToken(string bearer) => token = bearer;

    /// <summary>The <c>_meta</c> that declares the tasks extension for one request.</summary>
    public static JsonObject TasksMeta() =>
        new()
        {
            ["io.modelcontextprotocol/clientCapabilities"] = new JsonObject
            {
                ["extensions"] = new JsonObject { ["io.modelcontextprotocol/tasks"] = new JsonObject() },
            },
        };

    /// <summary>Sends a request and returns the whole response (its <c>result</c> or <c>error</c>).</summary>
    public async Task<JsonObject> RequestAsync(string method, JsonObject? parameters = null)
    {
        var id = nextId++;
        var request = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = id,
            ["method"] = method,
        };
        if (parameters is not null)
            request["params"] = parameters;
        return reader is not null ? await OverStdioAsync(request, id) : await OverHttpAsync(request);
    }

    /// <summary>The result of a request that must succeed.</summary>
    public async Task<JsonObject> ResultAsync(string method, JsonObject? parameters = null)
    {
        var response = await RequestAsync(method, parameters);
        Assert.True(response["result"] is JsonObject, $"{method} failed: {response.ToJsonString()}");
        return response["result"]!.AsObject();
    }

    public Task<JsonObject> CallToolAsync(string name, JsonObject arguments, JsonObject? meta = null)
    {
        var parameters = new JsonObject { ["name"] = name, ["arguments"] = arguments };
        if (meta is not null)
            parameters["_meta"] = meta;
        return ResultAsync("tools/call", parameters);
    }

    private async Task InitializeAsync()
    {
        await ResultAsync(
            "initialize",
            new JsonObject
            {
                ["protocolVersion"] = "2025-11-25",
                ["capabilities"] = new JsonObject(),
                ["clientInfo"] = new JsonObject { ["name"] = "raw-rpc", ["version"] = "1" },
            }
        );
        await NotifyAsync("notifications/initialized");
    }

    private async Task NotifyAsync(string method)
    {
        var note = new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method };
        if (reader is not null)
            await WriteLineAsync(note);
        else
            using (var response = await HttpProject.Http.SendAsync(Post(note)))
                Assert.True(response.IsSuccessStatusCode, $"{method}: HTTP {(int)response.StatusCode}");
    }

    private async Task<JsonObject> OverStdioAsync(JsonObject request, int id)
    {
        await WriteLineAsync(request);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        while (true)
        {
            var line =
                await reader!.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException(
                    $"the server closed stdout; stderr:\n{string.Join("\n", process!.Stderr)}"
                );
            if (JsonNode.Parse(line) is JsonObject message && message["id"]?.GetValue<int>() == id)
                return message;
        }
    }

    private async Task WriteLineAsync(JsonObject message)
    {
        var bytes = Encoding.UTF8.GetBytes(message.ToJsonString() + "\n");
        await process!.StandardInput.WriteAsync(bytes);
        await process.StandardInput.FlushAsync();
    }

    private async Task<JsonObject> OverHttpAsync(JsonObject request)
    {
        using var response = await HttpProject.Http.SendAsync(Post(request));
        if (response.Headers.TryGetValues("Mcp-Session-Id", out var ids))
            session ??= ids.First();
        var body = await response.Content.ReadAsStringAsync();
        var json = body.TrimStart().StartsWith('{')
            ? body
            : string.Concat(
                body.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..])
            );
        Assert.True(json.Length > 0, $"HTTP {(int)response.StatusCode} with no JSON-RPC body: {body}");
        return JsonNode.Parse(json)!.AsObject();
    }

    private HttpRequestMessage Post(JsonObject message)
    {
        var request = HttpProject.Rpc(url!, message.ToJsonString(), token);
        if (session is not null)
            request.Headers.TryAddWithoutValidation("Mcp-Session-Id", session);
        request.Headers.TryAddWithoutValidation("MCP-Protocol-Version", "2025-11-25");
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        reader?.Dispose();
        if (process is not null)
            await process.DisposeAsync();
    }
}
