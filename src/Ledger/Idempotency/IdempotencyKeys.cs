using System.Security.Cryptography;
using System.Text;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Audit;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Idempotency;

/// <summary>
/// Idempotency keys scoped per (caller, tool). A repeat with the same arguments returns the first
/// result; a reused key with other arguments is refused. Refusals throw, roll back, and are never cached.
/// </summary>
public static class IdempotencyKeys
{
    public static string HashArguments<T>(T arguments, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        Convert
            .ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson.Serialize(arguments, type))))
            .ToLowerInvariant();

    /// <summary>The stored result for this key, or null when the key is new. Call inside the operation's write.</summary>
    public static async Task<T?> FindAsync<T>(
        LedgerWrite w,
        Caller caller,
        string tool,
        string key,
        string argsHash,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type
    )
        where T : class
    {
        RequireValid(key);
        var found = await w.SingleOrDefaultAsync<StoredResult>(
            "SELECT args_hash AS ArgsHash, result_json AS ResultJson FROM idempotency WHERE caller = @caller AND tool = @tool AND key = @key",
            SqlArgs.Of(
                new
                {
                    caller = caller.Actor,
                    tool,
                    key,
                }
            )
        );
        if (found is null)
            return null;
        if (found.ArgsHash != argsHash)
            throw new LedgerException(
                $"idempotency_key '{key}' was already used for {tool} with different arguments; nothing was changed. Use a new key for a new request."
            );
        return Json.Deserialize(found.ResultJson, type);
    }

    public static async Task StoreAsync<T>(
        LedgerWrite w,
        Caller caller,
        string tool,
        string key,
        string argsHash,
        T result,
        System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type
    )
    {
        await w.ExecuteAsync(
            """
            INSERT INTO idempotency (caller, tool, key, args_hash, result_json, created_at) VALUES (@caller, @tool, @key, @argsHash, @result, @now)
            """,
            SqlArgs.Of(
                new
                {
                    caller = caller.Actor,
                    tool,
                    key,
                    argsHash,
                    result = Json.Serialize(result, type),
                    now = w.NowText,
                }
            )
        );
    }

    private static void RequireValid(string key)
    {
        if (key.Length is 0 or > 200)
            throw new LedgerException("idempotency_key must be 1 to 200 characters.");
    }

    private sealed record StoredResult
    {
        public required string ArgsHash { get; init; }
        public required string ResultJson { get; init; }
    }
}
