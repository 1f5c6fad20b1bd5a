using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Triggers;
using FactoryMcp.Tools.Triggers;

namespace FactoryMcp.Tests.Triggers;

/// <summary>
/// The scanners' JSON (fixtures recorded from each tool's output: dotnet list package and npm outdated/audit run
/// here against small projects; pip-audit's and a successful npm audit's written from their documented formats)
/// becomes one signal per finding.
/// </summary>
public sealed class ScannerReportTests
{
    internal static string Fixture(string name) =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Triggers", "Fixtures", name));

    [Fact]
    public void PipAudit_OneSignalPerVulnerability_SkippedAndCleanDependenciesAddNothing()
    {
        var signals = TriggerOutput.Read("audit", TriggerFormats.PipAudit, Fixture("pip-audit.json"));
        Assert.Equal(
            ["pip-audit:flask@0.5:PYSEC-2019-179", "pip-audit:flask@0.5:PYSEC-2018-66"],
            signals.Select(s => s.ExternalId)
        );
        Assert.All(signals, s => Assert.Equal("trigger.audit", s.Source));
        Assert.Equal("PYSEC-2019-179 in flask 0.5 (fixed in 1.0)", signals[0].Title);
        Assert.Contains("CVE-2019-1010083", signals[0].Body);
        Assert.Equal("https://github.com/advisories/GHSA-5wv5-4vpf-pj6m", signals[0].Url);
    }

    [Fact]
    public void NpmAudit_OneSignalPerAdvisory_TransitiveEffectsAddNone()
    {
        var signals = TriggerOutput.Read("audit", TriggerFormats.NpmAudit, Fixture("npm-audit.json"));
        Assert.Equal(
            ["npm-audit:minimist:GHSA-xvch-5gv4-984h", "npm-audit:minimist:GHSA-vh95-rmgr-6w4m"],
            signals.Select(s => s.ExternalId)
        );
        Assert.Equal("critical GHSA-xvch-5gv4-984h in minimist: Prototype Pollution in minimist", signals[0].Title);
        Assert.Contains("minimist 1.2.8 (a major version)", signals[0].Body);
        Assert.Contains("Also affects: mkdirp", signals[0].Body);
    }

    [Fact]
    public void NpmAudit_ErrorReport_IsRefusedWithNpmsMessage()
    {
        // Recorded here: this registry has no audit endpoint, and npm prints this instead of a report.
        var error = Assert.Throws<LedgerException>(() =>
            TriggerOutput.Read("audit", TriggerFormats.NpmAudit, Fixture("npm-audit-error.json"))
        );
        Assert.Contains("npm audit reported an error instead of a report", error.Message);
    }

    [Fact]
    public void NpmOutdated_OneSignalPerPackageAndLatestVersion()
    {
        var signals = TriggerOutput.Read("stale", TriggerFormats.NpmOutdated, Fixture("npm-outdated.json"));
        Assert.Equal(["npm-outdated:lodash@4.18.1", "npm-outdated:minimist@1.2.8"], signals.Select(s => s.ExternalId));
        Assert.Equal("lodash is out of date: (not installed), latest 4.18.1", signals[0].Title);
    }

    [Fact]
    public void DotnetListPackage_Outdated_AndVulnerable_AndClean()
    {
        var outdated = TriggerOutput.Read(
            "nuget",
            TriggerFormats.DotnetListPackage,
            Fixture("dotnet-list-package-outdated.json")
        );
        Assert.Equal(
            ["dotnet-outdated:Newtonsoft.Json@13.0.4", "dotnet-outdated:System.Text.Json@11.0.0"],
            outdated.Select(s => s.ExternalId)
        );
        var vulnerable = TriggerOutput.Read(
            "nuget",
            TriggerFormats.DotnetListPackage,
            Fixture("dotnet-list-package-vulnerable.json")
        );
        Assert.Equal(
            [
                "dotnet-vulnerable:System.Text.Json@8.0.0:GHSA-8g4q-xg66-9fp4",
                "dotnet-vulnerable:System.Text.Json@8.0.0:GHSA-hh2w-p6rv-4g7w",
                "dotnet-vulnerable:System.Net.Http@4.3.0:GHSA-7jgj-8wvc-jh57",
            ],
            vulnerable.Select(s => s.ExternalId)
        );
        Assert.Contains("transitive dependency of app.csproj", vulnerable[2].Body);
        Assert.Empty(
            TriggerOutput.Read("nuget", TriggerFormats.DotnetListPackage, Fixture("dotnet-list-package-clean.json"))
        );
    }

    [Theory]
    [InlineData(TriggerFormats.PipAudit, "Traceback (most recent call last):", "not the JSON pip-audit prints")]
    [InlineData(TriggerFormats.NpmOutdated, "[1, 2]", "not a npm-outdated report")]
    [InlineData(TriggerFormats.DotnetListPackage, "{\"projects\": 3}", "not a dotnet-list-package report")]
    [InlineData(TriggerFormats.Jsonl, "{\"key\": \"a\", \"title\": \"A\"}\nnot json", "output line 2 is not JSON")]
    [InlineData(TriggerFormats.Jsonl, "{\"key\": \"a\", \"titel\": \"A\"}", "unknown field `titel`")]
    [InlineData(TriggerFormats.Jsonl, "{\"title\": \"A\"}", "`key` is missing")]
    public void Garbage_IsRefusedWithTheReason(string format, string output, string expected)
    {
        var error = Assert.Throws<LedgerException>(() => TriggerOutput.Read("t", format, output));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Jsonl_KeysTitlesLabelsAndUrls_TheFirstOfAKeyWins()
    {
        var signals = TriggerOutput.Read(
            "todo",
            TriggerFormats.Jsonl,
            """
            {"key": "k1", "title": "First", "body": "b", "labels": ["chore"], "url": "https://example.com/1"}

            {"key": "k2", "title": "Second"}
            {"key": "k1", "title": "First again"}
            """
        );
        Assert.Equal(["k1", "k2"], signals.Select(s => s.ExternalId));
        Assert.Equal("First", signals[0].Title);
        Assert.Equal(["chore"], signals[0].Labels);
        Assert.Equal("https://example.com/1", signals[0].Url);
    }
}
