using HaLua.DataPlane.Config;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Stats;

/// <summary>One object's stats row with what its metric families need beside the row.</summary>
/// <param name="Tags">The object's labels: <c>proxy</c>, and <c>server</c> or <c>listener</c>.</param>
/// <param name="Http">The proxy is in HTTP mode.</param>
/// <param name="States">The <c>state</c> values of the object's <c>*_status</c> family.</param>
/// <param name="State">The index of the object's current state in <paramref name="States"/>.</param>
/// <param name="Check">A server's last check status, as an index in <see cref="MetricFamilies.CheckStatuses"/>; -1 for none.</param>
/// <param name="ServerStates">A backend's count of servers per <see cref="MetricFamilies.ServerStates"/>.</param>
/// <param name="CheckStates">A backend's count of servers per last check status.</param>
internal sealed record MetricRow(
    StatLine Line,
    KeyValuePair<string, object?>[] Tags,
    bool Http,
    string[] States,
    int State,
    int Check = -1,
    int[]? ServerStates = null,
    int[]? CheckStates = null);

/// <summary>The stats rows of every object and the process's <c>show info</c>, taken at one moment for one scrape.</summary>
internal sealed class StatsSnapshot
{
    public Dictionary<string, StatValue> Info { get; } = new(StringComparer.Ordinal);

    public List<MetricRow> Frontends { get; } = [];

    public List<MetricRow> Listeners { get; } = [];

    public List<MetricRow> Backends { get; } = [];

    public List<MetricRow> Servers { get; } = [];

    public static StatsSnapshot Take(DataPlaneHost host)
    {
        var s = new StatsSnapshot();
        var g = host.Generation;
        foreach (var (name, value) in g.Info.Rows())
        {
            s.Info[name] = value;
        }

        foreach (var px in g.Proxies)
        {
            bool http = px.Config.Mode == ProxyMode.Http;
            var proxyTag = new KeyValuePair<string, object?>("proxy", px.Name);
            if (px.IsFrontend)
            {
                s.Frontends.Add(new(StatLines.Frontend(px), [proxyTag], http, MetricFamilies.FrontendStates, px.State == FrontendState.Stopped ? 0 : 1));
                foreach (var l in px.Listeners)
                {
                    if (StatLines.Listener(px, l) is { } row)
                    {
                        int state = Math.Max(0, Array.IndexOf(MetricFamilies.ListenerStates, row[StatField.Status].Text));
                        s.Listeners.Add(new(row, [proxyTag, new("listener", l.Name)], http, MetricFamilies.ListenerStates, state));
                    }
                }
            }

            if (px.Backend is not { } be)
            {
                continue;
            }

            var serverStates = new int[MetricFamilies.ServerStates.Length];
            var checkStates = new int[MetricFamilies.CheckStatuses.Length];
            foreach (var sv in be.Servers)
            {
                int state = ServerState(sv);
                int check = Array.IndexOf(MetricFamilies.CheckStatuses, sv.CheckStatus);
                serverStates[state]++;
                if (sv.CheckEnabled && check >= 0)
                {
                    checkStates[check]++;
                }

                s.Servers.Add(new(StatLines.Server(sv), [proxyTag, new("server", sv.Name)], http, MetricFamilies.ServerStates, state, check));
            }

            s.Backends.Add(new(StatLines.Backend(px), [proxyTag], http, MetricFamilies.BackendStates, be.IsUp ? 1 : 0, -1, serverStates, checkStates));
        }

        return s;
    }

    /// <summary>
    /// HAProxy's exporter's server state: MAINT whatever the health; else DRAIN for a drained
    /// server that is up, NOLB, DOWN, or UP (also while a check moves it between the two).
    /// </summary>
    private static int ServerState(ServerState sv)
    {
        const int down = 0, up = 1, maint = 2, drain = 3, nolb = 4;
        if (sv.Admin == ServerAdminState.Maint)
        {
            return maint;
        }

        return sv.Oper switch
        {
            ServerOperState.Up => sv.Admin == ServerAdminState.Drain ? drain : up,
            ServerOperState.NoLb => nolb,
            _ => down,
        };
    }
}
