namespace FactoryMcp.Server.Http;

/// <summary>
/// MCP revisions this endpoint accepts in MCP-Protocol-Version (those the SDK we build on speaks; its
/// own list is internal). From 2026-07-28 on, Streamable HTTP has no sessions and no initialize.
/// </summary>
internal static class ProtocolVersions
{
    public const string Stateless = "2026-07-28";

    public static readonly IReadOnlyList<string> Supported =
    [
        "2024-11-05",
        "2025-03-26",
        "2025-06-18",
        "2025-11-25",
        Stateless,
    ];

    public static bool IsSupported(string version) => Supported.Contains(version, StringComparer.Ordinal);

    public static bool IsStateless(string version) =>
        string.CompareOrdinal(version, Stateless) >= 0 && IsSupported(version);
}
