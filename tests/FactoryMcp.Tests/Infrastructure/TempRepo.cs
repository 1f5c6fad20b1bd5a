using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>A real git repository in a temp folder, with helpers to commit files.</summary>
public sealed class TempRepo
{
    private TempRepo(string path) => Path = path;

    public string Path { get; }

    /// <summary>An existing clone, to commit into.</summary>
    public static TempRepo Open(string path) => new(path);

    public static async Task<TempRepo> CreateAsync(string path, IReadOnlyDictionary<string, string>? files = null)
    {
        Directory.CreateDirectory(path);
        await GitRunner.OutputAsync(["init", "--quiet", "-b", "main", path]);
        var repo = new TempRepo(path);
        await repo.CommitAsync(
            (
                files ?? new Dictionary<string, string> { ["README.md"] = "# test\n", ["src/app.txt"] = "one\n" }
            ).ToDictionary(p => p.Key, p => (string?)p.Value),
            "initial"
        );
        return repo;
    }

    public async Task<string> CommitAsync(IReadOnlyDictionary<string, string?> files, string message)
    {
        foreach (var (relative, content) in files)
        {
            var full = System.IO.Path.Combine(Path, relative);
            if (content is null)
            {
                File.Delete(full);
                continue;
            }
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content);
        }
        await GitRunner.OutputAsync(["add", "-A"], new GitRunner.Options { WorkingDirectory = Path });
        await GitRunner.OutputAsync(
            ["commit", "--quiet", "--allow-empty", "-m", message],
            new GitRunner.Options { WorkingDirectory = Path }
        );
        return await HeadAsync();
    }

    public Task<string> HeadAsync() =>
        GitRunner.OutputAsync(["rev-parse", "HEAD"], new GitRunner.Options { WorkingDirectory = Path });
}
