using FactoryMcp.Ledger.Agents;
using FactoryMcp.Server.Http;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;

namespace FactoryMcp.Server.Dashboard;

/// <summary>The logged-in human a dashboard page acts for, and the antiforgery token its forms carry.</summary>
internal sealed record HumanSession(Caller Human, string Csrf)
{
    /// <summary>The request's human (cookie authentication ran before), or null when nobody is logged in.</summary>
    public static HumanSession? From(HttpContext context, IAntiforgery antiforgery) =>
        CallerClaims.Caller(context.User) is { IsHuman: true } human
            ? new HumanSession(human, antiforgery.GetAndStoreTokens(context).RequestToken!)
            : null;
}
