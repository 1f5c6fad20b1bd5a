using System.Text;
using FactoryMcp.Ledger.Fleet;
using FactoryMcp.Server.Cli;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace FactoryMcp.Server.Dashboard;

internal sealed partial class DashboardEndpoints
{
    private void MapFleet(IEndpointRouteBuilder routes) =>
        routes.MapGet("/fleet", (Delegate)((HttpContext c) => Read(c, FleetAsync)));

    /// <summary>The fleet page: what `factory fleet` prints, every process and every line's queue.</summary>
    private async Task<IResult> FleetAsync(HumanSession session)
    {
        var view = await factory.Fleet.ViewAsync();
        var body = new StringBuilder(
            $"<p class=\"note\">Every replica (<code>factory serve --http</code>, <code>factory up</code>) and worker (<code>factory worker</code>) on this ledger, as of the ledger's clock; a process silent for {FleetLedger.LostAfterBeats} heartbeats is lost, and its validation jobs are taken over when their leases run out.</p>"
        );
        if (view.Processes.Count == 0)
            body.Append("<p>No replica or worker has registered.</p>");
        else
        {
            body.Append(
                "<table id=\"fleet-processes\"><tr><th>State</th><th>Role</th><th>Host</th><th>Pid</th><th>Version</th><th>Last heartbeat</th><th>Jobs running</th><th>Jobs done</th><th>Id</th></tr>"
            );
            foreach (var p in view.Processes)
                body.Append(
                    $"<tr class=\"fleet-{Html.E(p.State)}\"><td class=\"state\">{Html.E(p.State)}</td><td>{Html.E(p.Role)}{(p.Validates ? "" : " (--no-validate)")}</td><td>{Html.E(p.Host)}</td><td>{p.Pid}</td><td>{Html.E(p.Version)}</td><td>{Html.E(FleetCommands.Ago(view.Now - p.LastHeartbeat))}</td><td>{p.JobsRunning}</td><td>{p.JobsDone}</td><td class=\"state\">{Html.E(p.Id)}</td></tr>"
                );
            body.Append("</table>");
        }
        body.Append("<h2>Queues</h2>");
        if (view.Queues.Count == 0)
            body.Append("<p>Nothing waits in any line.</p>");
        else
        {
            body.Append(
                "<table id=\"fleet-queues\"><tr><th>Line</th><th>Tasks queued</th><th>Validations queued</th><th>Validating</th></tr>"
            );
            foreach (var q in view.Queues)
                body.Append(
                    $"<tr><td>{Html.E(q.Line)}</td><td>{q.TasksQueued}</td><td>{q.ValidationsQueued}</td><td>{q.ValidationsRunning}</td></tr>"
                );
            body.Append("</table>");
        }
        return Html.Page("Fleet", body.ToString(), session);
    }
}
