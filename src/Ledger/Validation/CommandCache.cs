using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Validation;

/// <summary>
/// Validation results cached per (commit, command, environment) (DESIGN section 5), so a repeat of the
/// same check on the same tree does not run it again. Derived data, not a transition: no audit record.
/// </summary>
public sealed class CommandCache(LedgerDatabase db)
{
    public Task<CachedCommand?> FindAsync(
        string subject,
        string command,
        string environment,
        CancellationToken ct = default
    ) =>
        db.QuerySingleOrDefaultAsync<CachedCommand>(
            """
            SELECT subject AS Subject, command AS Command, environment AS Environment, exit_code AS ExitCode, duration_ms AS DurationMs,
                   sandboxed AS Sandboxed, output AS Output, blob_sha AS BlobSha
            FROM validation_cache WHERE subject = @subject AND command = @command AND environment = @environment
            """,
            SqlArgs.Of(
                new
                {
                    subject,
                    command,
                    environment,
                }
            ),
            ct
        );

    public Task StoreAsync(CachedCommand result, CancellationToken ct = default) =>
        db.WriteAsync(
            "server:cache",
            w =>
                w.ExecuteAsync(
                    """
                    INSERT INTO validation_cache (subject, command, environment, exit_code, duration_ms, sandboxed, output, blob_sha, created_at)
                    VALUES (@Subject, @Command, @Environment, @ExitCode, @DurationMs, @Sandboxed, @Output, @BlobSha, @now)
                    ON CONFLICT (subject, command, environment) DO UPDATE SET
                        exit_code = excluded.exit_code, duration_ms = excluded.duration_ms, sandboxed = excluded.sandboxed,
                        output = excluded.output, blob_sha = excluded.blob_sha, created_at = excluded.created_at
                    """,
                    SqlArgs.Of(
                        new
                        {
                            result.Subject,
                            result.Command,
                            result.Environment,
                            result.ExitCode,
                            result.DurationMs,
                            // An integer column on both engines (PostgreSQL refuses a boolean for it).
                            Sandboxed = result.Sandboxed ? 1 : 0,
                            result.Output,
                            result.BlobSha,
                            now = w.NowText,
                        }
                    )
                ),
            ct
        );
}
