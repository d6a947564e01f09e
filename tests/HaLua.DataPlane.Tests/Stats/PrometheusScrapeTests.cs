using System.Text.Json;
using System.Text.RegularExpressions;
using HaLua.Admin.V1;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Stats;

/// <summary>halua with traffic, scraped every second by a real Prometheus server (one of each for the class).</summary>
public sealed class PrometheusScrapeFixture : IAsyncLifetime
{
    public const int Requests = 17;

    private HttpOrigin? _origin;

    internal MetricsHost Halua { get; private set; } = null!;

    internal PrometheusServer Prometheus { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (PrometheusTools.WhyMissing is not null)
        {
            return;
        }

        _origin = new HttpOrigin();
        Halua = await MetricsHost.StartAsync($$"""
            global
               metrics 127.0.0.1:{PORT6}
               admin-api 127.0.0.1:{PORT7}
               lua-load {DIR}/m.lua
            defaults
               mode http
               timeout connect 1s
               timeout client 10s
               timeout server 10s
            frontend web
               bind 127.0.0.1:{PORT0}
               http-request lua.tag
               default_backend app
            backend app
               server a 127.0.0.1:{{_origin.Port}} check inter 200ms
               server b 127.0.0.1:{{_origin.Port}}
            """, new Dictionary<string, string> { ["m.lua"] = """core.register_action("tag", { "http-req" }, function(txn) txn.http:req_set_header("x-tag", "1") end)""" });
        Prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{Halua.Ports[6]}");
        for (int i = 0; i < Requests; i++)
        {
            using var c = await RawHttpClient.ConnectAsync(Halua.Ports[0]);
            await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            Assert.Equal(200, (await c.ReadResponseAsync()).Status);
        }
    }

    public async Task DisposeAsync()
    {
        if (Prometheus is not null)
        {
            await Prometheus.DisposeAsync();
        }

        if (Halua is not null)
        {
            await Halua.DisposeAsync();
        }

        if (_origin is not null)
        {
            await _origin.DisposeAsync();
        }
    }
}

/// <summary>What operators see: PromQL over HaLua's metrics, HAProxy's names, and the example Grafana dashboard.</summary>
public partial class PrometheusScrapeTests(PrometheusScrapeFixture fixture) : IClassFixture<PrometheusScrapeFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [PrometheusFact]
    public async Task Query_SumOfFrontendHttpRequests_IsTheRequestsSent()
    {
        double n = await fixture.Prometheus.WaitForAsync("sum(haproxy_frontend_http_requests_total)", v => v >= PrometheusScrapeFixture.Requests, Patience);
        Assert.Equal(PrometheusScrapeFixture.Requests, n);
    }

    [PrometheusFact]
    public async Task Query_ServerStatusUp_FollowsMaintenanceSetThroughTheAdminApi()
    {
        const string up = """haproxy_server_status{proxy="app",server="a",state="UP"}""";
        await fixture.Prometheus.WaitForAsync(up, v => v == 1, Patience);
        await fixture.Halua.Admin.SetAdminStateAsync("app", "a", AdminState.Maint);
        await fixture.Prometheus.WaitForAsync(up, v => v == 0, Patience);
        await fixture.Prometheus.WaitForAsync("""haproxy_server_status{proxy="app",server="a",state="MAINT"}""", v => v == 1, Patience);
        await fixture.Prometheus.WaitForAsync("""haproxy_backend_active_servers{proxy="app"}""", v => v == 1, Patience);
        await fixture.Halua.Admin.SetAdminStateAsync("app", "a", AdminState.Ready);
        await fixture.Prometheus.WaitForAsync(up, v => v == 1, Patience);
    }

    [PrometheusFact]
    public async Task GrafanaDashboard_EveryQuery_ReturnsDataFromHalua()
    {
        var path = Path.Combine(RepositoryRoot(), "examples", "grafana", "halua-haproxy.json");
        using var dashboard = JsonDocument.Parse(File.ReadAllText(path));
        var queries = new List<string>();
        Collect(dashboard.RootElement, queries);
        Assert.True(queries.Count >= 20, $"the dashboard has {queries.Count} queries");

        // Enough scrapes for rates over the window, and the traffic in it.
        await fixture.Prometheus.WaitForAsync("sum(haproxy_frontend_http_requests_total)", v => v >= PrometheusScrapeFixture.Requests, Patience);
        await fixture.Prometheus.WaitForAsync("count_over_time(haproxy_process_uptime_seconds[1m])", v => v >= 4, Patience);
        var empty = new List<string>();
        foreach (var q in queries.Distinct())
        {
            string promql = Substitute(q);
            var match = LabelValues().Match(promql);
            var result = match.Success
                ? await fixture.Prometheus.QueryAsync($"group by ({match.Groups[2].Value}) ({match.Groups[1].Value})")
                : await fixture.Prometheus.QueryAsync(promql);
            if (result.Count == 0)
            {
                empty.Add(promql);
            }
        }

        Assert.True(empty.Count == 0, "queries without data: " + string.Join(" | ", empty));
    }

    /// <summary>Every <c>expr</c> of the panels and every variable's query.</summary>
    private static void Collect(JsonElement e, List<string> queries)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in e.EnumerateObject())
            {
                if (p.Name == "expr" && p.Value.ValueKind == JsonValueKind.String)
                {
                    queries.Add(p.Value.GetString()!);
                }
                else if (p.Name == "definition" && p.Value.ValueKind == JsonValueKind.String)
                {
                    queries.Add(p.Value.GetString()!);
                }
                else
                {
                    Collect(p.Value, queries);
                }
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in e.EnumerateArray())
            {
                Collect(item, queries);
            }
        }
    }

    /// <summary>Grafana's variables as it would expand them with "All" selected.</summary>
    private static string Substitute(string q) => q
        .Replace("$__rate_interval", "10s", StringComparison.Ordinal)
        .Replace("$__range", "1m", StringComparison.Ordinal)
        .Replace("$__interval", "2s", StringComparison.Ordinal)
        .Replace("$frontend", ".*", StringComparison.Ordinal)
        .Replace("$backend", ".*", StringComparison.Ordinal);

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "HaLua.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("HaLua.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex(@"^label_values\((\w+),\s*(\w+)\)$")]
    private static partial Regex LabelValues();
}
