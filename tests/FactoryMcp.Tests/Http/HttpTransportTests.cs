using System.Net;
using FactoryMcp.Tests.Infrastructure;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Http;

/// <summary>`factory serve --http` as a real process, driven by the SDK's own HTTP client and by raw requests.</summary>
public sealed class HttpTransportTests
{
    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    [Fact]
    public async Task Http_EachRole_SeesExactlyItsStdioToolList_InSessionsAndStateless()
    {
        using var project = await HttpProject.CreateAsync();
        var builderToken = await project.AddAgentAsync("builder-1");
        var humanToken = await project.AddAgentAsync("ada", "human");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);

        foreach (var (name, token) in new[] { ("builder-1", builderToken), ("ada", humanToken) })
        {
            await using var stdio = await FactoryBinary.ConnectAsync(project.Path, name, token: token);
            var expected = (await stdio.ListToolsAsync()).Select(t => t.Name).Order().ToList();
            Assert.NotEmpty(expected);
            foreach (var version in new[] { "2025-11-25", null })
            {
                await using var http = await server.ConnectAsync(token, version);
                Assert.Equal(version ?? "2026-07-28", http.NegotiatedProtocolVersion);
                Assert.Equal(expected, (await http.ListToolsAsync()).Select(t => t.Name).Order().ToList());
            }
        }
    }

    [Fact]
    public async Task Http_MalformedCall_NamesTheArgumentInSessionsAndStateless()
    {
        using var project = await HttpProject.CreateAsync();
        var token = await project.AddAgentAsync("builder-1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        foreach (var version in new[] { "2025-11-25", null })
        {
            await using var client = await server.ConnectAsync(token, version);
            var result = await client.CallToolAsync(
                "record_evidence",
                new Dictionary<string, object?>
                {
                    ["run_id"] = "abc",
                    ["kind"] = "plan",
                    ["summray"] = "x",
                }
            );
            Assert.True(result.IsError);
            var text = Text(result);
            Assert.Contains("`run_id` must be an integer; got \"abc\"", text);
            Assert.Contains("unknown argument `summray`: did you mean `summary`?", text);
            Assert.Contains("`summary` is required (a string)", text);
        }
    }

    [Fact]
    public async Task Http_AgentProposesAndClaimsOverHttp_AnotherTokenActingOnItsRun_IsRefused()
    {
        using var project = await HttpProject.CreateAsync();
        var owner = await project.AddAgentAsync("owner");
        var other = await project.AddAgentAsync("other");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var ownerClient = await server.ConnectAsync(owner, "2025-11-25");
        var proposed = await ownerClient.CallToolAsync(
            "enqueue_for_agent",
            new Dictionary<string, object?>
            {
                ["target_agent"] = "owner",
                ["packet"] = PacketText.Simple("Proposed over HTTP"),
            }
        );
        Assert.True(proposed.IsError != true, Text(proposed));
        var taskId = proposed.StructuredContent!.Value.GetProperty("task_id").GetInt64();
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", taskId.ToString()])).ExitCode);
        var claimed = await ownerClient.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();

        await using var otherClient = await server.ConnectAsync(other);
        var hijack = await otherClient.CallToolAsync(
            "declare_terminal_state",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["state"] = "ESCALATE",
                ["summary"] = "x",
                ["question"] = "mine now?",
            }
        );
        Assert.True(hijack.IsError);
        Assert.Contains("belongs to owner", Text(hijack));
        var show = await FactoryBinary.RunAsync(project.Path, ["task", "show", taskId.ToString()]);
        Assert.Contains("State running", show.StandardOutput);
    }

    [Fact]
    public async Task Http_Session_InitializeGetDelete_ThenTheSessionIsGone()
    {
        using var project = await HttpProject.CreateAsync();
        var token = await project.AddAgentAsync("a1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);

        using var init = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, token)
        );
        Assert.Equal(HttpStatusCode.OK, init.StatusCode);
        var session = init.Headers.GetValues("Mcp-Session-Id").Single();
        var sessionHeaders = new Dictionary<string, string>
        {
            ["Mcp-Session-Id"] = session,
            ["MCP-Protocol-Version"] = "2025-11-25",
        };

        var get = new HttpRequestMessage(HttpMethod.Get, server.McpUrl);
        get.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        get.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        foreach (var (k, v) in sessionHeaders)
            get.Headers.TryAddWithoutValidation(k, v);
        using (var stream = await HttpProject.Http.SendAsync(get, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            Assert.Equal("text/event-stream", stream.Content.Headers.ContentType?.MediaType);
        }

        using var list = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.ToolsList, token, headers: sessionHeaders)
        );
        Assert.Contains("get_task_packet", await list.Content.ReadAsStringAsync());

        var delete = new HttpRequestMessage(HttpMethod.Delete, server.McpUrl);
        delete.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        foreach (var (k, v) in sessionHeaders)
            delete.Headers.TryAddWithoutValidation(k, v);
        using (var deleted = await HttpProject.Http.SendAsync(delete))
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);

        using var after = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.ToolsList, token, headers: sessionHeaders)
        );
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task Http_SessionAndItsWorkSurviveAClientAbortingAPostMidCall()
    {
        // A declaration that waits up to 20 s for a validation that takes about 8 s: its POST is still
        // open when the client walks away.
        using var project = await HttpProject.CreateAsync("declare_wait_seconds: 20\n");
        var token = await project.AddAgentAsync("builder-1");
        var packet = project.Combine("packet.md");
        await File.WriteAllTextAsync(packet, PacketText.Simple(validation: "sleep 8 && test -f src/app.txt"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["task", "add", packet])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(project.Path, ["approve", "1"])).ExitCode);
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);
        await using var client = await server.ConnectAsync(token, "2025-11-25");
        var claimed = await client.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
        var workspace = claimed.StructuredContent!.Value.GetProperty("workspace").GetString()!;
        await client.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "edit",
            }
        );
        await File.WriteAllTextAsync(Path.Combine(workspace, "src", "app.txt"), "two\n");
        var headers = new Dictionary<string, string>
        {
            ["Mcp-Session-Id"] = client.SessionId!,
            ["MCP-Protocol-Version"] = "2025-11-25",
        };
        var declare = new System.Text.Json.Nodes.JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = 77,
            ["method"] = "tools/call",
            ["params"] = new System.Text.Json.Nodes.JsonObject
            {
                ["name"] = "declare_terminal_state",
                ["arguments"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["run_id"] = runId,
                    ["state"] = "PR_READY",
                    ["summary"] = "edited",
                },
            },
        }.ToJsonString();

        using (var aborted = new HttpClient())
        {
            using var response = await aborted.SendAsync(
                HttpProject.Rpc(server.McpUrl, declare, token, headers: headers),
                HttpCompletionOption.ResponseHeadersRead
            );
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            // Nothing of the answer has arrived after 2 s: the call is still running when the client drops it.
            var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[4096];
            var read = body.ReadAsync(buffer).AsTask();
            var first = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(2)));
            if (first == read)
                Assert.DoesNotContain("\"id\":77", System.Text.Encoding.UTF8.GetString(buffer, 0, await read));
        }

        // The session still serves, and the declaration's validation went on without the dropped POST.
        Assert.Contains(await client.ListToolsAsync(), t => t.Name == "get_task_packet");
        var outcome = Redeclare.OutcomeOf(
            await Redeclare.UntilDecidedAsync(
                client,
                new Dictionary<string, object?>
                {
                    ["run_id"] = runId,
                    ["state"] = "PR_READY",
                    ["summary"] = "edited",
                }
            )
        );
        Assert.Equal("accepted", outcome);
        using var ledger = new Microsoft.Data.Sqlite.SqliteConnection(
            $"Data Source={Path.Combine(project.Path, ".factory", "ledger.db")};Mode=ReadOnly;Pooling=False"
        );
        ledger.Open();
        using var jobs = ledger.CreateCommand();
        jobs.CommandText = "SELECT count(*) || ' job(s), ' || sum(starts) || ' start(s)' FROM validation_jobs";
        Assert.Equal("1 job(s), 1 start(s)", jobs.ExecuteScalar());
    }

    [Fact]
    public async Task Http_ProtocolRefusals_406_400_404()
    {
        using var project = await HttpProject.CreateAsync();
        var token = await project.AddAgentAsync("a1");
        await using var server = await HttpServerProcess.StartFactoryAsync(project.Path);

        using var jsonOnly = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(server.McpUrl, HttpProject.Initialize, token, accept: "application/json")
        );
        Assert.Equal(HttpStatusCode.NotAcceptable, jsonOnly.StatusCode);
        using var badVersion = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(
                server.McpUrl,
                HttpProject.ToolsList,
                token,
                headers: new Dictionary<string, string> { ["MCP-Protocol-Version"] = "1999-01-01" }
            )
        );
        Assert.Equal(HttpStatusCode.BadRequest, badVersion.StatusCode);
        Assert.Contains("1999-01-01", await badVersion.Content.ReadAsStringAsync());
        using var unknown = await HttpProject.Http.SendAsync(
            HttpProject.Rpc(
                server.McpUrl,
                HttpProject.ToolsList,
                token,
                headers: new Dictionary<string, string>
                {
                    ["Mcp-Session-Id"] = "no-such-session",
                    ["MCP-Protocol-Version"] = "2025-11-25",
                }
            )
        );
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Up_CreatesTheLedgerWhenMissing_AndServesHttp()
    {
        var root = new TempDirectory("up");
        try
        {
            var repo = await TempRepo.CreateAsync(root.Combine("app"));
            await using var server = await HttpServerProcess.StartAsync(
                FactoryBinary.Path,
                ["up", "--test", "--urls", "http://127.0.0.1:0", "--anonymous-agent", "local-builder"],
                repo.Path
            );
            Assert.True(File.Exists(Path.Combine(repo.Path, ".factory", "ledger.db")));
            Assert.Contains("claude-1", await File.ReadAllTextAsync(Path.Combine(repo.Path, ".mcp.json")));
            await using var client = await server.ConnectAsync(token: null);
            Assert.Contains(await client.ListToolsAsync(), t => t.Name == "get_task_packet");
            Assert.Equal(0, await server.StopAsync());
        }
        finally
        {
            root.Dispose();
        }
    }
}
