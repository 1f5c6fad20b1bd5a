using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Attestations;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tools.Attestation;

/// <summary>What `factory attest verify` found: valid or not, and every reason it is not.</summary>
public sealed record AttestationCheck(
    bool Valid,
    IReadOnlyList<string> Problems,
    string? KeyId,
    long? RunId,
    string? Head,
    string? Statement
);

/// <summary>
/// Signs an in-toto Statement for every accepted PR_READY (README, "Attestations") and checks them. The key is read
/// from outside the ledger on each use, so a rotated or restored key file takes effect without a restart.
/// </summary>
public sealed class Attestor(
    AttestationLedger attestations,
    RunLedger runs,
    TaskLedger tasks,
    ConfigFiles config,
    LedgerPaths paths,
    TimeProvider time
)
{
    public string KeyPath =>
        config.Settings.AttestationKey is { } configured
            ? Path.GetFullPath(configured.Trim(), paths.Folder)
            : paths.AttestationKey;

    /// <summary>Signs and stores the attestation of an accepted run (once per run).</summary>
    public async Task<AttestationRow> AttestAsync(long runId, string head, GateFacts facts, CancellationToken ct)
    {
        var run = await runs.GetAsync(runId, ct);
        var task = await tasks.GetAsync(run.TaskId, ct);
        var packet = await tasks.GetPacketAsync(task.Id, run.PacketVersion, ct);
        var statement = GateStatement.Build(run, task, packet.Markdown, head, facts, time.GetUtcNow());
        using var key = AttestationKey.LoadOrCreate(KeyPath);
        var envelope = Dsse.ToJson(Dsse.Sign(statement, key));
        await attestations.StoreAsync(runId, head, key.KeyId, envelope, ct);
        return (await attestations.ForRunAsync(runId, ct))!;
    }

    /// <summary>
    /// The stored attestation of a run id (digits), or of a head commit (40 hex digits: the newest run's), or null.
    /// </summary>
    public async Task<AttestationRow?> FindAsync(string target, CancellationToken ct)
    {
        target = target.Trim();
        if (target.Length < 19 && target.All(char.IsAsciiDigit))
            return await attestations.ForRunAsync(
                long.Parse(target, System.Globalization.CultureInfo.InvariantCulture),
                ct
            );
        if (CommitSha.IsFull(target))
            return (await attestations.ForHeadAsync(target.ToLowerInvariant(), ct)).FirstOrDefault();
        throw new LedgerException(
            $"'{target}' is neither a run id nor a full commit SHA (40 hex digits), nor an envelope file that exists."
        );
    }

    /// <summary>
    /// Checks an envelope: the signature over its PAE by <paramref name="publicKeyPem"/> (default: this factory's key),
    /// an in-toto Statement v1 of the gate predicate, and — for a stored one — that it names the run and head it is
    /// stored under and the ledger's head of that run.
    /// </summary>
    public async Task<AttestationCheck> VerifyAsync(
        string envelopeJson,
        AttestationRow? stored,
        string? publicKeyPem,
        CancellationToken ct
    )
    {
        var problems = new List<string>();
        DsseEnvelope envelope;
        try
        {
            envelope = Dsse.Parse(envelopeJson);
        }
        catch (FormatException e)
        {
            return new AttestationCheck(
                false,
                [$"the envelope is {e.Message}"],
                null,
                stored?.RunId,
                stored?.HeadSha,
                null
            );
        }
        using var ownKey = publicKeyPem is null ? AttestationKey.Load(KeyPath) : null;
        using var publicKey = AttestationKey.ImportPublic(publicKeyPem ?? ownKey!.PublicPem);
        var keyId = AttestationKey.KeyIdOf(publicKey);
        if (envelope.PayloadType != Dsse.InTotoPayloadType)
            problems.Add($"payloadType is '{envelope.PayloadType}', not {Dsse.InTotoPayloadType}");
        if (!Dsse.Verify(envelope, publicKey, out var payload))
        {
            problems.Add(
                envelope.Signatures.Any(s => s.KeyId == keyId)
                    ? "the signature does not verify: the envelope was changed after signing"
                    : $"no signature by key {keyId} (signed by: {string.Join(", ", envelope.Signatures.Select(s => s.KeyId))}); verify with that key's public PEM"
            );
            return new AttestationCheck(false, problems, keyId, stored?.RunId, stored?.HeadSha, null);
        }
        var text = Encoding.UTF8.GetString(payload);
        var (runId, head) = ReadStatement(text, problems);
        if (stored is not null)
        {
            if (runId != stored.RunId)
                problems.Add($"the statement names run {runId}, but it is stored for run {stored.RunId}");
            else if (head != stored.HeadSha)
                problems.Add($"the statement's subject is {head}, but it is stored for head {stored.HeadSha}");
            else if ((await runs.GetAsync(stored.RunId, ct)).HeadSha is var ledgerHead && ledgerHead != head)
                problems.Add($"the ledger's head of run {stored.RunId} is {ledgerHead ?? "none"}, not {head}");
        }
        return new AttestationCheck(problems.Count == 0, problems, keyId, runId, head, text);
    }

    private static (long? RunId, string? Head) ReadStatement(string text, List<string> problems)
    {
        try
        {
            var statement = JsonNode.Parse(text)!.AsObject();
            if ((string?)statement["_type"] != GateStatement.StatementType)
                problems.Add($"_type is not {GateStatement.StatementType}");
            if ((string?)statement["predicateType"] != GateStatement.PredicateType)
                problems.Add($"predicateType is not {GateStatement.PredicateType}");
            var head = (string?)statement["subject"]?[0]?["digest"]?["gitCommit"];
            if (head is null || !CommitSha.IsFull(head))
                problems.Add("the subject has no gitCommit digest");
            return ((long?)statement["predicate"]?["run"]?["id"], head);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            problems.Add($"the payload is not an in-toto Statement: {e.Message}");
            return (null, null);
        }
    }
}
