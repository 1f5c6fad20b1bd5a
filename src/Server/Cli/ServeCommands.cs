using System.CommandLine;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Hosting;

namespace FactoryMcp.Server.Cli;

/// <summary>init, up, serve.</summary>
internal static class ServeCommands
{
    public static void Add(RootCommand root)
    {
        var test = new Option<bool>("--test")
        {
            Description = "Create a test ledger (events never count as live). FACTORY_ENV=test does the same.",
        };
        var registerHttp = new Option<string?>("--http")
        {
            Description =
                "Register the agent CLIs over Streamable HTTP at this server URL (token from FACTORY_TOKEN) instead of stdio.",
        };
        var init = new Command(
            "init",
            "Create the ledger (.factory/ledger.db in the main repository, or --ledger) and register the factory with Claude Code, Codex and Gemini CLI."
        )
        {
            test,
            registerHttp,
        };
        init.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var paths = await context.PathsAsync(ct);
                    if (LedgerDatabase.Exists(paths))
                    {
                        await context.Out.WriteLineAsync(
                            $"Ledger already exists: {paths.LedgerFile} (environment {LedgerDatabase.Open(paths).Environment}); it was not touched."
                        );
                    }
                    else
                    {
                        var db = LedgerDatabase.Create(paths, EnvironmentOf(parse.GetValue(test)));
                        await context.Out.WriteLineAsync($"Created {db.Environment} ledger {paths.LedgerFile}");
                        await context.Out.WriteLineAsync($"Run workspaces will live in {paths.RunsFolder}");
                    }
                    await InitRegistrations.WriteAsync(
                        context,
                        paths,
                        parse.GetValue(FactoryCli.LedgerOption),
                        parse.GetValue(registerHttp)
                    );
                    await context.Out.WriteLineAsync(
                        "Next: `factory task add PACKET.md`, then `factory approve ID`; agents connect through the registrations above (see README)."
                    );
                    return 0;
                },
                notice: false
            )
        );
        root.Subcommands.Add(init);

        var http = new Option<bool>("--http")
        {
            Description = "Serve Streamable HTTP at /mcp (and the dashboard at /) instead of stdio.",
        };
        var urls = new Option<string?>("--urls")
        {
            Description =
                "Where to listen with --http (default: http.urls in factory.yaml, else http://127.0.0.1:7171).",
        };
        var hooksUrls = new Option<string?>("--hooks-urls")
        {
            Description =
                "Also listen for signed GitHub webhooks here (default: hooks.urls in factory.yaml; off when neither is set).",
        };
        var metricsUrls = new Option<string?>("--metrics-urls")
        {
            Description =
                "With --http: also serve Prometheus metrics at /metrics on this loopback address (e.g. http://127.0.0.1:9464).",
        };
        var anonymous = new Option<string?>("--anonymous-agent")
        {
            Description =
                "Loopback only: requests without a bearer token act as this builder (as stdio builders connect by name alone).",
        };
        var noValidate = new Option<bool>("--no-validate")
        {
            Description =
                "Take no validation jobs: `factory worker` processes on the same ledger validate (declarations still queue and wait for them).",
        };
        var serve = new Command("serve", "Serve MCP: stdio for one agent (FACTORY_AGENT names it), or --http for many.")
        {
            http,
            noValidate,
            urls,
            hooksUrls,
            anonymous,
            metricsUrls,
        };
        serve.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    if (parse.GetValue(http))
                    {
                        if (!FactoryBuild.Full)
                            throw FactoryBuild.Refused("`serve --http`");
                        return await HttpHost.RunAsync(
                            await context.PathsAsync(ct),
                            new HttpHost.Options(
                                parse.GetValue(urls),
                                parse.GetValue(hooksUrls),
                                parse.GetValue(anonymous),
                                parse.GetValue(metricsUrls),
                                parse.GetValue(noValidate)
                            ),
                            context.Error,
                            ct
                        );
                    }
                    if (
                        parse.GetValue(metricsUrls) is not null
                        || parse.GetValue(urls) is not null
                        || parse.GetValue(hooksUrls) is not null
                        || parse.GetValue(anonymous) is not null
                    )
                        throw new UsageException(
                            "--urls, --hooks-urls, --metrics-urls and --anonymous-agent apply to --http only."
                        );
                    return await StdioHost.RunAsync(await context.PathsAsync(ct), !parse.GetValue(noValidate), ct);
                },
                notice: false
            )
        );
        root.Subcommands.Add(serve);

        var up = new Command(
            "up",
            "Create the ledger if needed, then serve Streamable HTTP at /mcp and the dashboard at / (as serve --http)."
        )
        {
            test,
            urls,
            hooksUrls,
            anonymous,
            noValidate,
        };
        up.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    if (!FactoryBuild.Full)
                        throw FactoryBuild.Refused("`up`");
                    var paths = await context.PathsAsync(ct);
                    if (!LedgerDatabase.Exists(paths))
                    {
                        var db = LedgerDatabase.Create(paths, EnvironmentOf(parse.GetValue(test)));
                        await context.Error.WriteLineAsync($"Created {db.Environment} ledger {paths.LedgerFile}");
                        await InitRegistrations.WriteAsync(
                            context,
                            paths,
                            parse.GetValue(FactoryCli.LedgerOption),
                            null
                        );
                    }
                    return await HttpHost.RunAsync(
                        paths,
                        new HttpHost.Options(
                            parse.GetValue(urls),
                            parse.GetValue(hooksUrls),
                            parse.GetValue(anonymous),
                            NoValidate: parse.GetValue(noValidate)
                        ),
                        context.Error,
                        ct
                    );
                },
                notice: false
            )
        );
        root.Subcommands.Add(up);
    }

    private static string EnvironmentOf(bool testFlag) =>
        testFlag
        || string.Equals(Environment.GetEnvironmentVariable("FACTORY_ENV"), "test", StringComparison.OrdinalIgnoreCase)
            ? "test"
            : "live";
}
