using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Telemetry;

/// <summary>Occurrences of one production error fingerprint in one OTLP export, folded together.</summary>
public sealed record ErrorOccurrences(
    string Fingerprint,
    string Service,
    string ExceptionType,
    string Message,
    string Route,
    string Sample,
    long Count,
    IReadOnlyList<string> TraceIds
);

public sealed record ErrorGroupRow
{
    public required string Fingerprint { get; init; }
    public required string Service { get; init; }
    public required string ExceptionType { get; init; }
    public required string Message { get; init; }
    public required string Route { get; init; }
    public required string Sample { get; init; }
    public required long Count { get; init; }
    public required string Exemplars { get; init; }
    public required DateTimeOffset FirstSeen { get; init; }
    public required DateTimeOffset LastSeen { get; init; }
    public long? SignalId { get; init; }
}

/// <summary>
/// Production errors grouped by fingerprint (migration 0014, README "Telemetry"): counted, up to
/// <see cref="MaxExemplars"/> exemplar trace ids, first and last seen on the ledger's clock, and the signal the
/// group raised. Many exports of one error are one row whose count grows.
/// </summary>
public sealed class ErrorGroupLedger(LedgerDatabase db)
{
    public const int MaxExemplars = 5;

    private const string Columns = """
        fingerprint AS Fingerprint, service AS Service, exception_type AS ExceptionType, message AS Message,
        route AS Route, sample AS Sample, count AS Count, exemplars AS Exemplars, first_seen AS FirstSeen,
        last_seen AS LastSeen, signal_id AS SignalId
        """;

    /// <summary>Adds the occurrences (one transaction) and returns each group as it now stands.</summary>
    public Task<IReadOnlyList<ErrorGroupRow>> RecordAsync(
        IReadOnlyList<ErrorOccurrences> batch,
        CancellationToken ct = default
    )
    {
        const string find = $"SELECT {Columns} FROM error_groups WHERE fingerprint = @Fingerprint";
        const string insert = """
            INSERT INTO error_groups (fingerprint, service, exception_type, message, route, sample, count, exemplars,
                first_seen, last_seen)
            VALUES (@Fingerprint, @Service, @ExceptionType, @Message, @Route, @Sample, @Count, @Exemplars, @Now, @Now)
            ON CONFLICT (fingerprint) DO NOTHING
            """;
        const string update = """
            UPDATE error_groups SET count = count + @Count, exemplars = @Exemplars, last_seen = @Now
            WHERE fingerprint = @Fingerprint
            """;
        return db.WriteAsync<IReadOnlyList<ErrorGroupRow>>(
            "otlp",
            async w =>
            {
                var rows = new List<ErrorGroupRow>();
                foreach (var o in batch)
                {
                    var known = await w.SingleOrDefaultAsync<ErrorGroupRow>(find, SqlArgs.Of(new { o.Fingerprint }));
                    var exemplars = Json.Strings(
                        (known is null ? [] : Json.ReadStrings(known.Exemplars))
                            .Concat(o.TraceIds)
                            .Where(t => t.Length > 0)
                            .Distinct()
                            .Take(MaxExemplars)
                            .ToList()
                    );
                    var parameters = SqlArgs.Of(
                        new
                        {
                            o.Fingerprint,
                            o.Service,
                            o.ExceptionType,
                            o.Message,
                            o.Route,
                            o.Sample,
                            o.Count,
                            Exemplars = exemplars,
                            Now = w.NowText,
                        }
                    );
                    await w.ExecuteAsync(known is null ? insert : update, parameters);
                    rows.Add((await w.SingleOrDefaultAsync<ErrorGroupRow>(find, SqlArgs.Of(new { o.Fingerprint })))!);
                }
                return rows;
            },
            ct
        );
    }

    public Task LinkSignalAsync(string fingerprint, long signalId, CancellationToken ct = default) =>
        db.WriteAsync(
            "otlp",
            w =>
                w.ExecuteAsync(
                    "UPDATE error_groups SET signal_id = @signalId WHERE fingerprint = @fingerprint",
                    SqlArgs.Of(new { fingerprint, signalId })
                ),
            ct
        );

    public async Task<IReadOnlyList<ErrorGroupRow>> ListAsync(CancellationToken ct = default) =>
        [.. await db.QueryAsync<ErrorGroupRow>($"SELECT {Columns} FROM error_groups ORDER BY last_seen DESC", ct: ct)];
}
