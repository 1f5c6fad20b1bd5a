using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// A project repository with a real test ledger in its .factory folder, and the same FactoryServices
/// the CLI and server use. Time is a FakeTimeProvider the test moves.
/// </summary>
public sealed class TestFactory : IDisposable
{
    private readonly TempDirectory root;

    private TestFactory(TempDirectory root, TempRepo repo, FactoryServices services, FakeTimeProvider time)
    {
        this.root = root;
        Repo = repo;
        Services = services;
        Time = time;
    }

    public TempRepo Repo { get; }
    public FactoryServices Services { get; }
    public FakeTimeProvider Time { get; }
    public LedgerPaths Paths => Services.Paths;
    public string Root => root.Path;

    public static Caller Human { get; } = Caller.LocalHuman("tester");

    public static async Task<TestFactory> CreateAsync(
        string? linesYaml = null,
        IReadOnlyDictionary<string, string>? files = null
    )
    {
        var root = new TempDirectory();
        var repo = await TempRepo.CreateAsync(root.Combine("app"), files);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        var paths = new LedgerPaths(System.IO.Path.Combine(repo.Path, ".factory", "ledger.db"));
        var db = LedgerDatabase.Create(paths, "test", time);
        if (linesYaml is not null)
            await File.WriteAllTextAsync(paths.LinesConfig, linesYaml);
        return new TestFactory(root, repo, new FactoryServices(db), time);
    }

    public async Task<Caller> BuilderAsync(string name = "builder-1") =>
        await Services.Agents.AuthenticateAsync(name, null, null);

    public async Task<TaskRow> ApprovedTaskAsync(string? packet = null)
    {
        var task = await Services.Intake.ProposeAsync(Human, packet ?? PacketText.Simple());
        return await Services.Intake.ApproveAsync(Human, task.Id);
    }

    public void Dispose() => root.Dispose();
}
