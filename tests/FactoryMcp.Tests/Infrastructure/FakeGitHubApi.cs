using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// A real HTTP listener on a loopback port standing in for the GitHub REST API: it answers GETs of the
/// paths it was given with their JSON (404 otherwise) and records every request's path and Authorization.
/// </summary>
public sealed class FakeGitHubApi : IAsyncDisposable
{
    private readonly LocalListener listener;

    private FakeGitHubApi(
        LocalListener listener,
        ConcurrentQueue<(string PathAndQuery, string? Authorization)> requests
    )
    {
        this.listener = listener;
        Requests = requests;
    }

    public Uri Url => listener.Url;
    public ConcurrentQueue<(string PathAndQuery, string? Authorization)> Requests { get; }

    public static async Task<FakeGitHubApi> StartAsync(IReadOnlyDictionary<string, string> responses)
    {
        var requests = new ConcurrentQueue<(string PathAndQuery, string? Authorization)>();
        var listener = await LocalListener.StartAsync(async context =>
        {
            requests.Enqueue(
                (
                    context.Request.Path + context.Request.QueryString,
                    context.Request.Headers.Authorization.FirstOrDefault()
                )
            );
            if (context.Request.Method == "GET" && responses.TryGetValue(context.Request.Path, out var json))
            {
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(json);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        });
        return new FakeGitHubApi(listener, requests);
    }

    public ValueTask DisposeAsync() => listener.DisposeAsync();
}
