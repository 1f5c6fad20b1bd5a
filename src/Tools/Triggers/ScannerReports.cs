using System.Text;
using System.Text.Json;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Triggers;
using Entry = FactoryMcp.Tools.Triggers.TriggerOutput.Entry;

namespace FactoryMcp.Tools.Triggers;

/// <summary>
/// Parsers of the JSON the common dependency scanners print (README, "Triggers"), each into one entry per
/// finding: a vulnerability per (package, version, advisory), a stale dependency per (package, latest version).
/// A document of another shape (an error object, another tool's report) is refused with the reason.
/// </summary>
public static class ScannerReports
{
    /// <summary><c>pip-audit --format json</c>: {"dependencies": [{"name", "version", "vulns": [{"id", "fix_versions", "aliases", "description"}]}]} (or, before 2.0, the bare array).</summary>
    public static IReadOnlyList<Entry> PipAudit(JsonElement root)
    {
        var dependencies = root.ValueKind switch
        {
            JsonValueKind.Object
                when root.TryGetProperty("dependencies", out var d) && d.ValueKind == JsonValueKind.Array => d,
            JsonValueKind.Array => root,
            _ => throw Shape(TriggerFormats.PipAudit, "an object with a `dependencies` array"),
        };
        var list = new List<Entry>();
        foreach (var dependency in dependencies.EnumerateArray())
        {
            var name =
                Str(dependency, "name") ?? throw Shape(TriggerFormats.PipAudit, "each dependency to have a name");
            var version = Str(dependency, "version") ?? "";
            if (!dependency.TryGetProperty("vulns", out var vulns) || vulns.ValueKind != JsonValueKind.Array)
                continue; // skipped (not on PyPI) or clean
            foreach (var vuln in vulns.EnumerateArray())
            {
                var id = Str(vuln, "id") ?? throw Shape(TriggerFormats.PipAudit, "each vulnerability to have an id");
                var aliases = Strings(vuln, "aliases");
                var fixes = Strings(vuln, "fix_versions");
                var body = new StringBuilder();
                body.AppendLine($"pip-audit found {id} in {name} {version}.");
                if (aliases.Count > 0)
                    body.AppendLine($"Aliases: {string.Join(", ", aliases)}");
                body.AppendLine(fixes.Count > 0 ? $"Fixed in: {string.Join(", ", fixes)}" : "No fixed version yet.");
                if (Str(vuln, "description") is { Length: > 0 } description)
                    body.AppendLine().AppendLine(description);
                list.Add(
                    new Entry(
                        $"pip-audit:{name}@{version}:{id}",
                        $"{id} in {name} {version}{(fixes.Count > 0 ? $" (fixed in {fixes[0]})" : "")}",
                        body.ToString().TrimEnd(),
                        ["security", "dependencies"],
                        AdvisoryUrl(id, aliases)
                    )
                );
            }
        }
        return list;
    }

    /// <summary>
    /// <c>npm audit --json</c> (report version 2, npm 7 and later): one entry per advisory in each package's
    /// <c>via</c>; packages vulnerable only through another package (a <c>via</c> of names) add nothing of their own.
    /// </summary>
    public static IReadOnlyList<Entry> NpmAudit(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error))
            throw new LedgerException($"npm audit reported an error instead of a report: {NpmError(error)}");
        if (
            root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("vulnerabilities", out var vulnerabilities)
            || vulnerabilities.ValueKind != JsonValueKind.Object
        )
            throw Shape(TriggerFormats.NpmAudit, "an object with a `vulnerabilities` object (npm 7 or later)");
        var list = new List<Entry>();
        foreach (var package in vulnerabilities.EnumerateObject())
        {
            if (!package.Value.TryGetProperty("via", out var via) || via.ValueKind != JsonValueKind.Array)
                throw Shape(TriggerFormats.NpmAudit, $"package {package.Name} to have a `via` array");
            var fix = package.Value.TryGetProperty("fixAvailable", out var f)
                ? f.ValueKind switch
                {
                    JsonValueKind.True => "a fix is available (`npm audit fix`)",
                    JsonValueKind.False => "no fix is available",
                    JsonValueKind.Object =>
                        $"a fix is available: {Str(f, "name")} {Str(f, "version")}{(f.TryGetProperty("isSemVerMajor", out var major) && major.ValueKind == JsonValueKind.True ? " (a major version)" : "")}",
                    _ => null,
                }
                : null;
            var effects = Strings(package.Value, "effects");
            foreach (var advisory in via.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.Object))
            {
                var url = Str(advisory, "url");
                var id =
                    url is not null && url.Contains("/advisories/", StringComparison.Ordinal)
                        ? url[(url.LastIndexOf('/') + 1)..]
                    : advisory.TryGetProperty("source", out var source) ? source.GetRawText()
                    : null;
                if (id is null)
                    throw Shape(TriggerFormats.NpmAudit, $"each advisory of {package.Name} to have a url or a source");
                var name = Str(advisory, "name") ?? package.Name;
                var title = Str(advisory, "title") ?? id;
                var severity = Str(advisory, "severity") ?? Str(package.Value, "severity") ?? "unknown";
                var range = Str(advisory, "range") ?? "";
                var body = new StringBuilder();
                body.AppendLine($"npm audit: {title} ({severity}) in {name} {range}.".Replace(" .", "."));
                if (fix is not null)
                    body.AppendLine($"Fix: {fix}.");
                if (effects.Count > 0)
                    body.AppendLine($"Also affects: {string.Join(", ", effects)}");
                list.Add(
                    new Entry(
                        $"npm-audit:{name}:{id}",
                        $"{severity} {id} in {name}: {title}",
                        body.ToString().TrimEnd(),
                        ["security", "dependencies", severity],
                        url
                    )
                );
            }
        }
        return list;
    }

    /// <summary><c>npm outdated --json</c>: {"name": {"current", "wanted", "latest", ...}} (an array per name when several locations hold it).</summary>
    public static IReadOnlyList<Entry> NpmOutdated(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error))
            throw new LedgerException($"npm outdated reported an error instead of a report: {NpmError(error)}");
        if (root.ValueKind != JsonValueKind.Object)
            throw Shape(TriggerFormats.NpmOutdated, "an object mapping package names to versions");
        var list = new List<Entry>();
        foreach (var package in root.EnumerateObject())
        {
            var entries =
                package.Value.ValueKind == JsonValueKind.Array
                    ? package.Value.EnumerateArray().ToList()
                    : [package.Value];
            foreach (var entry in entries)
            {
                if (entry.ValueKind != JsonValueKind.Object || Str(entry, "latest") is not { } latest)
                    throw Shape(TriggerFormats.NpmOutdated, $"package {package.Name} to have a `latest` version");
                var current = Str(entry, "current") ?? "(not installed)";
                var wanted = Str(entry, "wanted") ?? "";
                list.Add(
                    new Entry(
                        $"npm-outdated:{package.Name}@{latest}",
                        $"{package.Name} is out of date: {current}, latest {latest}",
                        $"npm outdated: {package.Name} is at {current}; the range allows {wanted}; the latest is {latest}"
                            + (Str(entry, "location") is { } location ? $" ({location})." : "."),
                        ["dependencies"],
                        null
                    )
                );
            }
        }
        return list;
    }

    /// <summary>
    /// <c>dotnet list package --vulnerable|--outdated [--include-transitive] --format json</c> (report version 1):
    /// projects, frameworks, top-level and transitive packages with <c>vulnerabilities</c> or a <c>latestVersion</c>.
    /// </summary>
    public static IReadOnlyList<Entry> DotnetListPackage(JsonElement root)
    {
        if (
            root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("version", out _)
            || !root.TryGetProperty("projects", out var projects)
            || projects.ValueKind != JsonValueKind.Array
        )
            throw Shape(TriggerFormats.DotnetListPackage, "an object with `version` and a `projects` array");
        var errors =
            root.TryGetProperty("problems", out var problems) && problems.ValueKind == JsonValueKind.Array
                ? problems
                    .EnumerateArray()
                    .Where(p => Str(p, "level") == "error")
                    .Select(p => Str(p, "text") ?? p.GetRawText())
                    .ToList()
                : [];
        if (errors.Count > 0)
            throw new LedgerException(
                $"dotnet list package reported errors instead of a report: {string.Join("; ", errors)}"
            );
        var list = new List<Entry>();
        foreach (var project in projects.EnumerateArray())
        {
            var path = Str(project, "path") ?? "(project)";
            if (
                !project.TryGetProperty("frameworks", out var frameworks)
                || frameworks.ValueKind != JsonValueKind.Array
            )
                continue; // a project with nothing to report
            foreach (var framework in frameworks.EnumerateArray())
            {
                foreach (var kind in new[] { "topLevelPackages", "transitivePackages" })
                {
                    if (!framework.TryGetProperty(kind, out var packages) || packages.ValueKind != JsonValueKind.Array)
                        continue;
                    foreach (var package in packages.EnumerateArray())
                        list.AddRange(DotnetPackage(package, path, kind == "transitivePackages"));
                }
            }
        }
        return list;
    }

    private static IEnumerable<Entry> DotnetPackage(JsonElement package, string project, bool transitive)
    {
        var id = Str(package, "id") ?? throw Shape(TriggerFormats.DotnetListPackage, "each package to have an id");
        var resolved = Str(package, "resolvedVersion") ?? Str(package, "requestedVersion") ?? "";
        var how = transitive ? "transitive" : "direct";
        if (
            package.TryGetProperty("vulnerabilities", out var vulnerabilities)
            && vulnerabilities.ValueKind == JsonValueKind.Array
        )
        {
            foreach (var vulnerability in vulnerabilities.EnumerateArray())
            {
                var url = Str(vulnerability, "advisoryurl") ?? Str(vulnerability, "advisoryUrl");
                if (url is null)
                    throw Shape(TriggerFormats.DotnetListPackage, $"each vulnerability of {id} to have an advisoryurl");
                var advisory = url.TrimEnd('/')[(url.TrimEnd('/').LastIndexOf('/') + 1)..];
                var severity = Str(vulnerability, "severity") ?? "unknown";
                yield return new Entry(
                    $"dotnet-vulnerable:{id}@{resolved}:{advisory}",
                    $"{severity} {advisory} in {id} {resolved}",
                    $"dotnet list package: {id} {resolved} ({how} dependency of {Path.GetFileName(project)}) has a {severity.ToLowerInvariant()} vulnerability: {url}",
                    ["security", "dependencies", severity.ToLowerInvariant()],
                    url
                );
            }
        }
        if (Str(package, "latestVersion") is { } latest && latest != resolved)
            yield return new Entry(
                $"dotnet-outdated:{id}@{latest}",
                $"{id} is out of date: {resolved}, latest {latest}",
                $"dotnet list package: {id} is at {resolved} ({how} dependency of {Path.GetFileName(project)}); the latest is {latest}.",
                ["dependencies"],
                null
            );
    }

    private static string? AdvisoryUrl(string id, IReadOnlyList<string> aliases)
    {
        var ghsa = new[] { id }.Concat(aliases).FirstOrDefault(a => a.StartsWith("GHSA-", StringComparison.Ordinal));
        if (ghsa is not null)
            return $"https://github.com/advisories/{ghsa}";
        return id.StartsWith("PYSEC-", StringComparison.Ordinal) || id.StartsWith("CVE-", StringComparison.Ordinal)
            ? $"https://osv.dev/vulnerability/{id}"
            : null;
    }

    private static string NpmError(JsonElement error) =>
        error.ValueKind == JsonValueKind.Object
            ? $"{Str(error, "code")} {Str(error, "summary")} {Str(error, "detail")}".Trim()
            : error.GetRawText();

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;

    private static List<string> Strings(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList()
            : [];

    private static LedgerException Shape(string format, string expected) =>
        new($"the output is JSON but not a {format} report: expected {expected}; nothing was recorded.");
}
