// A scripted agent session for `factory drain` tests. Usage: ScriptedAgent RUN_ID PROMPT_FILE REPORT_DIR FACTORY_PATH
// It connects to `factory serve` (FACTORY_AGENT and FACTORY_LEDGER come from drain's environment), takes its packet,
// records a plan, then declares NO_OP, unless the packet's title says [vanish]: then it exits 3 without declaring.
using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: ScriptedAgent RUN_ID PROMPT_FILE REPORT_DIR FACTORY_PATH");
    return 2;
}
var runIdArgument = long.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture);
var cwd = Environment.CurrentDirectory;
await using var client = await McpClient.CreateAsync(
    new StdioClientTransport(
        new StdioClientTransportOptions
        {
            Name = "scripted-agent",
            Command = args[3],
            Arguments = ["serve"],
            WorkingDirectory = cwd,
        }
    ),
    new McpClientOptions { DiscoverProbeTimeout = Timeout.InfiniteTimeSpan }
);

var packet = await client.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
if (packet.IsError == true || packet.StructuredContent is not { } structured)
{
    Console.Error.WriteLine("get_task_packet failed: " + Text(packet));
    return 1;
}
var runId = structured.GetProperty("run_id").GetInt64();
var workspace = structured.GetProperty("workspace").GetString();
var vanish = Text(packet).Contains("[vanish]", StringComparison.Ordinal);
var evidence = await client.CallToolAsync(
    "record_evidence",
    new Dictionary<string, object?>
    {
        ["run_id"] = runId,
        ["kind"] = "plan",
        ["summary"] = "scripted plan: nothing to change",
        ["stage"] = "scout",
    }
);
var report = new Dictionary<string, object?>
{
    ["run_id_argument"] = runIdArgument,
    ["run_id_environment"] = Environment.GetEnvironmentVariable("FACTORY_RUN_ID"),
    ["run_id_packet"] = runId,
    ["cwd"] = cwd,
    ["workspace"] = workspace,
    ["prompt"] = await File.ReadAllTextAsync(args[1]),
    ["evidence_error"] = evidence.IsError == true,
    ["vanished"] = vanish,
};
await File.WriteAllTextAsync(Path.Combine(args[2], $"run-{runId}.json"), JsonSerializer.Serialize(report));
Console.WriteLine($"scripted agent holds run {runId}");
if (vanish)
{
    Console.WriteLine("leaving without declaring a terminal state");
    return 3;
}
var declared = await client.CallToolAsync(
    "declare_terminal_state",
    new Dictionary<string, object?>
    {
        ["run_id"] = runId,
        ["state"] = "NO_OP",
        ["summary"] = "The scripted agent found nothing to change.",
        ["reason"] = "contradicts_product",
    }
);
Console.WriteLine(Text(declared));
return declared.IsError == true ? 1 : 0;

static string Text(CallToolResult result) =>
    string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));
