using System.Globalization;
using System.Text;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Signals;
using FactoryMcp.Tools.Telemetry;
using FactoryMcp.Tools.Telemetry.Otlp;

namespace FactoryMcp.Tests.Telemetry;

/// <summary>Production error spans and logs (OTLP/JSON) becoming grouped, counted signals in a real ledger. On both engines.</summary>
public abstract class ProductionErrorTests(LedgerEngine engine) : EngineTests(engine)
{
    private const string Lines = """
        incidents:
          intake: otlp
          auto_approve: true
          template: |
            # Fix: {{title}}

            ## Intent
            {{body}}

            ## Scope
            - src/

            ## Validation
            - `test -f src/app.txt`

            ## Evidence Required
            - plan
        """;

    /// <summary>An export of error spans of the checkout service, one per (trace, order id) given.</summary>
    private static byte[] Spans(IEnumerable<(string Trace, long Order)> errors, string route = "/orders/{id}") =>
        Encoding.UTF8.GetBytes(
            "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"checkout\"}}]},"
                + "\"scopeSpans\":[{\"spans\":["
                + string.Join(
                    ",",
                    errors.Select(e =>
                        string.Create(
                            CultureInfo.InvariantCulture,
                            $$$"""
                            {"traceId":"{{{e.Trace}}}","spanId":"00f067aa0ba902b7","name":"GET {{{route}}}","kind":2,
                             "startTimeUnixNano":"1764600000000000000","endTimeUnixNano":"1764600000100000000",
                             "attributes":[{"key":"http.route","value":{"stringValue":"{{{route}}}"}}],
                             "events":[{"name":"exception","timeUnixNano":"1764600000050000000","attributes":[
                               {"key":"exception.type","value":{"stringValue":"System.InvalidOperationException"}},
                               {"key":"exception.message","value":{"stringValue":"Order {{{e.Order}}} of customer 'cust-{{{e.Order}}}' not found (request 3f2a9c1e-7b4d-4e8a-9c1f-{{{e.Order:D12}}}, 0x{{{e.Order:x}}})"}},
                               {"key":"exception.stacktrace","value":{"stringValue":"at Checkout.Orders.Get(Int64 id)\n   at Checkout.Api.Handle()"}}]}],
                             "status":{"code":2,"message":"boom"}}
                            """
                        )
                    )
                )
                + "]}]}]}"
        );

    private static string Trace(long i) => i.ToString("x32", CultureInfo.InvariantCulture);

    private static OtlpIntake Intake(TestFactory factory) =>
        new(
            new UsageLedger(factory.Services.Db),
            new ProductionErrors(
                new ErrorGroupLedger(factory.Services.Db),
                factory.Services.Signals,
                factory.Services.Tasks,
                factory.Services.SignalIntake,
                factory.Services.Config
            )
        );

    private static Task<OtlpIntake.Outcome> SendAsync(TestFactory factory, OtlpSignal signal, byte[] json) =>
        Intake(factory).AcceptAsync(signal, OtlpJson.Decode(signal, json, 10_000), runScope: null);

    [Fact]
    public async Task ABurstOfTenThousandIdenticalErrors_MakesOneSignalWithACount_DraftedButNeverAutoApproved()
    {
        using var factory = await CreateFactoryAsync(Lines);

        for (var batch = 0; batch < 5; batch++)
        {
            var outcome = await SendAsync(
                factory,
                OtlpSignal.Traces,
                Spans(Enumerable.Range(batch * 2000, 2000).Select(i => (Trace(i + 1), (long)i * 7919)))
            );
            Assert.Equal((2000, 0), (outcome.Accepted, outcome.Rejected));
        }

        var group = Assert.Single(await new ErrorGroupLedger(factory.Services.Db).ListAsync());
        Assert.Equal(10_000, group.Count);
        Assert.Equal(
            ("checkout", "System.InvalidOperationException", "/orders/{id}"),
            (group.Service, group.ExceptionType, group.Route)
        );
        Assert.Equal("Order <n> of customer <str> not found (request <uuid>, <hex>)", group.Message);
        Assert.Equal(
            [Trace(1), Trace(2), Trace(3), Trace(4), Trace(5)],
            FactoryMcp.Ledger.Json.Deserialize<List<string>>(group.Exemplars)
        );
        var signal = Assert.Single(await factory.Services.Signals.ListAsync(null));
        Assert.Equal(
            (SignalKeys.Otlp, group.Fingerprint, group.SignalId),
            (signal.Source, signal.ExternalId, (long?)signal.Id)
        );
        Assert.Equal(SignalStatuses.Proposed, signal.Status);
        Assert.Contains("production errors (OTLP intake) always wait for a human", signal.StatusReason);
        var task = await factory.Services.Tasks.FindBySignalAsync(signal.Id);
        Assert.Equal((TaskStates.Proposed, "incidents"), (task!.State, task.Line));
    }

    [Fact]
    public async Task ErrorsOfAnotherRouteOrService_AreOtherGroups_AndARecurrenceAfterDismissalRaisesANewSignal()
    {
        using var factory = await CreateFactoryAsync(Lines);
        await SendAsync(factory, OtlpSignal.Traces, Spans([(Trace(1), 1)]));
        await SendAsync(factory, OtlpSignal.Traces, Spans([(Trace(2), 2)], route: "/carts/{id}"));
        var logs = Encoding.UTF8.GetBytes(
            """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"billing"}}]},
              "scopeLogs":[{"logRecords":[
                {"severityNumber":17,"severityText":"ERROR","body":{"stringValue":"Invoice 42 could not be rendered"},
                 "traceId":"4bf92f3577b34da6a3ce929d0e0e4736"},
                {"severityNumber":9,"severityText":"INFO","body":{"stringValue":"Invoice 43 rendered"}},
                {"severityNumber":17,"body":{"stringValue":"Invoice 44 could not be rendered"}}]}]}]}
            """
        );
        var outcome = await SendAsync(factory, OtlpSignal.Logs, logs);
        Assert.Equal((3, 0), (outcome.Accepted, outcome.Rejected));

        var groups = await new ErrorGroupLedger(factory.Services.Db).ListAsync();
        Assert.Equal(3, groups.Count);
        var billing = Assert.Single(groups, g => g.Service == "billing");
        Assert.Equal(
            (2, "log", "Invoice <n> could not be rendered"),
            (billing.Count, billing.ExceptionType, billing.Message)
        );
        Assert.Equal(
            ["4bf92f3577b34da6a3ce929d0e0e4736"],
            FactoryMcp.Ledger.Json.Deserialize<List<string>>(billing.Exemplars)
        );
        Assert.Equal(3, (await factory.Services.Signals.ListAsync(null)).Count);

        // The first group's signal is dismissed (its task rejected by a human): the error coming back is news.
        var first = Assert.Single(groups, g => g.Route == "/orders/{id}");
        var task = await factory.Services.Tasks.FindBySignalAsync(first.SignalId!.Value);
        await factory.Services.Tasks.RejectAsync(TestFactory.Human, task!.Id, "not now");
        await SendAsync(factory, OtlpSignal.Traces, Spans([(Trace(3), 3)]));
        var again = await factory.Services.Signals.FindAsync(SignalKeys.Otlp, first.Fingerprint + "#2");
        Assert.NotNull(again);
        Assert.Equal(4, (await factory.Services.Signals.ListAsync(null)).Count);
        Assert.Equal(
            2,
            (await new ErrorGroupLedger(factory.Services.Db).ListAsync())
                .Single(g => g.Fingerprint == first.Fingerprint)
                .Count
        );
    }

    [Fact]
    public async Task WithoutIntakeOtlp_ErrorsAreRefusedAndCounted_AndNothingIsRecorded()
    {
        using var factory = await CreateFactoryAsync();

        var outcome = await SendAsync(factory, OtlpSignal.Traces, Spans([(Trace(1), 1), (Trace(2), 2)]));

        Assert.Equal((0, 2), (outcome.Accepted, outcome.Rejected));
        Assert.Contains("set `intake: otlp` in factory.yaml or on a line", outcome.Message);
        Assert.Empty(await new ErrorGroupLedger(factory.Services.Db).ListAsync());
        Assert.Empty(await factory.Services.Signals.ListAsync(null));
    }

    [Fact]
    public void Normalise_StripsNumbersHexUuidsAndQuotedValues_KeepsWords()
    {
        Assert.Equal(
            "Timeout after <n> ms calling <str> for <uuid> at <hex> (<hex>) deadbeefcafe-free words",
            ErrorFingerprint.Normalise(
                "Timeout  after 1,500.25 ms calling \"payments\" for 3F2A9C1E-7B4D-4E8A-9C1F-00000000002A at 0xDEADBEEF (a1b2c3d4e5) deadbeefcafe-free words"
            )
        );
    }
}

public sealed class ProductionErrorTestsOnSqlite() : ProductionErrorTests(LedgerEngine.Sqlite);

public sealed class ProductionErrorTestsOnPostgreSql() : ProductionErrorTests(LedgerEngine.PostgreSql);
