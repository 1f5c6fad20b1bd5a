using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Attestation;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tests.Gate;

/// <summary>
/// Every accepted PR_READY is attested: an in-toto Statement in a DSSE envelope signed with ECDSA P-256, which
/// openssl (a third-party verifier) accepts against the exported public key and rejects after a one-byte change.
/// </summary>
public abstract class AttestationTests(LedgerEngine engine) : EngineTests(engine)
{
    protected static async Task<GateHarness> AcceptedAsync(LedgerEngine engine)
    {
        var gate = await GateHarness.CreateAsync(engine: engine);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        Assert.Equal("accepted", (await gate.DeclareAsync()).Outcome);
        return gate;
    }

    [Fact]
    public async Task AcceptedPrReady_IsAttested_StatementNamesHeadPacketAndValidation()
    {
        using var gate = await AcceptedAsync(Engine);
        var run = await gate.Factory.Services.Runs.GetAsync(gate.RunId);

        var stored = await gate.Factory.Services.Attestations.ForRunAsync(gate.RunId);

        Assert.NotNull(stored);
        Assert.Equal(run.HeadSha, stored.HeadSha);
        var envelope = Dsse.Parse(stored.Envelope);
        Assert.Equal("application/vnd.in-toto+json", envelope.PayloadType);
        var statement = JsonNode.Parse(Convert.FromBase64String(envelope.Payload))!;
        Assert.Equal("https://in-toto.io/Statement/v1", (string?)statement["_type"]);
        Assert.Equal(run.HeadSha, (string?)statement["subject"]![0]!["digest"]!["gitCommit"]);
        var predicate = statement["predicate"]!;
        Assert.Equal(run.BaseSha, (string?)predicate["base"]!["gitCommit"]);
        var packet = await gate.Factory.Services.Tasks.GetPacketAsync(gate.TaskId, run.PacketVersion);
        Assert.Equal(
            Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(packet.Markdown))).ToLowerInvariant(),
            (string?)predicate["packet"]!["digest"]!["sha256"]
        );
        var command = predicate["validation"]![0]!;
        Assert.Equal("sh tests/test_greet.sh", (string?)command["command"]);
        Assert.Equal(0, (int)command["exit_code"]!);
        Assert.True((bool)predicate["sandbox"]!["bubblewrap"]!);
        Assert.Equal(4096, (int)predicate["sandbox"]!["limits"]!["memory_mib"]!);
        Assert.Contains("at head pass", (string?)predicate["reproduction"]);
        Assert.False(string.IsNullOrEmpty((string?)predicate["factory"]!["version"]));

        // The key lives outside the ledger, in the state folder, readable by its owner only.
        var keyFile = gate.Factory.Paths.AttestationKey;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        var check = await gate.Factory.Services.Attestor.VerifyAsync(stored.Envelope, stored, null, default);
        Assert.True(check.Valid, string.Join("; ", check.Problems));
    }

    [Fact]
    public async Task Attestation_OpensslVerifiesItAgainstThePublicKey_AndRejectsAChangedByte()
    {
        using var gate = await AcceptedAsync(Engine);
        var stored = (await gate.Factory.Services.Attestations.ForRunAsync(gate.RunId))!;
        using var key = AttestationKey.Load(gate.Factory.Paths.AttestationKey);
        var folder = Path.Combine(gate.Factory.Root, "openssl");
        Directory.CreateDirectory(folder);
        var pub = Path.Combine(folder, "public.pem");
        await File.WriteAllTextAsync(pub, key.PublicPem);
        var envelope = Dsse.Parse(stored.Envelope);
        var payload = Convert.FromBase64String(envelope.Payload);
        var sig = Path.Combine(folder, "sig.der");
        await File.WriteAllBytesAsync(sig, Convert.FromBase64String(envelope.Signatures.Single().Sig));

        Assert.True(await OpensslVerifiesAsync(folder, pub, sig, payload), "openssl rejected a genuine attestation");

        var changed = (byte[])payload.Clone();
        var at = Encoding.UTF8.GetString(changed).IndexOf("exit_code\":0", StringComparison.Ordinal) + 11;
        changed[at] = (byte)'1'; // the validation command "exited 1" instead
        Assert.False(await OpensslVerifiesAsync(folder, pub, sig, changed), "openssl accepted a changed payload");
        var tampered = Dsse.ToJson(envelope with { Payload = Convert.ToBase64String(changed) });
        var check = await gate.Factory.Services.Attestor.VerifyAsync(tampered, null, null, default);
        Assert.False(check.Valid);
        Assert.Contains(check.Problems, p => p.Contains("changed after signing"));
    }

    private static async Task<bool> OpensslVerifiesAsync(string folder, string pub, string sig, byte[] payload)
    {
        var pae = Path.Combine(folder, "pae.bin");
        await File.WriteAllBytesAsync(pae, Dsse.Pae(Dsse.InTotoPayloadType, payload));
        var result = await ProcessRunner.RunAsync(
            new ProcessSpec("openssl", ["dgst", "-sha256", "-verify", pub, "-signature", sig, pae])
        );
        Assert.True(result.ExitCode is 0 or 1, result.Output);
        Assert.Contains(result.ExitCode == 0 ? "Verified OK" : "Verification failure", result.Output);
        return result.ExitCode == 0;
    }

    [Fact]
    public async Task RefusedPrReady_IsNotAttested()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        await gate.PlanAsync();
        await gate.RefusedAsync();
        Assert.Null(await gate.Factory.Services.Attestations.ForRunAsync(gate.RunId));
    }

    [Fact]
    public async Task Attestation_StoredUnderAnotherRun_FailsVerification()
    {
        using var gate = await AcceptedAsync(Engine);
        var stored = (await gate.Factory.Services.Attestations.ForRunAsync(gate.RunId))!;
        var moved = stored with { RunId = gate.RunId + 1000, HeadSha = new string('a', 40) };
        var check = await gate.Factory.Services.Attestor.VerifyAsync(stored.Envelope, moved, null, default);
        Assert.False(check.Valid);
        Assert.Contains(check.Problems, p => p.Contains($"stored for run {gate.RunId + 1000}"));
    }
}

public sealed class AttestationTestsOnSqlite() : AttestationTests(LedgerEngine.Sqlite)
{
    [Fact]
    public async Task Cli_AttestVerify_ByRunAndHead_PublicKey_AndATamperedFileFails()
    {
        using var gate = await AcceptedAsync(LedgerEngine.Sqlite);
        var path = gate.Factory.Repo.Path;
        var run = await gate.Factory.Services.Runs.GetAsync(gate.RunId);

        var byRun = await FactoryBinary.RunAsync(
            path,
            ["attest", "verify", gate.RunId.ToString(CultureInfo.InvariantCulture)]
        );
        Assert.True(byRun.ExitCode == 0, byRun.Output);
        Assert.Contains($"Attestation verified: run {gate.RunId}, head {run.HeadSha}", byRun.StandardOutput);
        var byHead = await FactoryBinary.RunAsync(path, ["attest", "verify", run.HeadSha!]);
        Assert.True(byHead.ExitCode == 0, byHead.Output);

        var pem = await FactoryBinary.RunAsync(path, ["attest", "public-key"]);
        Assert.Equal(0, pem.ExitCode);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", pem.StandardOutput);
        var pub = Path.Combine(gate.Factory.Root, "public.pem");
        await File.WriteAllTextAsync(pub, pem.StandardOutput);

        var show = await FactoryBinary.RunAsync(
            path,
            ["attest", "show", gate.RunId.ToString(CultureInfo.InvariantCulture)]
        );
        var envelope = Dsse.Parse(show.StandardOutput.Trim());
        var file = Path.Combine(gate.Factory.Root, "envelope.json");
        await File.WriteAllTextAsync(file, show.StandardOutput);
        var fromFile = await FactoryBinary.RunAsync(path, ["attest", "verify", file, "--public-key", pub]);
        Assert.True(fromFile.ExitCode == 0, fromFile.Output);

        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(envelope.Payload));
        var forged = payload.Replace("\"agent\":\"builder-1\"", "\"agent\":\"builder-2\"", StringComparison.Ordinal);
        Assert.NotEqual(payload, forged);
        await File.WriteAllTextAsync(
            file,
            Dsse.ToJson(envelope with { Payload = Convert.ToBase64String(Encoding.UTF8.GetBytes(forged)) })
        );
        var tampered = await FactoryBinary.RunAsync(path, ["attest", "verify", file, "--public-key", pub]);
        Assert.Equal(1, tampered.ExitCode);
        Assert.Contains("changed after signing", tampered.StandardError);

        var none = await FactoryBinary.RunAsync(path, ["attest", "verify", "999"]);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("No attestation for run 999", none.StandardError);
    }
}

public sealed class AttestationTestsOnPostgreSql() : AttestationTests(LedgerEngine.PostgreSql);
