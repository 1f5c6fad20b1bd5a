using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>A real HTTP listener on a loopback port that records every request body it receives.</summary>
public sealed class LocalListener : IAsyncDisposable
{
    private readonly WebApplication app;

    private LocalListener(WebApplication app, Uri url)
    {
        this.app = app;
        Url = url;
    }

    public Uri Url { get; }
    public ConcurrentQueue<(string Path, string Body)> Received { get; } = new();

    /// <summary>A listener that records each request's path and body and answers 204.</summary>
    public static async Task<LocalListener> StartAsync()
    {
        LocalListener? listener = null;
        listener = await StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            listener!.Received.Enqueue((context.Request.Path, await reader.ReadToEndAsync()));
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        return listener;
    }

    /// <summary>A listener whose requests <paramref name="handle"/> answers (it records nothing itself).</summary>
    public static async Task<LocalListener> StartAsync(RequestDelegate handle)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Run(handle);
        await app.StartAsync();
        var address = app
            .Services.GetRequiredService<IServer>()
            .Features.Get<IServerAddressesFeature>()!
            .Addresses.Single();
        return new LocalListener(app, new Uri(address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
