namespace FactoryMcp.Ledger.Packets;

/// <summary>A parsed task packet (DESIGN section 2). The Markdown it came from is stored verbatim beside it.</summary>
public sealed record Packet
{
    public required PacketFrontMatter FrontMatter { get; init; }
    public required string Title { get; init; }
    public required IReadOnlyList<PacketSection> Sections { get; init; }
    public required IReadOnlyList<string> Scope { get; init; }
    public required IReadOnlyList<string> NonGoals { get; init; }
    public required IReadOnlyList<string> Validation { get; init; }
    public Reproduction? Reproduction { get; init; }
    public required IReadOnlyList<string> EvidenceRequired { get; init; }

    public string Line => FrontMatter.Line;

    public string? Section(string key) => Sections.FirstOrDefault(s => s.Key == PacketSection.Normalize(key))?.Markdown;

    public string Intent => Section("intent") ?? "";
    public string? Source => Section("source");
}

/// <summary>One <c>##</c> section: its heading as written, its canonical key and its Markdown verbatim.</summary>
public sealed record PacketSection(string Heading, string Key, string Markdown)
{
    public static string Normalize(string heading) =>
        string.Join(
            ' ',
            heading
                .Trim()
                .ToLowerInvariant()
                .Replace('_', ' ')
                .Replace('-', ' ')
                .Split(' ', StringSplitOptions.RemoveEmptyEntries)
        );
}

/// <summary>
/// The Reproduction: scripts that fail at base and pass at head. A fenced block is one script, a list
/// item one command. <c>expect:</c> states what "the bug is there" looks like: an exit code or an output pattern.
/// </summary>
public sealed record Reproduction(IReadOnlyList<string> Scripts, int? ExpectExitCode, string? ExpectPattern);

/// <summary>Front matter keys of DESIGN sections 2 and 8. Null means "the line's default".</summary>
public sealed record PacketFrontMatter
{
    public string Line { get; init; } = "default";
    public string? Repo { get; init; }
    public string? Base { get; init; }
    public int Priority { get; init; } = 2;
    public string Output { get; init; } = "pr";
    public IReadOnlyList<string>? Verifiers { get; init; }
    public int? MaxAttempts { get; init; }
    public double? LeaseMinutes { get; init; }
    public int? TimeoutSeconds { get; init; }
    public bool? AllowTestDeletion { get; init; }

    public static readonly IReadOnlyList<string> Keys =
    [
        "line",
        "repo",
        "base",
        "priority",
        "output",
        "verifiers",
        "max_attempts",
        "lease_minutes",
        "timeout_seconds",
        "allow_test_deletion",
    ];

    public static readonly IReadOnlyList<string> Outputs = ["pr", "patch", "investigation"];
}
