using System.Text.Encodings.Web;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FactoryMcp.Server.Http;

internal sealed class BearerAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>A builder name that requests without a bearer token act as (loopback only), or null: tokens required.</summary>
    public string? AnonymousAgent { get; set; }
}

/// <summary>
/// Bearer tokens from the agent registry, looked up on every request, so a revoked or re-issued token
/// stops working at once: the token alone says who is calling and, through the registry, its role. With
/// an anonymous agent configured (loopback only), a request without a token acts as that builder, as a
/// stdio builder may connect by name alone. A challenge is 401 with a JSON-RPC error MCP clients show.
/// </summary>
internal sealed class BearerAuthenticationHandler(
    IOptionsMonitor<BearerAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AgentRegistry agents
) : AuthenticationHandler<BearerAuthenticationOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            if (Options.AnonymousAgent is not { } anonymous)
                return AuthenticateResult.NoResult();
            try
            {
                var caller = await agents.AuthenticateAsync(anonymous, null, Roles.Agent, Context.RequestAborted);
                return Success(caller, CallerClaims.AnonymousCredential(caller.Name));
            }
            catch (LedgerException e)
            {
                return AuthenticateResult.Fail($"Unauthorized: {e.Message}");
            }
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            return AuthenticateResult.Fail("Unauthorized: the Authorization header must be `Bearer <token>`.");
        var token = header[7..].Trim();
        var known = await agents.AuthenticateTokenAsync(token, Context.RequestAborted);
        return known is null
            ? AuthenticateResult.Fail(
                "Unauthorized: this token is not registered or was revoked. `factory agent add NAME` issues a new one."
            )
            : Success(known, CallerClaims.TokenCredential(AgentRegistry.HashToken(token)));
    }

    private AuthenticateResult Success(Caller caller, string credential) =>
        AuthenticateResult.Success(
            new AuthenticationTicket(CallerClaims.Principal(caller, credential, Scheme.Name), Scheme.Name)
        );

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.Headers.WWWAuthenticate = "Bearer realm=\"factory\"";
        await JsonRpcErrors.WriteAsync(
            Context,
            StatusCodes.Status401Unauthorized,
            result.Failure?.Message
                ?? "Unauthorized: send `Authorization: Bearer <token>` with the token `factory agent add NAME` printed."
        );
    }
}
