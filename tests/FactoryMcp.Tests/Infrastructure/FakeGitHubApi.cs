using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// A real HTTP listener on a loopback port standing in for the GitHub REST API: it answers GETs of the
/// paths it was given with their JSON (404 otherwise) and records every request's path and Authorization.
/// </summary>
public sealed class FakeGitHubApi : IAsyncDisposable
{
    private readonly WebApplication app;

    private FakeGitHubApi(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }
    public ConcurrentQueue<(string PathAndQuery, string? Authorization)> Requests { get; } = new();

    public static async Task<FakeGitHubApi> StartAsync(IReadOnlyDictionary<string, string> responses)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeGitHubApi? api = null;
        app.Run(async context =>
        {
            api!.Requests.Enqueue((context.Request.Path + context.Request.QueryString, context.Request.Headers.Authorization.FirstOrDefault()));
            if (context.Request.Method == "GET" && responses.TryGetValue(context.Request.Path, out var json))
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(json);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        api = new FakeGitHubApi(app, new Uri(address + "/"));
        return api;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
