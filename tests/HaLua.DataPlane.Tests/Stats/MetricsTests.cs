using System.Diagnostics;
using System.Globalization;
using System.Net;
using Google.Protobuf;
using Grpc.Core;
using HaLua.Admin.V1;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Stats;

/// <summary>/metrics: HAProxy 2.6's families over the live stats, HaLua's own Lua and control metrics, and the endpoint itself.</summary>
public class MetricsTests
{
    private const string Lua = """
        core.register_action("tag", { "http-req" }, function(txn)
          txn.http:req_set_header("x-tag", "1")
        end)
        core.register_action("fail", { "http-req" }, function(txn)
          error("boom")
        end)
        core.register_action("spin", { "http-req" }, function(txn)
          while true do end
        end)
        """;

    private static string Config(HttpOrigin origin, TestServer tcp) => $$"""
        global
           metrics 127.0.0.1:{PORT6}
           admin-api 127.0.0.1:{PORT7}
           lua-load {DIR}/m.lua
           tune.lua.session-timeout 200ms
        defaults
           timeout connect 1s
           timeout client 10s
           timeout server 10s
        frontend web
           mode http
           bind 127.0.0.1:{PORT0} name l1
           option socket-stats
           http-request lua.tag
           http-request lua.fail if { path /fail }
           http-request lua.spin if { path /spin }
           default_backend app
        backend app
           mode http
           server a 127.0.0.1:{{origin.Port}} check inter 200ms
           server b 127.0.0.1:{{origin.Port}} backup
        listen tcpx
           mode tcp
           bind 127.0.0.1:{PORT1}
           server t 127.0.0.1:{{tcp.Port}}
        """;

    private static Dictionary<string, string> Files => new() { ["m.lua"] = Lua };

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static async Task<long> SendAsync(int port, int count, string path = "/")
    {
        long bytes = 0;
        for (int i = 0; i < count; i++)
        {
            using var c = await RawHttpClient.ConnectAsync(port);
            string req = $"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            bytes += req.Length;
            await c.SendAsync(req);
            await c.ReadResponseAsync();
        }

        return bytes;
    }

    [Fact]
    public async Task Scrape_AfterAKnownWorkload_MatchesTheTrafficAndShowStat()
    {
        await using var origin = new HttpOrigin();
        await using var tcp = new TestServer("T");
        await using var h = await MetricsHost.StartAsync(Config(origin, tcp), Files);
        const int requests = 6;
        long sent = await SendAsync(h.Ports[0], requests);
        Assert.Equal("T", await HaluaProcess.ExchangeAsync(h.Ports[1]));

        var m = await h.ScrapeUntilAsync(s => PrometheusText.Value(s, "haproxy_frontend_sessions_total", ("proxy", "web")) == requests
            && PrometheusText.Value(s, "haproxy_frontend_sessions_total", ("proxy", "tcpx")) == 1);
        double V(string name, params (string, string)[] labels) => PrometheusText.Value(m, name, labels);
        Assert.Equal(requests, V("haproxy_frontend_http_requests_total", ("proxy", "web")));
        Assert.Equal(requests, V("haproxy_frontend_http_responses_total", ("proxy", "web"), ("code", "2xx")));
        Assert.Equal(0, V("haproxy_frontend_http_responses_total", ("proxy", "web"), ("code", "5xx")));
        Assert.Equal(sent, V("haproxy_frontend_bytes_in_total", ("proxy", "web")));
        Assert.Equal(requests, V("haproxy_listener_sessions_total", ("proxy", "web"), ("listener", "l1")));
        Assert.Equal(requests, V("haproxy_server_sessions_total", ("proxy", "app"), ("server", "a")));
        Assert.Equal(requests, V("haproxy_server_loadbalanced_total", ("proxy", "app"), ("server", "a")));
        Assert.Equal(requests, V("haproxy_backend_http_requests_total", ("proxy", "app")));
        Assert.Equal(1, V("haproxy_server_sessions_total", ("proxy", "tcpx"), ("server", "t")));
        Assert.Equal(1, V("haproxy_server_bytes_out_total", ("proxy", "tcpx"), ("server", "t")));

        // Per-state 0/1 series and the check status of a checked server.
        Assert.Equal(1, V("haproxy_server_status", ("proxy", "app"), ("server", "a"), ("state", "UP")));
        Assert.Equal(0, V("haproxy_server_status", ("proxy", "app"), ("server", "a"), ("state", "MAINT")));
        Assert.Equal(1, V("haproxy_backend_status", ("proxy", "app"), ("state", "UP")));
        Assert.Equal(1, V("haproxy_frontend_status", ("proxy", "web"), ("state", "UP")));
        Assert.Equal(1, V("haproxy_listener_status", ("proxy", "web"), ("listener", "l1"), ("state", "OPEN")));
        Assert.Equal(1, V("haproxy_server_check_status", ("proxy", "app"), ("server", "a"), ("state", "L4OK")));
        Assert.Equal(2, V("haproxy_backend_agg_server_status", ("proxy", "app"), ("state", "UP")));
        Assert.Equal(1, V("haproxy_backend_agg_check_status", ("proxy", "app"), ("state", "L4OK")));
        Assert.Equal(1, V("haproxy_backend_active_servers", ("proxy", "app")));
        Assert.Equal(1, V("haproxy_backend_backup_servers", ("proxy", "app")));

        // HTTP-only families have no series for a TCP proxy; check families none for an unchecked server; empty fields are NaN.
        Assert.DoesNotContain(m["haproxy_frontend_http_requests_total"].Samples, s => s.Labels["proxy"] == "tcpx");
        Assert.DoesNotContain(m["haproxy_server_check_status"].Samples, s => s.Labels["server"] == "b");
        Assert.True(double.IsNaN(V("haproxy_server_check_failures_total", ("proxy", "app"), ("server", "b"))));
        Assert.True(double.IsNaN(V("haproxy_server_limit_sessions", ("proxy", "app"), ("server", "a"))));

        // The process.
        Assert.True(V("haproxy_process_requests_total") >= requests + 1);
        Assert.Equal(1, V("haproxy_process_nbproc"));
        Assert.True(V("haproxy_process_uptime_seconds") >= 0);
        Assert.Equal(1, V("haproxy_process_build_info", ("version", m["haproxy_process_build_info"].Samples[0].Labels["version"])));

        // The same numbers as show stat.
        var stats = await h.Admin.ShowStatAsync();
        var row = stats.Rows.Single(r => r.Values[0] == "web" && r.Values[1] == "FRONTEND");
        var fe = stats.Fields.Zip(row.Values).ToDictionary(x => x.First, x => x.Second);
        Assert.Equal(fe["stot"], N((long)V("haproxy_frontend_sessions_total", ("proxy", "web"))));
        Assert.Equal(fe["bin"], N((long)V("haproxy_frontend_bytes_in_total", ("proxy", "web"))));
        Assert.Equal(fe["bout"], N((long)V("haproxy_frontend_bytes_out_total", ("proxy", "web"))));
        Assert.Equal(fe["hrsp_2xx"], N((long)V("haproxy_frontend_http_responses_total", ("proxy", "web"), ("code", "2xx"))));
    }

    [Fact]
    public async Task Scrape_ServerInMaintenance_StatusSeriesFollow()
    {
        await using var origin = new HttpOrigin();
        await using var tcp = new TestServer("T");
        await using var h = await MetricsHost.StartAsync(Config(origin, tcp), Files);
        await h.Admin.SetAdminStateAsync("app", "a", AdminState.Maint);
        var m = await h.ScrapeAsync();
        Assert.Equal(0, PrometheusText.Value(m, "haproxy_server_status", ("proxy", "app"), ("server", "a"), ("state", "UP")));
        Assert.Equal(1, PrometheusText.Value(m, "haproxy_server_status", ("proxy", "app"), ("server", "a"), ("state", "MAINT")));
        Assert.Equal(1, PrometheusText.Value(m, "haproxy_backend_agg_server_status", ("proxy", "app"), ("state", "MAINT")));
        // In maintenance a server's checks pause: no check_status series, as HAProxy.
        Assert.False(m.TryGetValue("haproxy_server_check_status", out var checks) && checks.Samples.Any(s => s.Labels["server"] == "a"));
        await h.Admin.SetAdminStateAsync("app", "a", AdminState.Drain);
        m = await h.ScrapeAsync();
        Assert.Equal(1, PrometheusText.Value(m, "haproxy_server_status", ("proxy", "app"), ("server", "a"), ("state", "DRAIN")));

        // The operational states, forced (checks off first, as HAProxy requires).
        await h.Admin.SetAdminStateAsync("app", "a", AdminState.Ready);
        await h.Admin.SetHealthAsync("app", "a", HealthAction.Disable);
        await h.Admin.SetHealthAsync("app", "a", HealthAction.ForceNolb);
        m = await h.ScrapeAsync();
        Assert.Equal(1, PrometheusText.Value(m, "haproxy_server_status", ("proxy", "app"), ("server", "a"), ("state", "NOLB")));
        await h.Admin.SetHealthAsync("app", "a", HealthAction.ForceDown);
        m = await h.ScrapeAsync();
        Assert.Equal(1, PrometheusText.Value(m, "haproxy_server_status", ("proxy", "app"), ("server", "a"), ("state", "DOWN")));
        Assert.Equal(0, PrometheusText.Value(m, "haproxy_server_status", ("proxy", "app"), ("server", "a"), ("state", "UP")));
        Assert.Equal(0, PrometheusText.Value(m, "haproxy_backend_active_servers", ("proxy", "app")));
    }

    [Fact]
    public async Task LuaMetrics_CountExecutionsErrorsTimeoutsAndDurations()
    {
        await using var origin = new HttpOrigin();
        await using var tcp = new TestServer("T");
        await using var h = await MetricsHost.StartAsync(Config(origin, tcp), Files);
        await SendAsync(h.Ports[0], 4);
        await SendAsync(h.Ports[0], 2, "/fail");
        await SendAsync(h.Ports[0], 1, "/spin");

        var m = await h.ScrapeUntilAsync(s => s.TryGetValue("halua_lua_duration_seconds", out var f)
            && f.Samples.Any(x => x.Name == "halua_lua_duration_seconds_count" && x.Labels.GetValueOrDefault("function") == "spin"));
        double V(string name, params (string, string)[] labels) => PrometheusText.Value(m, name, labels);
        Assert.Equal("histogram", m["halua_lua_duration_seconds"].Type);
        // Every request runs lua.tag; /fail and /spin also their own action.
        Assert.Equal(7, V("halua_lua_duration_seconds_count", ("function", "tag"), ("kind", "action")));
        Assert.Equal(2, V("halua_lua_duration_seconds_count", ("function", "fail"), ("kind", "action")));
        Assert.Equal(1, V("halua_lua_duration_seconds_count", ("function", "spin"), ("kind", "action")));
        Assert.True(V("halua_lua_duration_seconds_sum", ("function", "spin"), ("kind", "action")) >= 0.15, "the spinning action ran until its 200 ms timeout");
        Assert.Equal(1, V("halua_lua_duration_seconds_bucket", ("function", "spin"), ("kind", "action"), ("le", "+Inf")));

        Assert.True(V("halua_lua_executions_total", ("state", "shared")) >= 10);
        Assert.Equal(3, V("halua_lua_errors_total", ("state", "shared")));
        Assert.Equal(1, V("halua_lua_timeouts_total", ("state", "shared")));
        Assert.True(V("halua_lua_forced_yields_total", ("state", "shared")) >= 1, "the spinning action was pre-empted");
        Assert.True(V("halua_lua_yields_total", ("state", "shared")) >= V("halua_lua_forced_yields_total", ("state", "shared")));
        Assert.True(V("halua_lua_memory_bytes", ("state", "shared")) > 10_000);
        Assert.Equal(0, V("halua_lua_memory_limit_bytes", ("state", "shared")));
    }

    [Fact]
    public async Task ControlMetrics_CountCallsByMethodAndCode_AndReloads()
    {
        await using var origin = new HttpOrigin();
        await using var tcp = new TestServer("T");
        await using var h = await MetricsHost.StartAsync(Config(origin, tcp), Files);
        await SendAsync(h.Ports[0], 3);
        await h.Admin.SetWeightAsync("app", "a", "5");
        await h.Admin.SetWeightAsync("app", "a", "7");
        var e = await Assert.ThrowsAsync<RpcException>(() => h.Admin.GetServerAsync("app", "nope"));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        var before = await h.ScrapeUntilAsync(s => PrometheusText.Value(s, "halua_lua_executions_total", ("state", "shared")) >= 3);

        // A refused reload, then a good one.
        var lua = new LuaService.LuaServiceClient(h.Admin.Channel);
        await Assert.ThrowsAsync<RpcException>(async () => await lua.ReloadAsync(new ReloadRequest { Sources = { ["m.lua"] = ByteString.CopyFromUtf8("this is not lua") } }));
        await lua.ReloadAsync(new ReloadRequest());

        var m = await h.ScrapeAsync();
        double V(string name, params (string, string)[] labels) => PrometheusText.Value(m, name, labels);
        Assert.Equal("counter", m["halua_control_rpcs_total"].Type);
        Assert.Equal(2, V("halua_control_rpcs_total", ("method", "/halua.admin.v1.ServerService/SetWeight"), ("code", "OK")));
        Assert.Equal(1, V("halua_control_rpcs_total", ("method", "/halua.admin.v1.ServerService/GetServer"), ("code", "NotFound")));
        Assert.Equal(1, V("halua_control_rpcs_total", ("method", "/halua.admin.v1.LuaService/Reload"), ("code", "FailedPrecondition")));
        Assert.Equal(1, V("halua_control_rpcs_total", ("method", "/halua.admin.v1.LuaService/Reload"), ("code", "OK")));
        Assert.Equal(2, V("halua_control_lua_reload_generation"));
        Assert.Equal(1, V("halua_control_lua_reload_failures_total"));
        Assert.Equal(7, V("haproxy_server_weight", ("proxy", "app"), ("server", "a")));
        // The Lua counters are running totals across the reload (the new state starts from the old one's count).
        Assert.True(V("halua_lua_executions_total", ("state", "shared")) >= PrometheusText.Value(before, "halua_lua_executions_total", ("state", "shared")));
    }

    [Fact]
    public async Task MetricsEndpoint_PathOptionWithoutAdminApi_ServesOnlyThatPath()
    {
        await using var h = await MetricsHost.StartAsync("""
            global
               metrics 127.0.0.1:{PORT6} path /prom
            frontend fe
               mode tcp
               bind 127.0.0.1:{PORT0}
               timeout client 1s
               tcp-request content reject
            """);
        using var http = new HttpClient();
        var ok = await http.GetAsync($"http://127.0.0.1:{h.Ports[6]}/prom");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.StartsWith("text/plain; version=0.0.4", ok.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.Contains("haproxy_frontend_status{proxy=\"fe\",state=\"UP\"} 1", await ok.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{h.Ports[6]}/metrics")).StatusCode);

        // OpenMetrics asked for, the classic text format answered (HAProxy's names end in _total).
        using var om = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{h.Ports[6]}/prom");
        om.Headers.TryAddWithoutValidation("Accept", "application/openmetrics-text;version=1.0.0");
        var text = await http.SendAsync(om);
        Assert.StartsWith("text/plain; version=0.0.4", text.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("_created", await text.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrometheusFact]
    public async Task Scrape_PassesPromtoolCheckMetrics()
    {
        await using var origin = new HttpOrigin();
        await using var tcp = new TestServer("T");
        await using var h = await MetricsHost.StartAsync(Config(origin, tcp), Files);
        await SendAsync(h.Ports[0], 2);
        await SendAsync(h.Ports[0], 1, "/fail");
        await h.Admin.SetWeightAsync("app", "a", "3");
        string text = await h.ScrapeTextAsync();

        var psi = new ProcessStartInfo(PrometheusTools.Promtool, "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardInput.WriteAsync(text);
        p.StandardInput.Close();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"promtool check metrics: exit {p.ExitCode}: {await stdout}{await stderr}");
        Assert.Equal("", (await stdout + await stderr).Trim());
    }
}
