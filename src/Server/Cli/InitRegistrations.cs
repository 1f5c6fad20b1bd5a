using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tools.Registration;

namespace FactoryMcp.Server.Cli;

/// <summary>The registration part of `factory init`: write each CLI's files, report them, print the trust steps.</summary>
internal static class InitRegistrations
{
    public static async Task WriteAsync(CliContext context, LedgerPaths paths, string? ledgerOption, string? httpUrl)
    {
        var executable =
            Environment.ProcessPath
            ?? throw new InvalidOperationException("Cannot tell where the factory executable is.");
        var target = new AgentRegistrations.Target(paths.ProjectRoot, executable, paths, httpUrl);
        if (!string.IsNullOrWhiteSpace(ledgerOption ?? Environment.GetEnvironmentVariable("FACTORY_LEDGER")))
        {
            // A custom ledger never writes a byte outside its own folders, so nothing is registered in a repository.
            await context.Out.WriteLineAsync(
                $"Custom ledger: no agent registrations written. Register `{executable} serve` with FACTORY_AGENT and FACTORY_LEDGER={paths.LedgerFile} by hand (README, 'Registering the factory with your agents')."
            );
            return;
        }
        foreach (var file in AgentRegistrations.Write(target).GroupBy(c => c.File))
            await context.Out.WriteLineAsync(
                $"{(file.Any(c => c.Changed) ? "Wrote" : "Unchanged")} {Path.GetRelativePath(paths.ProjectRoot, file.Key)} ({file.First().Cli}, {(httpUrl is null ? "stdio" : "HTTP")})"
            );
        await context.Out.WriteLineAsync("Trust steps, once per CLI:");
        foreach (var step in AgentRegistrations.TrustSteps(target))
            await context.Out.WriteLineAsync($"- {step}");
    }
}
