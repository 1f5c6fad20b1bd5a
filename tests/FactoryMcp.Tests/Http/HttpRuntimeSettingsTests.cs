using System.Text.Json;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Http;

/// <summary>The runtime settings the published `factory` carries for issue 18's HTTP figures.</summary>
public sealed class HttpRuntimeSettingsTests
{
    /// <summary>
    /// Idle thread-pool workers block at once instead of spinning: a quarter of the HTTP server's managed CPU
    /// samples were that spin while 8 agents wrote (README, Concurrency and crash safety).
    /// </summary>
    [Fact]
    public void PublishedFactory_DisablesThreadPoolSpinning()
    {
        var config = FactoryBinary.Path + ".runtimeconfig.json";
        using var json = JsonDocument.Parse(File.ReadAllText(config));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.True(
            properties.TryGetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", out var limit),
            $"{config} does not set System.Threading.ThreadPool.UnfairSemaphoreSpinLimit"
        );
        Assert.Equal("0", limit.ToString());
    }
}
