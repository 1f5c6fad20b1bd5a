using System.Data.Common;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Storage.PostgreSql;
using FactoryMcp.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace FactoryMcp.Tests.Ledger;

/// <summary>
/// The ledger's own row mapper and parameter binder (SqlCommands, which replaced Dapper) on a real SQLite file and
/// a real PostgreSQL database: every conversion the ledger relies on, both ways.
/// </summary>
public abstract class SqlMapperTests(LedgerEngine engine) : IAsyncLifetime
{
    private readonly TempDirectory dir = new();
    private string? url;
    private DbConnection connection = null!;

    private static readonly DateTimeOffset At = new(2026, 3, 4, 5, 6, 7, 890, TimeSpan.FromHours(2));

    public enum Color
    {
        Red = 1,
        Green = 2,
    }

    public sealed record Item
    {
        public required long Id { get; init; }
        public int N { get; init; }
        public double? R { get; init; }
        public string? T { get; init; }
        public bool Flag { get; init; }
        public DateTimeOffset? At { get; init; }
        public byte[]? Data { get; init; }
        public Color? Color { get; init; }
    }

    public sealed record Positional(string T, long Id, DateTimeOffset? At);

    public sealed record WithoutParameterless(long Id, string Missing);

    public async ValueTask InitializeAsync()
    {
        if (engine == LedgerEngine.PostgreSql)
        {
            url = await PostgresCluster.CreateDatabaseAsync();
            connection = new NpgsqlConnection(PostgresCluster.Admin(PostgresLocation.Parse(url).Database));
        }
        else
            connection = new SqliteConnection($"Data Source={dir.Combine("mapper.db")};Pooling=False");
        await connection.OpenAsync();
        await connection.ExecuteAsync(
            engine == LedgerEngine.PostgreSql
                ? "CREATE TABLE items (id bigint PRIMARY KEY, n bigint, r double precision, t text, flag boolean, at text, data bytea, small integer)"
                : "CREATE TABLE items (id INTEGER PRIMARY KEY, n INTEGER, r REAL, t TEXT, flag INTEGER, at TEXT, data BLOB, small INTEGER)"
        );
        await InsertAsync(1, 1, 1.5, "one", true, At, [1, 2, 3]);
        await InsertAsync(2, 2, null, "two", false, null, null);
        await InsertAsync(3, 3, 3.25, null, true, At.AddDays(1), []);
    }

    private Task<int> InsertAsync(long id, long n, double? r, string? t, bool flag, DateTimeOffset? at, byte[]? data) =>
        connection.ExecuteAsync(
            "INSERT INTO items (id, n, r, t, flag, at, data, small) VALUES (@id, @n, @r, @t, @flag, @at, @data, @n)",
            SqlArgs.Of(
                new
                {
                    id,
                    n,
                    r,
                    t,
                    flag,
                    at,
                    data,
                }
            )
        );

    public async ValueTask DisposeAsync()
    {
        await connection.DisposeAsync();
        if (url is not null)
            await PostgresCluster.DropDatabaseAsync(url);
        dir.Dispose();
    }

    [Fact]
    public async Task Scalars_AreConvertedToTheTypeAsked_AndNullGivesNullOrDefault()
    {
        Assert.Equal(3L, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM items"));
        Assert.Equal(3, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM items"));
        Assert.Equal([1L, 2L, 3L], await connection.QueryAsync<long>("SELECT id FROM items ORDER BY id"));
        Assert.Equal([1.5, null, 3.25], await connection.QueryAsync<double?>("SELECT r FROM items ORDER BY id"));
        // An integer column read as double, a real read as long (truncation is Convert's: to nearest).
        Assert.Equal(2.0, await connection.QuerySingleOrDefaultAsync<double>("SELECT n FROM items WHERE id = 2"));
        Assert.Equal([1, 2, 3], await connection.QueryAsync<int>("SELECT small FROM items ORDER BY id"));
        Assert.Equal(["one", "two", null], await connection.QueryAsync<string?>("SELECT t FROM items ORDER BY id"));
        Assert.Equal([true, false, true], await connection.QueryAsync<bool>("SELECT flag FROM items ORDER BY id"));
        Assert.Equal(
            [null, 2L, null],
            await connection.QueryAsync<long?>("SELECT CASE WHEN id = 2 THEN n END FROM items ORDER BY id")
        );
        Assert.Equal(0L, await connection.QuerySingleOrDefaultAsync<long>("SELECT r FROM items WHERE id = 2"));
        Assert.Equal(0L, await connection.QuerySingleOrDefaultAsync<long>("SELECT id FROM items WHERE id = 99"));
        Assert.Null(await connection.QuerySingleOrDefaultAsync<long?>("SELECT id FROM items WHERE id = 99"));
        Assert.Null(await connection.ExecuteScalarAsync<string>("SELECT t FROM items WHERE id = 3"));
        Assert.Equal(
            [At, null, At.AddDays(1)],
            await connection.QueryAsync<DateTimeOffset?>("SELECT at FROM items ORDER BY id")
        );
        Assert.Equal(
            At,
            await connection.QuerySingleOrDefaultAsync<DateTimeOffset>("SELECT at FROM items WHERE id = 1")
        );
        Assert.Equal(
            [Color.Red, Color.Green],
            await connection.QueryAsync<Color>("SELECT n FROM items WHERE id < 3 ORDER BY id")
        );
        Assert.Equal(
            [1, 2, 3],
            await connection.QuerySingleOrDefaultAsync<byte[]>("SELECT data FROM items WHERE id = 1")
        );
        var guid = Guid.NewGuid();
        Assert.Equal(
            guid,
            await connection.ExecuteScalarAsync<Guid>("SELECT @g", SqlArgs.Of(new { g = guid.ToString() }))
        );
    }

    [Fact]
    public async Task Parameters_DatesBindAsTheLedgersIsoText_NullsAndEnumsBind_AndOnlyTheNamedOnesAreBound()
    {
        Assert.Equal(Iso.Text(At), await connection.ExecuteScalarAsync<string>("SELECT at FROM items WHERE id = 1"));
        Assert.Equal(
            1L,
            await connection.ExecuteScalarAsync<long>(
                "SELECT id FROM items WHERE at = @at",
                SqlArgs.Of(new { at = (DateTimeOffset?)At, unused = "not in the statement" })
            )
        );
        Assert.Equal(
            2L,
            await connection.ExecuteScalarAsync<long>(
                "SELECT id FROM items WHERE n = @color",
                SqlArgs.Of(new { color = Color.Green })
            )
        );
        Assert.Equal(
            [2L],
            await connection.QueryAsync<long>(
                "SELECT id FROM items WHERE at IS NULL AND (@since IS NULL OR at >= @since)",
                SqlArgs.Of(new { since = (string?)null })
            )
        );
        Assert.Equal(
            1,
            await connection.ExecuteAsync(
                "UPDATE items SET t = @t WHERE id = @id",
                SqlArgs.Named(("t", "renamed"), ("id", 2L))
            )
        );
        Assert.Equal("renamed", await connection.ExecuteScalarAsync<string>("SELECT t FROM items WHERE id = 2"));
    }

    [Fact]
    public async Task Records_ByProperties_WithANullAndANonNullDate_IgnoringColumnsTheyDoNotHave()
    {
        var items = await connection.QueryAsync<Item>(
            "SELECT id AS Id, n AS N, r AS R, t AS T, flag AS Flag, at AS At, data AS Data, n AS Color, 'x' AS Unknown FROM items ORDER BY id"
        );
        Assert.Equal(3, items.Count);
        Assert.Equal(1, items[0].N);
        Assert.Equal(1.5, items[0].R);
        Assert.Equal("one", items[0].T);
        Assert.True(items[0].Flag);
        Assert.Equal(At, items[0].At);
        Assert.Equal([1, 2, 3], items[0].Data);
        Assert.Equal(Color.Red, items[0].Color);
        Assert.Null(items[1].R);
        Assert.False(items[1].Flag);
        Assert.Null(items[1].At);
        Assert.Null(items[1].Data);
        Assert.Equal(Color.Green, items[1].Color);
        Assert.Null(items[2].T);
        Assert.Equal(At.AddDays(1), items[2].At);
        // A property without a column keeps its default.
        var partial = await connection.QuerySingleOrDefaultAsync<Item>("SELECT id AS Id FROM items WHERE id = 3");
        Assert.Equal(new Item { Id = 3 }, partial);
    }

    [Fact]
    public async Task Records_ByConstructor_MatchColumnsByName_InAnyOrder()
    {
        var rows = await connection.QueryAsync<Positional>(
            "SELECT at AS at, 'ignored' AS Extra, id AS ID, t AS t FROM items ORDER BY id"
        );
        Assert.Equal(
            [new Positional("one", 1, At), new Positional("two", 2, null), new Positional(null!, 3, At.AddDays(1))],
            rows
        );
    }

    [Fact]
    public async Task AConstructorParameterWithoutAColumn_IsAClearError_NamingTheTypeAndTheColumn()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            connection.QueryAsync<WithoutParameterless>("SELECT id AS Id, t AS Other FROM items")
        );
        Assert.Contains(nameof(WithoutParameterless), e.Message);
        Assert.Contains("Missing", e.Message);
        Assert.Contains("id, other", e.Message.ToLowerInvariant()); // the columns the query has
    }

    [Fact]
    public async Task Tuples_AreFilledByPosition_WhateverTheColumnsAreNamed()
    {
        var rows = await connection.QueryAsync<(string State, long Count)>(
            engine == LedgerEngine.PostgreSql
                ? "SELECT CASE WHEN flag THEN 'on' ELSE 'off' END, count(*) FROM items GROUP BY 1 ORDER BY 1"
                : "SELECT CASE WHEN flag = 1 THEN 'on' ELSE 'off' END, count(*) FROM items GROUP BY 1 ORDER BY 1"
        );
        Assert.Equal([("off", 1L), ("on", 2L)], rows);
        var missing = await connection.QuerySingleOrDefaultAsync<(string? T, long Id)>(
            "SELECT t, id FROM items WHERE id = 99"
        );
        Assert.Null(missing.T);
        var three = await connection.QuerySingleOrDefaultAsync<(string? T, DateTimeOffset? At, double R)>(
            "SELECT t, at, r FROM items WHERE id = 3"
        );
        Assert.Equal(((string?)null, (DateTimeOffset?)At.AddDays(1), 3.25), three);
    }

    [Theory]
    [InlineData(new long[0])]
    [InlineData(new long[] { 2 })]
    [InlineData(new long[] { 1, 3, 99 })]
    public async Task ListParameters_MatchEachId_AndNoIdsMatchesNothing(long[] ids)
    {
        var sql =
            engine == LedgerEngine.PostgreSql
                ? "SELECT id FROM items WHERE id = ANY(@ids) ORDER BY id"
                : "SELECT id FROM items WHERE id IN @ids ORDER BY id";
        var expected = ids.Where(i => i <= 3).Order().ToArray();
        Assert.Equal(expected, await connection.QueryAsync<long>(sql, SqlArgs.Of(new { ids })));
        Assert.Equal(expected, await connection.QueryAsync<long>(sql, SqlArgs.Of(new { ids = ids.ToList() })));
        // NOT IN an empty list holds for every row, as with Dapper.
        if (engine == LedgerEngine.Sqlite)
            Assert.Equal(
                3 - expected.Length,
                (
                    await connection.QueryAsync<long>(
                        "SELECT id FROM items WHERE id NOT IN @ids",
                        SqlArgs.Of(new { ids })
                    )
                ).Count
            );
    }

    [Fact]
    public async Task SingleOrDefault_RefusesTwoRows_AndExecuteCountsTheRowsChanged()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            connection.QuerySingleOrDefaultAsync<long>("SELECT id FROM items")
        );
        Assert.Equal(
            2,
            await connection.ExecuteAsync("UPDATE items SET t = 'x' WHERE id >= @from", SqlArgs.Of(new { from = 2L }))
        );
        var unbuffered = new List<long>();
        await foreach (var id in connection.QueryUnbufferedAsync<long>("SELECT id FROM items ORDER BY id"))
            unbuffered.Add(id);
        Assert.Equal([1L, 2L, 3L], unbuffered);
    }
}

public sealed class SqlMapperTestsOnSqlite() : SqlMapperTests(LedgerEngine.Sqlite);

public sealed class SqlMapperTestsOnPostgreSql() : SqlMapperTests(LedgerEngine.PostgreSql);
