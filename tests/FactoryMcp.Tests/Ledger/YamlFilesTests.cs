using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Settings;

namespace FactoryMcp.Tests.Ledger;

/// <summary>
/// factory.yaml and lines.yaml are read through a compile-time YAML context (no reflection, for Native AOT):
/// every key of every nested section must still reach its property, and unknown keys must still be refused.
/// </summary>
public sealed class YamlFilesTests
{
    [Fact]
    public void FactoryYaml_EveryNestedSection_ReachesItsProperties()
    {
        var settings = FactorySettings.Parse(
            """
            ledger: /srv/factory/ledger.db
            allowed_repo_roots: [/srv/repos]
            validation_concurrency: 3
            declare_wait_seconds: 20
            lessons_per_packet: 4
            max_workspace_bytes: 12345678901
            duplicate_threshold: 0.75
            flaky_threshold: 0.3
            flaky_window: 12
            require_sandbox: true
            http:
              urls: http://127.0.0.1:9000
              body_limit_bytes: 4096
              rate_limit_per_minute: 90
              allowed_origins: [https://board.example]
              session_idle_minutes: 2.5
            hooks:
              urls: http://127.0.0.1:9001
              secret_env: MY_SECRET
              otlp_max_items: 50
            content:
              public_repositories: [acme/site]
              marketing_line: posts
            notifications:
              escalation: /usr/local/bin/page-me
            triggers:
              - name: nightly
                schedule: "0 3 * * *"
                line: default
                command: ./find-work.sh
                timeout_seconds: 30
                network: false
                env_passthrough: [HOME]
            pull_requests:
              factory_logins: [factory-bot]
              verify:
                - repository: acme/site
                  line: default
            """
        );

        Assert.Equal("/srv/factory/ledger.db", settings.Ledger);
        Assert.Equal(["/srv/repos"], settings.AllowedRepoRoots);
        Assert.Equal(
            (3, 20, 4),
            (settings.ValidationConcurrency, settings.DeclareWaitSeconds, settings.LessonsPerPacket)
        );
        Assert.Equal(12345678901L, settings.MaxWorkspaceBytes);
        Assert.Equal((0.75, 0.3, 12), (settings.DuplicateThreshold, settings.FlakyThreshold, settings.FlakyWindow));
        Assert.True(settings.RequireSandbox);
        Assert.Equal("http://127.0.0.1:9000", settings.Http.Urls);
        Assert.Equal(
            (4096L, 90, 2.5),
            (settings.Http.BodyLimitBytes, settings.Http.RateLimitPerMinute, settings.Http.SessionIdleMinutes)
        );
        Assert.Equal(["https://board.example"], settings.Http.AllowedOrigins);
        Assert.Equal(
            ("http://127.0.0.1:9001", "MY_SECRET", 50),
            (settings.Hooks.Urls, settings.Hooks.SecretEnv, settings.Hooks.OtlpMaxItems)
        );
        Assert.Equal("https://api.github.com", settings.Hooks.GithubApiUrl); // a default kept when the key is absent
        Assert.Equal(["acme/site"], settings.Content.PublicRepositories);
        Assert.Equal("posts", settings.Content.MarketingLine);
        Assert.Equal("/usr/local/bin/page-me", settings.Notifications["escalation"]);
        var trigger = Assert.Single(settings.Triggers);
        Assert.Equal(
            ("nightly", "0 3 * * *", "./find-work.sh", 30, false),
            (trigger.Name, trigger.Schedule, trigger.Command, trigger.TimeoutSeconds, trigger.Network)
        );
        Assert.Equal(["HOME"], trigger.EnvPassthrough);
        Assert.Equal(["factory-bot"], settings.PullRequests.FactoryLogins);
        Assert.Equal("acme/site", Assert.Single(settings.PullRequests.Verify).Repository);
    }

    [Fact]
    public void FactoryYaml_AnUnknownKey_IsRefusedWithItsLine()
    {
        var e = Assert.Throws<LedgerException>(() =>
            FactorySettings.Parse("http:\n  urls: http://127.0.0.1:1\n  colour: red\n")
        );
        Assert.Contains("factory.yaml is not valid (line 3", e.Message);
        Assert.Contains("colour", e.Message);
    }

    [Fact]
    public void LinesYaml_NestedSections_ReadAndWrittenBack_Unchanged()
    {
        var catalog = LineCatalog.Parse(
            """
            backend:
              validation: [dotnet test]
              evidence: [perf_report]
              lease_minutes: 30
              max_attempts: 2
              label_map:
                bug: 2
              limits:
                memory_mib: 2048
                processes: 64
              require_limits: true
              reports:
                junit: artifacts/junit.xml
              coverage:
                report: artifacts/coverage.xml
                min_line: 80
                no_decrease: true
              benchmarks:
                - name: startup
                  command: ./bench.sh
                  metric: ms
                  direction: lower
                  tolerance: 10%
                  runs: 3
              ci_commands:
                build/test: dotnet test
            """
        );

        var line = catalog.Get("backend");
        Assert.Equal(["dotnet test"], line.Validation);
        Assert.Equal((30d, 2), (line.LeaseMinutes, line.MaxAttempts));
        Assert.Equal(2, line.LabelMap["bug"]);
        Assert.Equal((2048, 64, 16), (line.Limits.MemoryMib, line.Limits.Processes, line.Limits.OutputMib));
        Assert.True(line.RequireLimits);
        Assert.Equal("artifacts/junit.xml", line.Reports?.Junit);
        Assert.Equal((80d, true), (line.Coverage?.MinLine, line.Coverage?.NoDecrease ?? false));
        var bench = Assert.Single(line.Benchmarks);
        Assert.Equal(("startup", "10%", 3), (bench.Name, bench.Tolerance, bench.Runs));
        Assert.Equal("dotnet test", line.CiCommands["build/test"]);

        var again = LineCatalog.Parse(catalog.ToYaml()).Get("backend");
        Assert.Equal(catalog.ToYaml(), LineCatalog.Parse(catalog.ToYaml()).ToYaml());
        Assert.Equal((2048, 64), (again.Limits.MemoryMib, again.Limits.Processes));
        Assert.Equal(line.Coverage, again.Coverage);
        Assert.Equal("startup", Assert.Single(again.Benchmarks).Name);
        Assert.Equal(2, again.LabelMap["bug"]);
    }

    [Fact]
    public void LinesYaml_AnUnknownKey_IsRefused()
    {
        var e = Assert.Throws<LedgerException>(() => LineCatalog.Parse("backend:\n  lease_minuets: 5\n"));
        Assert.Contains("lines.yaml is not valid: line 2", e.Message);
        Assert.Contains("lease_minuets", e.Message);
    }
}
