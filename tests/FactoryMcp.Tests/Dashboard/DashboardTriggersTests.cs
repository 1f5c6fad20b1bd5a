using System.Net;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.Dashboard;

/// <summary>The board's triggers table over plain HTTP, from a real server process: what `factory triggers` lists, escaped.</summary>
public sealed class DashboardTriggersTests
{
    private const string Hostile = "<img src=x onerror=alert(1)>";

    private static string E(string text) => System.Text.Encodings.Web.HtmlEncoder.Default.Encode(text);

    private const string FactoryYaml = """
        triggers:
          - name: nightly
            schedule: "0 3 * * *"
            line: "deps<script>alert(2)</script>"
            command: "echo garbage"
            format: pip-audit
          - name: weekly
            schedule: "30 6 * * MON"
            line: deps
            command: "true"
        """;

    [Fact]
    public async Task Board_ListsEachTrigger_WithLastAndNextFiring_WhatItProduced_AndItsLastError_Escaped()
    {
        using var project = await HttpProject.CreateAsync(FactoryYaml);
        var human = await project.AddAgentAsync("ada", "human");
        var factory = new FactoryServices(
            LedgerDatabase.Open(new LedgerPaths(Path.Combine(project.Path, ".factory", "ledger.db")))
        );
        // The last firing is the latest 03:00, so nothing is due while the server runs (it would fire otherwise).
        var now = DateTimeOffset.UtcNow;
        var today3 = new DateTimeOffset(now.Year, now.Month, now.Day, 3, 0, 0, TimeSpan.Zero);
        var latest = today3 <= now ? today3 : today3.AddDays(-1);
        var failedAt = latest.AddDays(-1);
        var failed = await factory.TriggerFirings.ClaimAsync("nightly", failedAt, "test");
        await factory.TriggerFirings.FinishAsync(failed!.Id, 0, 0, $"the output is not pip-audit's JSON {Hostile}");
        var doneAt = latest;
        string At(DateTimeOffset at) => Iso.Text(at);
        var done = await factory.TriggerFirings.ClaimAsync("nightly", doneAt, "test");
        await factory.TriggerFirings.FinishAsync(done!.Id, 3, 5, null);

        await using var server = await HttpServerProcess.StartFactoryAsync(
            project.Path,
            env: new Dictionary<string, string?> { ["TZ"] = "UTC" }
        );
        using var client = new HttpClient(
            new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }
        )
        {
            BaseAddress = server.BaseUrl,
        };
        using (
            var login = await client.PostAsync(
                "/login",
                new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = human })
            )
        )
            Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var board = await client.GetStringAsync("/");

        var start = board.IndexOf("<table id=\"triggers\">", StringComparison.Ordinal);
        Assert.True(start >= 0, board);
        var table = board[start..board.IndexOf("</table>", start, StringComparison.Ordinal)];
        var rows = table.Split("<tr>", StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(3, rows.Count); // the header and one row per trigger
        Assert.Contains("<th>Last firing</th><th>Next</th><th>Last error</th>", rows[0]);

        var nightly = rows[1];
        Assert.Contains($"<td>nightly</td><td>{E("0 3 * * *")} (UTC)</td>", nightly);
        Assert.Contains($"<td>{E("deps<script>alert(2)</script>")}</td>", nightly);
        Assert.Contains("&lt;script&gt;", nightly);
        Assert.Contains($"<td>{E($"{At(doneAt)}: 3 new signal(s) of 5 reported")}</td>", nightly); // last firing, produced
        Assert.Contains($"<td>{E($"{At(failedAt)}: the output is not pip-audit's JSON {Hostile}")}</td>", nightly); // last error, though a later firing succeeded
        Assert.Contains("&lt;img", nightly);
        Assert.Contains($"<td>{E(At(latest.AddDays(1)))}</td>", nightly); // the next firing

        var weekly = rows[2];
        Assert.Contains($"<td>weekly</td><td>{E("30 6 * * MON")} (UTC)</td><td>deps</td><td>never</td>", weekly);
        Assert.Matches(@"<td>\d{4}-\d\d-\d\dT06:30:00\.000Z</td><td></td></tr>", weekly);

        Assert.DoesNotContain(Hostile, board);
        Assert.DoesNotContain("<script>alert(2)", board);
    }
}
