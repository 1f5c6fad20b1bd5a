using System.CommandLine;
using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Attestations;
using FactoryMcp.Tools.Attestation;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Server.Cli;

/// <summary>attest verify, show, public-key (README, "Attestations").</summary>
internal static class AttestCommands
{
    private const string TargetHelp =
        "A run id, a head commit's full SHA (its newest attested run), or the path of a DSSE envelope file.";

    public static void Add(RootCommand root)
    {
        var attest = new Command("attest", "Signed attestations of accepted PR_READY runs.");
        attest.Subcommands.Add(Verify());
        attest.Subcommands.Add(Show());
        attest.Subcommands.Add(PublicKey());
        root.Subcommands.Add(attest);
    }

    private static Command Verify()
    {
        var target = new Argument<string>("RUN|SHA|FILE") { Description = TargetHelp };
        var publicKey = new Option<string?>("--public-key")
        {
            Description = "Verify with this public key PEM instead of this factory's own key.",
        };
        var verify = new Command(
            "verify",
            "Check an attestation: its DSSE signature, its in-toto Statement, and that it names the run and head it belongs to. Exit 1 says why not."
        )
        {
            target,
            publicKey,
        };
        verify.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var (json, stored) = await LoadAsync(factory, parse.GetValue(target)!, ct);
                    var pem = parse.GetValue(publicKey) is { } file ? await File.ReadAllTextAsync(file, ct) : null;
                    var check = await factory.Attestor.VerifyAsync(json, stored, pem, ct);
                    if (check.Valid)
                    {
                        await context.Out.WriteLineAsync(
                            $"Attestation verified: run {check.RunId}, head {check.Head}, signed by key {check.KeyId} ({GateStatement.PredicateType})."
                        );
                        return 0;
                    }
                    await context.Error.WriteLineAsync("Attestation verification FAILED:");
                    foreach (var problem in check.Problems)
                        await context.Error.WriteLineAsync($"- {problem}");
                    return 1;
                },
                notice: false
            )
        );
        return verify;
    }

    private static Command Show()
    {
        var target = new Argument<string>("RUN|SHA") { Description = TargetHelp };
        var statement = new Option<bool>("--statement")
        {
            Description = "Print the signed in-toto Statement (the decoded payload) instead of the envelope.",
        };
        var show = new Command("show", "Print a run's DSSE envelope (JSON), as stored in the ledger.")
        {
            target,
            statement,
        };
        show.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var (json, _) = await LoadAsync(factory, parse.GetValue(target)!, ct);
                    await context.Out.WriteLineAsync(
                        parse.GetValue(statement)
                            ? Encoding.UTF8.GetString(Convert.FromBase64String(Dsse.Parse(json).Payload))
                            : json
                    );
                    return 0;
                },
                notice: false
            )
        );
        return show;
    }

    private static Command PublicKey()
    {
        var command = new Command(
            "public-key",
            "Print the public key (PEM) attestations are signed with, creating the key if there is none yet; give it to whoever verifies them."
        );
        command.SetAction(
            FactoryCli.Handler(
                async (_, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    using var key = AttestationKey.LoadOrCreate(factory.Attestor.KeyPath);
                    await context.Out.WriteAsync(key.PublicPem + "\n");
                    await context.Error.WriteLineAsync($"key id {key.KeyId} ({key.Path})");
                    return 0;
                },
                notice: false
            )
        );
        return command;
    }

    private static async Task<(string Json, AttestationRow? Stored)> LoadAsync(
        FactoryServices factory,
        string target,
        CancellationToken ct
    )
    {
        var isId = target.Length < 19 && target.All(char.IsAsciiDigit);
        if (!isId && !CommitSha.IsFull(target) && File.Exists(target))
            return (await File.ReadAllTextAsync(target, ct), null);
        var stored =
            await factory.Attestor.FindAsync(target, ct)
            ?? throw new LedgerException(
                $"No attestation for {(isId ? "run " : "")}{target}: only accepted PR_READY runs are attested (when the run was accepted, the server's log says why signing failed)."
            );
        return (stored.Envelope, stored);
    }
}
