namespace FactoryMcp.Ledger.Pulls;

/// <summary>
/// <c>pull_requests:</c> in factory.yaml (README, "Opened pull requests"): which GitHub repositories' opened pull
/// requests get a verification-only job, on which line (whose verifiers review), and which logins are the factory's.
/// </summary>
public sealed record PullRequestSettings
{
    /// <summary>The repositories whose pull requests opened by people are verified blind; none by default.</summary>
    public List<PullRequestVerification> Verify { get; set; } = [];

    /// <summary>GitHub logins that are the factory itself (the account `gh` pushes and opens pull requests as).</summary>
    public List<string> FactoryLogins { get; set; } = [];

    public PullRequestVerification? Find(string repository) =>
        Verify.FirstOrDefault(v => string.Equals(v.Repository, repository, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every problem of the section, each naming its entry.</summary>
    public IEnumerable<string> Problems()
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Verify.Count; i++)
        {
            var v = Verify[i];
            var where = $"pull_requests.verify[{i}]";
            if (!IsRepositoryName(v.Repository))
                yield return $"{where}: repository must be a GitHub owner/name, such as acme/billing";
            else if (!seen.Add(v.Repository))
                yield return $"{where}: repository {v.Repository} is listed twice";
            if (string.IsNullOrWhiteSpace(v.Line))
                yield return $"{where}: line is missing (the lines.yaml line whose verifiers review the pull requests)";
        }
        foreach (var login in FactoryLogins.Where(l => string.IsNullOrWhiteSpace(l)))
            yield return "pull_requests.factory_logins has an empty login";
    }

    public static bool IsRepositoryName(string? name) =>
        name is { Length: > 2 and <= 200 }
        && name.Split('/') is [var owner, var repo]
        && owner.Length > 0
        && repo.Length > 0
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/');
}

/// <summary>One repository whose opened pull requests are verified: by <see cref="Line"/>'s verifiers, fetched from <see cref="Repo"/>.</summary>
public sealed record PullRequestVerification
{
    /// <summary>owner/name, as the webhook's <c>repository.full_name</c>.</summary>
    public string Repository { get; set; } = "";

    public string Line { get; set; } = "";

    /// <summary>Where refs/pull/N/head is fetched from: a path relative to the project, or a URL. Default: the project's repository.</summary>
    public string? Repo { get; set; }
}
