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

    public static async Task<LocalListener> StartAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LocalListener? listener = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            listener!.Received.Enqueue((context.Request.Path, await reader.ReadToEndAsync()));
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        listener = new LocalListener(app, new Uri(address + "/"));
        return listener;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
