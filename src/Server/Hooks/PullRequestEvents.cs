using System.Text.Json;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Pulls;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Pulls;

namespace FactoryMcp.Server.Hooks;

/// <summary>
/// GitHub <c>pull_request</c> events <c>opened</c>, <c>reopened</c> and <c>synchronize</c> (README, "Opened pull
/// requests"): a pull request of a repository named in factory.yaml's <c>pull_requests.verify</c>, opened by a
/// person, has its head verified blind by the line's verifiers, once per head commit. The factory's own pull
/// requests are acknowledged and skipped; a repository not named is refused with the reason.
/// </summary>
internal sealed class PullRequestEvents(PullVerifications pulls, ConfigFiles config)
{
    public async Task<string> HandleAsync(JsonElement payload, CancellationToken ct)
    {
        var repository = payload.GetProperty("repository").GetProperty("full_name").GetString()!;
        var pr = payload.GetProperty("pull_request");
        var number = pr.GetProperty("number").GetInt64();
        var name = $"{repository}#{number}";
        var entry =
            config.Settings.PullRequests.Find(repository)
            ?? throw new LedgerException(
                $"pull requests of {repository} are not verified: no pull_requests.verify entry in factory.yaml names it; nothing was recorded"
            );
        var head = pr.GetProperty("head");
        var user = pr.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.Object ? u : default;
        var author = user.ValueKind == JsonValueKind.Object ? Text(user, "login") : null;
        if (
            pulls.FactoryMade(
                Text(head, "ref"),
                author,
                user.ValueKind == JsonValueKind.Object ? Text(user, "type") : null
            ) is
            { } why
        )
            return $"ignored: pull request {name} is the factory's own ({why})";
        var pull = new PullHead(
            repository,
            number,
            (Text(head, "sha") ?? "").ToLowerInvariant(),
            (Text(pr.GetProperty("base"), "sha") ?? "").ToLowerInvariant(),
            author,
            Text(pr, "html_url")
        );
        return await pulls.StartAsync(pull, entry, ct);
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object
        && element.TryGetProperty(name, out var value)
        && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}
