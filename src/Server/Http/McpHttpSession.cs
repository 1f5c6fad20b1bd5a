using FactoryMcp.Ledger.Agents;
using ModelContextProtocol.Server;

namespace FactoryMcp.Server.Http;

/// <summary>
/// One 2025-revision Streamable HTTP session: its transport, its MCP server (the role surface of the
/// caller whose token opened it) and that server's run loop, which lives as long as the session, not
/// as long as the POST that created it.
/// </summary>
internal sealed class McpHttpSession(
    string id,
    Caller caller,
    StreamableHttpServerTransport transport,
    McpServer server,
    IAsyncDisposable services,
    TimeProvider time
) : IAsyncDisposable
{
    private readonly CancellationTokenSource closing = new();
    private readonly Lock gate = new();
    private int references;
    private bool disposed;

    public string Id => id;
    public Caller Caller => caller;
    public StreamableHttpServerTransport Transport => transport;
    public CancellationToken Closing => closing.Token;
    public DateTimeOffset LastActivity { get; private set; } = time.GetUtcNow();
    public Task RunTask { get; private set; } = Task.CompletedTask;

    /// <summary>Whether a request is using the session right now (it is then never idle).</summary>
    public bool Busy
    {
        get
        {
            lock (gate)
                return references > 0;
        }
    }

    public void Start() => RunTask = server.RunAsync(closing.Token);

    /// <summary>Marks the session in use until the returned handle is disposed.</summary>
    public IDisposable? TryUse()
    {
        lock (gate)
        {
            if (disposed)
                return null;
            references++;
            LastActivity = time.GetUtcNow();
            return new Use(this);
        }
    }

    private void Release()
    {
        lock (gate)
        {
            references--;
            LastActivity = time.GetUtcNow();
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (gate)
        {
            if (disposed)
                return;
            disposed = true;
        }
        try
        {
            await transport.DisposeAsync();
            await closing.CancelAsync();
            try
            {
                await RunTask;
            }
            catch (OperationCanceledException) { }
        }
        finally
        {
            await server.DisposeAsync();
            await services.DisposeAsync();
            closing.Dispose();
        }
    }

    private sealed class Use(McpHttpSession session) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
                session.Release();
        }
    }
}
