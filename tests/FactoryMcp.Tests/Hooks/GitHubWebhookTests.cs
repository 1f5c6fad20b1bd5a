using System.Net;
using System.Text;
using FactoryMcp.Ledger.Hooks;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Hooks;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Hooks;

/// <summary>The hooks listener of a real `factory serve --http --hooks-urls` process.</summary>
public sealed class GitHubWebhookTests
{
    private const string Secret = "s3cret-for-tests";

    private static readonly string Issue = """
        {"action":"opened","repository":{"full_name":"acme/billing"},
         "issue":{"number":123,"title":"Totals round half-down","body":"See the invoice spec.","html_url":"https://github.com/acme/billing/issues/123",
                  "labels":[{"name":"bug"}],"user":{"login":"carol"},"created_at":"2026-11-20T10:00:00Z"}}
        """;

    private static readonly string MergedPull = """
        {"action":"closed","repository":{"full_name":"acme/billing"},
         "pull_request":{"number":7,"title":"Round half-up","merged":true,"html_url":"https://github.com/acme/billing/pull/7",
                         "head":{"ref":"factory/1-1","sha":"0123456789abcdef0123456789abcdef01234567"},"base":{"ref":"main"},
                         "merge_commit_sha":"89abcdef0123456789abcdef0123456789abcdef","merged_at":"2026-11-21T10:00:00Z","merged_by":{"login":"dave"}}}
        """;

    private static async Task<HttpResponseMessage> DeliverAsync(
        Uri url,
        string @event,
        string delivery,
        string body,
        string? signature
    )
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-GitHub-Event", @event);
        request.Headers.Add("X-GitHub-Delivery", delivery);
        if (signature is not null)
            request.Headers.Add("X-Hub-Signature-256", signature);
        return await HttpProject.Http.SendAsync(request);
    }

    private static string Sign(string body) =>
        WebhookSignature.Sign(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(body));

    private static async Task<HttpServerProcess> StartAsync(HttpProject project) =>
        await HttpServerProcess.StartFactoryAsync(
            project.Path,
            ["--hooks-urls", "http://127.0.0.1:0"],
            new Dictionary<string, string?> { ["FACTORY_HOOKS_SECRET"] = Secret }
        );

    [Fact]
    public async Task SignedIssue_BecomesASignalOnce_RedeliveryIsDeduplicated()
    {
        using var project = await HttpProject.CreateAsync();
        await using var server = await StartAsync(project);
        var hooks = server.HooksUrl!;

        using (var first = await DeliverAsync(hooks, "issues", "delivery-1", Issue, Sign(Issue)))
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using (var again = await DeliverAsync(hooks, "issues", "delivery-1", Issue, Sign(Issue)))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("already handled", await again.Content.ReadAsStringAsync());
        }

        var db = LedgerDatabase.Open(new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db")));
        var signal = await new SignalLedger(db).FindAsync("github", "acme/billing#123");
        Assert.NotNull(signal);
        Assert.Equal("github:acme/billing#123", signal.Key);
        Assert.Equal("Totals round half-down", signal.Title);
        Assert.Equal(1, await new HookLedger(db).DeliveryCountAsync());
    }

    // GitHub's own example ("Validating webhook deliveries"): this secret and payload give this header.
    // A known answer written down outside our code, so the check cannot agree with a wrong signer.
    private const string GitHubDocsSecret = "It's a Secret to Everybody";
    private const string GitHubDocsPayload = "Hello, World!";
    private const string GitHubDocsSignature =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    // A JSON ping signed the same way, its HMAC-SHA256 computed with Python's hmac module.
    private const string PingBody = """{"zen":"Keep it logically awesome.","hook_id":1}""";
    private const string PingSignature = "sha256=ae8951f50ab87ba47d298c0511bb1d0d80b1ee963458ccef865aa62f53c0be7f";

    [Fact]
    public void Verify_GitHubsDocumentedVector_IsAccepted_AnyChangeIsRefused()
    {
        var secret = Encoding.UTF8.GetBytes(GitHubDocsSecret);
        var body = Encoding.UTF8.GetBytes(GitHubDocsPayload);
        Assert.True(WebhookSignature.Verify(secret, body, GitHubDocsSignature));
        Assert.True(
            WebhookSignature.Verify(secret, body, GitHubDocsSignature.ToUpperInvariant().Replace("SHA256=", "sha256="))
        );
        Assert.False(WebhookSignature.Verify(secret, Encoding.UTF8.GetBytes("Hello, World?"), GitHubDocsSignature));
        Assert.False(
            WebhookSignature.Verify(Encoding.UTF8.GetBytes("It's a secret to everybody"), body, GitHubDocsSignature)
        );
        Assert.False(WebhookSignature.Verify(secret, body, GitHubDocsSignature.Replace("sha256=", "sha1=")));
        Assert.False(WebhookSignature.Verify(secret, body, GitHubDocsSignature[..^2]));
        Assert.Equal(GitHubDocsSignature, WebhookSignature.Sign(secret, body));
    }

    [Fact]
    public async Task Listener_AcceptsSignaturesMadeAsGitHubMakesThem()
    {
        using var project = await HttpProject.CreateAsync();
        await using var server = await HttpServerProcess.StartFactoryAsync(
            project.Path,
            ["--hooks-urls", "http://127.0.0.1:0"],
            new Dictionary<string, string?> { ["FACTORY_HOOKS_SECRET"] = GitHubDocsSecret }
        );
        var hooks = server.HooksUrl!;

        using (var ping = await DeliverAsync(hooks, "ping", "kat-1", PingBody, PingSignature))
        {
            Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
            Assert.Contains("pong", await ping.Content.ReadAsStringAsync());
        }
        // GitHub's documented payload is not JSON: a 400 that says so proves its signature got through.
        using (var docs = await DeliverAsync(hooks, "ping", "kat-2", GitHubDocsPayload, GitHubDocsSignature))
        {
            Assert.Equal(HttpStatusCode.BadRequest, docs.StatusCode);
            Assert.Contains("not JSON", await docs.Content.ReadAsStringAsync());
        }
        using (var off = await DeliverAsync(hooks, "ping", "kat-3", PingBody + " ", PingSignature))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, off.StatusCode);
            Assert.Contains("X-Hub-Signature-256", await off.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task UnsignedOrMisSigned_Is401_AndNothingIsStored()
    {
        using var project = await HttpProject.CreateAsync();
        await using var server = await StartAsync(project);
        var hooks = server.HooksUrl!;

        using (var unsigned = await DeliverAsync(hooks, "issues", "d-1", Issue, null))
            Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        using (
            var wrong = await DeliverAsync(
                hooks,
                "issues",
                "d-2",
                Issue,
                WebhookSignature.Sign(Encoding.UTF8.GetBytes("other secret"), Encoding.UTF8.GetBytes(Issue))
            )
        )
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using (
            var tampered = await DeliverAsync(
                hooks,
                "issues",
                "d-3",
                Issue.Replace("half-down", "half-up"),
                Sign(Issue)
            )
        )
            Assert.Equal(HttpStatusCode.Unauthorized, tampered.StatusCode);

        var db = LedgerDatabase.Open(new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db")));
        Assert.Null(await new SignalLedger(db).FindAsync("github", "acme/billing#123"));
        Assert.Equal(0, await new HookLedger(db).DeliveryCountAsync());
    }

    [Fact]
    public async Task MergedPullRequest_IsRecordedOnce()
    {
        using var project = await HttpProject.CreateAsync();
        await using var server = await StartAsync(project);
        using (var merged = await DeliverAsync(server.HooksUrl!, "pull_request", "pr-1", MergedPull, Sign(MergedPull)))
            Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        using (var replay = await DeliverAsync(server.HooksUrl!, "pull_request", "pr-2", MergedPull, Sign(MergedPull)))
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);

        var db = LedgerDatabase.Open(new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db")));
        var row = Assert.Single(await new HookLedger(db).MergedPullsAsync());
        Assert.Equal(
            ("acme/billing", 7L, "0123456789abcdef0123456789abcdef01234567"),
            (row.Repo, row.Number, row.HeadSha)
        );
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["ledger", "verify"])).ExitCode);
    }

    [Fact]
    public async Task HooksWithoutASecret_RefuseToStart()
    {
        using var project = await HttpProject.CreateAsync();
        var result = await FactoryBinary.RunAsync(
            project.Path,
            ["serve", "--http", "--urls", "http://127.0.0.1:0", "--hooks-urls", "http://127.0.0.1:0"]
        );
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("FACTORY_HOOKS_SECRET", result.StandardError);
    }
}
