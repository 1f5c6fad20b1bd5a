using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Audit;

/// <summary>The outcome of <c>factory ledger verify</c>: the first bad record (if any) and every problem found.</summary>
public sealed record AuditReport(long Records, long? FirstBadSeq, IReadOnlyList<string> Problems)
{
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Checks the audit chain end to end: contiguous sequence, each HMAC over the previous one and the
/// record's canonical body, the columns matching the body, the head file outside the database, and
/// every task's and run's state matching its last audited state, and every row of every audited table matching the
/// digest its last audit record holds (a row edited, inserted or deleted behind the factory's back).
/// </summary>
public static class AuditVerifier
{
    private sealed record Row
    {
        public required long Seq { get; init; }
        public required string At { get; init; }
        public required string Actor { get; init; }
        public required string Action { get; init; }
        public required string Entity { get; init; }
        public long? EntityId { get; init; }
        public required string Body { get; init; }
        public required string PrevHmac { get; init; }
        public required string Hmac { get; init; }
    }

    public static async Task<AuditReport> VerifyAsync(LedgerDatabase db)
    {
        var problems = new List<string>();
        long? firstBad = null;
        void Bad(long seq, string problem)
        {
            firstBad ??= seq;
            problems.Add($"record {seq}: {problem}");
        }

        var lastState = new Dictionary<(string, long), string>();
        var lastRows = new Dictionary<string, (string? Digest, long Seq)>(StringComparer.Ordinal);
        var previous = AuditChain.Genesis;
        long expected = 1,
            count = 0;
        await using (var connection = db.Connect())
        {
            var rows = connection.QueryUnbufferedAsync<Row>(
                """
                SELECT seq AS Seq, at AS At, actor AS Actor, action AS Action, entity AS Entity, entity_id AS EntityId,
                       body AS Body, prev_hmac AS PrevHmac, hmac AS Hmac
                FROM audit ORDER BY seq
                """
            );
            await foreach (var row in rows)
            {
                count++;
                if (row.Seq != expected)
                    Bad(
                        expected,
                        $"missing: the sequence jumps from {expected - 1} to {row.Seq} (records were deleted)"
                    );
                expected = row.Seq + 1;
                if (row.PrevHmac != previous)
                    Bad(
                        row.Seq,
                        "its link to the previous record is broken (a record before it was changed, deleted or inserted)"
                    );
                if (db.Audit.Sign(row.PrevHmac, row.Body) != row.Hmac)
                    Bad(row.Seq, "its HMAC does not match its content (the record was edited)");
                JsonObject? body = null;
                try
                {
                    body = JsonNode.Parse(row.Body) as JsonObject;
                }
                catch (System.Text.Json.JsonException) { }
                if (
                    body is null
                    || (long?)body["seq"] != row.Seq
                    || (string?)body["actor"] != row.Actor
                    || (string?)body["action"] != row.Action
                    || (string?)body["entity"] != row.Entity
                    || (long?)body["entity_id"] != row.EntityId
                    || (string?)body["at"] != row.At
                )
                    Bad(row.Seq, "its columns disagree with its signed body (the record was edited)");
                if (
                    body?["change"]?["state"] is JsonValue state
                    && state.TryGetValue<string>(out var s)
                    && row.EntityId is { } id
                )
                    lastState[(row.Entity, id)] = s;
                if (body?["rows"] is JsonObject touched)
                    foreach (var (name, digest) in touched)
                        lastRows[name] = (
                            digest is JsonValue v && v.TryGetValue<string>(out var d) ? d : null,
                            row.Seq
                        );
                previous = row.Hmac;
            }
        }

        var head = db.Audit.ReadHead();
        if (head is null)
            problems.Add($"the chain head file {db.Paths.AuditHead} is missing or unreadable");
        else if (head.Seq > count)
        {
            firstBad ??= count + 1;
            problems.Add(
                $"the chain head file records {head.Seq} records but the ledger holds {count}: records at the end were deleted (truncation)"
            );
        }
        else if (head.Seq > 0)
        {
            var atHead = await db.QuerySingleOrDefaultAsync<string>(
                "SELECT hmac FROM audit WHERE seq = @seq",
                SqlArgs.Of(new { seq = head.Seq })
            );
            if (atHead != head.Hmac)
                Bad(head.Seq, "it does not match the chain head kept outside the database (the chain was rewritten)");
        }

        foreach (var (entity, table) in new[] { ("task", "tasks"), ("run", "runs") })
        {
            var rows = await db.QueryAsync<(long Id, string State)>($"SELECT id, state FROM {table} ORDER BY id");
            foreach (var (id, state) in rows)
            {
                if (!lastState.TryGetValue((entity, id), out var audited))
                    problems.Add($"{entity} {id} has no audit record (it was inserted behind the factory's back)");
                else if (audited != state)
                    problems.Add(
                        $"{entity} {id} is '{state}' but its last audited state is '{audited}' (the row was edited behind the factory's back)"
                    );
            }
        }
        problems.AddRange(await CheckRowsAsync(db, lastRows));
        return new AuditReport(count, firstBad, problems);
    }

    /// <summary>
    /// Every row of every audited table against the digest its last audit record holds: a row changed, inserted or
    /// deleted outside the factory's writes is named by table and key, first one first.
    /// </summary>
    private static async Task<List<string>> CheckRowsAsync(
        LedgerDatabase db,
        Dictionary<string, (string? Digest, long Seq)> audited
    )
    {
        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        await using var connection = db.OpenConnection();
        foreach (var table in AuditedTables.All)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT * FROM {table.Name}";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var (name, digest) = AuditedTables.Read(table, reader);
                seen.Add(name);
                if (!audited.TryGetValue(name, out var last) || last.Digest is null)
                    problems.Add(
                        $"row {name} has no audit record (it was inserted, or re-inserted after its deletion, behind the factory's back)"
                    );
                else if (last.Digest != digest)
                    problems.Add(
                        $"row {name} differs from its content when audit record {last.Seq} committed to it (the row was edited behind the factory's back)"
                    );
            }
        }
        foreach (var (name, last) in audited.OrderBy(a => a.Value.Seq))
            if (last.Digest is not null && !seen.Contains(name))
                problems.Add(
                    $"row {name} is missing: audit record {last.Seq} committed to it and no record deleted it (the row was deleted behind the factory's back)"
                );
        return problems;
    }
}
