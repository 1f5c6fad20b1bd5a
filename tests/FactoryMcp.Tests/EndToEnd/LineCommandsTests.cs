using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.EndToEnd;

public sealed class LineCommandsTests : IDisposable
{
    private readonly TempDirectory root = new("lines");

    public void Dispose() => root.Dispose();

    [Fact]
    public async Task LineSet_WritesValidatedSettings_RefusesUnknownKeysAndBadValuesChangingNothing()
    {
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        var set = await FactoryBinary.RunAsync(
            repo.Path,
            ["line", "set", "bugfix", "verifiers=[qa, secops]", "max_attempts=2", "lease_minutes=0.5"]
        );
        Assert.True(set.ExitCode == 0, set.Output);
        var file = Path.Combine(repo.Path, ".factory", "lines.yaml");
        var before = await File.ReadAllTextAsync(file);
        Assert.Contains("max_attempts: 2", before);

        var unknown = await FactoryBinary.RunAsync(repo.Path, ["line", "set", "bugfix", "colour=red"]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("colour", unknown.StandardError);
        var bad = await FactoryBinary.RunAsync(repo.Path, ["line", "set", "bugfix", "max_attempts=0"]);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("max_attempts must be at least 1", bad.StandardError);
        Assert.Equal(before, await File.ReadAllTextAsync(file));

        var list = await FactoryBinary.RunAsync(repo.Path, ["line", "list"]);
        Assert.Contains("bugfix:", list.StandardOutput);
        Assert.Contains("- secops", list.StandardOutput);
    }
}
