using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// Calls declare_terminal_state again with the same arguments while it answers <c>validating</c>, as an
/// agent does, until it decides or a deadline passes; a missed deadline fails with what was last seen.
/// </summary>
public static class Redeclare
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromMinutes(3);

    public static string? OutcomeOf(CallToolResult result) =>
        result.StructuredContent is { } s && s.TryGetProperty("outcome", out var o) ? o.GetString() : null;

    public static string TextOf(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    public static async Task<CallToolResult> UntilDecidedAsync(
        McpClient client,
        IReadOnlyDictionary<string, object?> arguments,
        TimeSpan? within = null
    )
    {
        var deadline = DateTime.UtcNow + (within ?? DefaultDeadline);
        while (true)
        {
            var result = await client.CallToolAsync("declare_terminal_state", arguments);
            if (OutcomeOf(result) != "validating")
                return result;
            if (DateTime.UtcNow > deadline)
                Assert.Fail(
                    $"declare_terminal_state still answered 'validating' after {within ?? DefaultDeadline}; last seen:\n{TextOf(result)}"
                );
        }
    }
}
