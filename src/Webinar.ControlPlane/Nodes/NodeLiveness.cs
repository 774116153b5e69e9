using Microsoft.Extensions.Options;
using Webinar.ControlPlane.Hosting;

namespace Webinar.ControlPlane.Nodes;

/// <summary>
/// What the control plane believes about a node, in one place. Every time is the database's clock
/// (<c>now()</c> and <c>last_heartbeat_at</c> written by it), so control-plane instances with different clocks agree.
/// <list type="bullet">
/// <item><b>Healthy</b> (new meetings may be placed on it): its last heartbeat is younger than
/// <see cref="NodeOptions.UnhealthyAfter"/>.</item>
/// <item><b>Gone</b> (the connections it reported stop counting): silent for <see cref="NodeOptions.GoneAfter"/>
/// <em>while the bus demonstrably works</em>, i.e. some node's heartbeat arrived at least that long after this node's
/// last one. During a broker outage every node is silent together, none is gone, and the last reported connections
/// keep counting: no news is never "idle".</item>
/// </list>
/// Every SQL fragment here needs the parameters <c>@unhealthyAfter</c> and <c>@goneAfter</c> (see <see cref="Parameters"/>).
/// </summary>
internal sealed class NodeLiveness(IOptions<NodeOptions> options)
{
    public TimeSpan UnhealthyAfter => options.Value.UnhealthyAfter;

    public TimeSpan GoneAfter => options.Value.GoneAfter;

    /// <summary>SQL true when the node row <paramref name="alias"/> is healthy.</summary>
    public static string HealthySql(string alias) => $"{alias}.last_heartbeat_at > now() - @unhealthyAfter";

    /// <summary>SQL true when the connections the node row <paramref name="alias"/> reported still count (it is not known gone).</summary>
    public static string CountsSql(string alias) =>
        $"""
        NOT ({alias}.last_heartbeat_at < now() - @goneAfter
             AND EXISTS (SELECT 1 FROM nodes o WHERE o.last_heartbeat_at > {alias}.last_heartbeat_at + @goneAfter))
        """;

    /// <summary>The parameters the fragments need, merged with a query's own.</summary>
    public Dapper.DynamicParameters Parameters(object? more = null)
    {
        var parameters = new Dapper.DynamicParameters(more);
        parameters.Add("unhealthyAfter", UnhealthyAfter);
        parameters.Add("goneAfter", GoneAfter);
        return parameters;
    }
}
