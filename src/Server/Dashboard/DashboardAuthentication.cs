using FactoryMcp.Ledger.Agents;
using FactoryMcp.Server.Http;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FactoryMcp.Server.Dashboard;

/// <summary>
/// Dashboard logins on ASP.NET Core's cookie authentication and antiforgery: a human's registry token is
/// exchanged for an HttpOnly, SameSite=Strict cookie holding the human's claims, encrypted with keys that
/// live only in this process (a restart logs everyone out), and every form carries an antiforgery token
/// bound to that login. The registry is asked again on every request, so revoking or re-issuing the
/// human's token (which every role change needs) ends the session at once.
/// </summary>
internal static class DashboardAuthentication
{
    public const string Scheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string HumanPolicy = "human";
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    public static void ConfigureCookie(CookieAuthenticationOptions options, TimeProvider time)
    {
        options.Cookie.Name = "factory_session";
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Strict;
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.Cookie.Path = "/";
        options.ExpireTimeSpan = Lifetime;
        options.SlidingExpiration = false;
        options.TimeProvider = time;
        options.Events.OnValidatePrincipal = ValidateAsync;
        options.Events.OnRedirectToLogin = context =>
            HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
                ? Redirect(context.Response, "/login")
                : Refuse(context.Response, "Log in first: writes need a human session.");
        options.Events.OnRedirectToAccessDenied = context =>
            Refuse(context.Response, "Only humans use the dashboard (`factory agent add NAME --role human`).");
    }

    public static void ConfigureAntiforgery(AntiforgeryOptions options)
    {
        options.FormFieldName = "csrf";
        options.HeaderName = null;
        options.Cookie.Name = "factory_csrf";
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Strict;
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        // The dashboard's own headers already say DENY (see HttpHost).
        options.SuppressXFrameOptionsHeader = true;
    }

    /// <summary>Signs a human in: the cookie carries the caller and the hash of the token it logged in with.</summary>
    public static Task SignInAsync(HttpContext context, Caller human, string token) =>
        context.SignInAsync(
            Scheme,
            CallerClaims.Principal(human, CallerClaims.TokenCredential(AgentRegistry.HashToken(token)), Scheme),
            new AuthenticationProperties { IsPersistent = true }
        );

    /// <summary>Still a live human holding the same token? Otherwise the cookie is dropped and the request is anonymous.</summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        if (
            context.Principal is { } principal
            && CallerClaims.Caller(principal) is { } caller
            && CallerClaims.TokenHash(principal) is { } hash
        )
        {
            var agents = context.HttpContext.RequestServices.GetRequiredService<AgentRegistry>();
            var row = await agents.FindAsync(caller.Name, context.HttpContext.RequestAborted);
            if (
                row is { RevokedAt: null, Role: Roles.Human }
                && row.Id == caller.AgentId
                && string.Equals(row.TokenHash, hash, StringComparison.Ordinal)
            )
                return;
        }
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(Scheme);
    }

    private static Task Redirect(HttpResponse response, string path)
    {
        response.Redirect(path);
        return Task.CompletedTask;
    }

    private static Task Refuse(HttpResponse response, string message)
    {
        response.StatusCode = StatusCodes.Status403Forbidden;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(message);
    }
}
