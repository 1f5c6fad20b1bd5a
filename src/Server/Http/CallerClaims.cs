using System.Globalization;
using System.Security.Claims;
using FactoryMcp.Ledger.Agents;

namespace FactoryMcp.Server.Http;

/// <summary>
/// A registry caller as an ASP.NET Core principal, and back. The role is <see cref="ClaimTypes.Role"/>;
/// <see cref="ClaimTypes.NameIdentifier"/> names the credential the caller proved (its token's hash, or
/// the anonymous agent), because the SDK binds an MCP session and antiforgery binds a form token to it:
/// a re-issued token (which every role change needs) can never reuse what the old one opened.
/// </summary>
internal static class CallerClaims
{
    private const string AgentIdType = "factory:agent_id";
    private const string VerifierRoleType = "factory:verifier_role";
    private const string TokenPrefix = "token:";

    public static string TokenCredential(string tokenHash) => TokenPrefix + tokenHash;

    public static string AnonymousCredential(string agentName) => "anonymous:" + agentName;

    public static ClaimsPrincipal Principal(Caller caller, string credential, string scheme)
    {
        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, credential),
            new(AgentIdType, caller.AgentId.ToString(CultureInfo.InvariantCulture)),
            new(ClaimTypes.Name, caller.Name),
            new(ClaimTypes.Role, caller.Role),
        ];
        if (caller.VerifierRole is { } verifierRole)
            claims.Add(new Claim(VerifierRoleType, verifierRole));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    /// <summary>The authenticated caller, or null for a request that proved nothing.</summary>
    public static Caller? Caller(ClaimsPrincipal user)
    {
        if (
            user.Identity?.IsAuthenticated != true
            || user.FindFirst(AgentIdType)?.Value is not { } id
            || user.FindFirst(ClaimTypes.Name)?.Value is not { } name
            || user.FindFirst(ClaimTypes.Role)?.Value is not { } role
        )
            return null;
        return new Caller(
            long.Parse(id, CultureInfo.InvariantCulture),
            name,
            role,
            user.FindFirst(VerifierRoleType)?.Value
        );
    }

    /// <summary>The stored token hash this principal authenticated with, or null (anonymous, unauthenticated).</summary>
    public static string? TokenHash(ClaimsPrincipal user) =>
        user.FindFirst(ClaimTypes.NameIdentifier)?.Value is { } credential
        && credential.StartsWith(TokenPrefix, StringComparison.Ordinal)
            ? credential[TokenPrefix.Length..]
            : null;
}
