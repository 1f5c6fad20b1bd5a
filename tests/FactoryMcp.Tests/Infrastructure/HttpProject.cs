using System.Net.Http.Headers;
using System.Text;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>A project with a test ledger made by the published `factory init`, plus raw HTTP helpers.</summary>
public sealed class HttpProject : IDisposable
{
    private readonly TempDirectory root;

    private HttpProject(TempDirectory root, TempRepo repo)
    {
        this.root = root;
        Repo = repo;
    }

    public TempRepo Repo { get; }
    public string Path => Repo.Path;

    public string Combine(params string[] parts) => root.Combine(parts);

    public static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>
    /// A repository with a test ledger made by `factory init`: a SQLite file, or on PostgreSQL a fresh database
    /// of the test cluster named by `ledger:` in factory.yaml (kept there whatever <paramref name="factoryYaml"/> says).
    /// <paramref name="ledgerUrl"/> names another empty PostgreSQL database instead (a private cluster's).
    /// </summary>
    public static async Task<HttpProject> CreateAsync(
        string? factoryYaml = null,
        IReadOnlyDictionary<string, string>? files = null,
        LedgerEngine engine = LedgerEngine.Sqlite,
        string? ledgerUrl = null
    )
    {
        var root = new TempDirectory("http");
        var repo = await TempRepo.CreateAsync(root.Combine("app"), files);
        var project = new HttpProject(root, repo);
        var settings = System.IO.Path.Combine(repo.Path, ".factory", "factory.yaml");
        var ledger = "";
        if (engine == LedgerEngine.PostgreSql || ledgerUrl is not null)
        {
            ledger = $"ledger: {ledgerUrl ?? await PostgresCluster.CreateDatabaseAsync("http")}\n";
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(settings)!);
            await File.WriteAllTextAsync(settings, ledger);
        }
        var init = await FactoryBinary.RunAsync(repo.Path, ["init", "--test"]);
        Assert.True(init.ExitCode == 0, init.Output);
        if (factoryYaml is not null)
            await File.WriteAllTextAsync(settings, factoryYaml + ledger);
        return project;
    }

    /// <summary>Registers an agent with the CLI and returns its token.</summary>
    public async Task<string> AddAgentAsync(string name, string role = "agent", params string[] extra)
    {
        var added = await FactoryBinary.RunAsync(Path, ["agent", "add", name, "--role", role, .. extra]);
        Assert.True(added.ExitCode == 0, added.Output);
        return added.StandardOutput.Trim();
    }

    public static HttpRequestMessage Rpc(
        Uri url,
        string json,
        string? token = null,
        string accept = "application/json, text/event-stream",
        IReadOnlyDictionary<string, string>? headers = null
    )
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        if (token is not null)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        foreach (var (k, v) in headers ?? new Dictionary<string, string>())
            request.Headers.TryAddWithoutValidation(k, v);
        return request;
    }

    public const string Initialize =
        """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";
    public const string ToolsList = """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""";

    /// <summary>The JSON-RPC error message of a refused /mcp request, else the body as text.</summary>
    public static async Task<string> ErrorTextAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body);
            if (
                json.RootElement.TryGetProperty("error", out var error)
                && error.TryGetProperty("message", out var message)
            )
                return message.GetString() ?? body;
        }
        catch (System.Text.Json.JsonException) { }
        return body;
    }

    public void Dispose() => root.Dispose();
}
