namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>get_stats of proxies, servers and listeners, and core.get_info, through a running halua.</summary>
public class LuaStatsTests
{
    /// <summary>HAProxy 2.6's <c>show info</c> keys (observed on 2.6.12).</summary>
    internal static readonly string[] ShowInfoKeys =
    [
        "Name", "Version", "Release_date", "Nbthread", "Nbproc", "Process_num", "Pid", "Uptime", "Uptime_sec",
        "Memmax_MB", "PoolAlloc_MB", "PoolUsed_MB", "PoolFailed", "Ulimit-n", "Maxsock", "Maxconn", "Hard_maxconn",
        "CurrConns", "CumConns", "CumReq", "MaxSslConns", "CurrSslConns", "CumSslConns", "Maxpipes", "PipesUsed",
        "PipesFree", "ConnRate", "ConnRateLimit", "MaxConnRate", "SessRate", "SessRateLimit", "MaxSessRate", "SslRate",
        "SslRateLimit", "MaxSslRate", "SslFrontendKeyRate", "SslFrontendMaxKeyRate", "SslFrontendSessionReuse_pct",
        "SslBackendKeyRate", "SslBackendMaxKeyRate", "SslCacheLookups", "SslCacheMisses", "CompressBpsIn",
        "CompressBpsOut", "CompressBpsRateLim", "Tasks", "Run_queue", "Idle_pct", "node", "Stopping", "Jobs",
        "Unstoppable Jobs", "Listeners", "ActivePeers", "ConnectedPeers", "DroppedLogs", "BusyPolling",
        "FailedResolutions", "TotalBytesOut", "TotalSplicdedBytesOut", "BytesOutRate", "DebugCommandsIssued",
        "CumRecvLogs", "Build info", "Memmax_bytes", "PoolAlloc_bytes", "PoolUsed_bytes", "Start_time_sec", "Tainted",
    ];

    private static string Sorted(IEnumerable<string> keys) => string.Join(',', keys.Order(StringComparer.Ordinal));

    [Fact]
    public async Task GetStats_EveryKindOfRow_MovesWithTraffic()
    {
        await using var a = LuaControl.NamedEcho("a");
        await using var origin = new HttpOrigin(r => Task.FromResult<byte[]?>(r.Head.StartsWith("GET /missing", StringComparison.Ordinal)
            ? "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"u8.ToArray()
            : HttpOrigin.Ok("ok")));
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load ctl.lua
            defaults
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            frontend fe
               option socket-stats
               bind 127.0.0.1:{PORT0}
               default_backend be
            backend be
               server a 127.0.0.1:{{a.Port}}
            frontend web
               mode http
               bind 127.0.0.1:{PORT2}
               default_backend origin
            backend origin
               mode http
               server o 127.0.0.1:{{origin.Port}}
            {{LuaControl.Section}}
            """, new Dictionary<string, string> { ["ctl.lua"] = LuaControl.Script });
        int ctl = h.Ports[1];
        const string Tcp = """
            local f, b = core.frontends.fe:get_stats(), core.backends.be:get_stats()
            local s, l = core.backends.be.servers.a:get_stats(), core.frontends.fe.listeners["sock-1"]:get_stats()
            return table.concat({ f.stot, f.bin, f.bout, l.stot, l.bin, l.bout, b.stot, b.lbtot, b.bin, s.stot, s.lbtot, s.bin, s.bout }, " ")
            """;
        Assert.Equal("0 0 0 0 0 0 0 0 0 0 0 0 0", await LuaControl.RunAsync(ctl, Tcp));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("a\nhello", await HaluaProcess.ExchangeAsync(h.Ports[0], "hello"));
        }

        await LuaControl.WaitForAsync(ctl, Tcp, "5 25 35 5 25 35 5 5 25 5 5 25 35", TimeSpan.FromSeconds(5));

        // Which fields each kind of row has, as in HAProxy 2.6 (a TCP frontend has no hrsp_*, a server without checks no check_status...).
        Assert.Equal("FRONTEND 0 OPEN tcp nil 0", await LuaControl.RunAsync(ctl,
            "local f = core.frontends.fe:get_stats(); return table.concat({ f.svname, f.type, f.status, f.mode, tostring(f.hrsp_2xx), f.req_tot }, ' ')"));
        Assert.Equal($"sock-1 3 OPEN 127.0.0.1:{h.Ports[0]} 1 fe", await LuaControl.RunAsync(ctl,
            "local l = core.frontends.fe.listeners['sock-1']:get_stats(); return table.concat({ l.svname, l.type, l.status, l.addr, l.sid, l.pxname }, ' ')"));
        Assert.Equal($"a 2 no check nil 1 0 127.0.0.1:{a.Port} 1", await LuaControl.RunAsync(ctl,
            "local s = core.backends.be.servers.a:get_stats(); return table.concat({ s.svname, s.type, s.status, tostring(s.check_status), s.act, s.bck, s.addr, s.weight }, ' ')"));
        Assert.Equal("BACKEND 1 UP roundrobin 1 0 1", await LuaControl.RunAsync(ctl,
            "local b = core.backends.be:get_stats(); return table.concat({ b.svname, b.type, b.status, b.algo, b.act, b.bck, b.weight }, ' ')"));
        Assert.Equal("0 nil", await LuaControl.RunAsync(ctl,
            "local n = 0; for _ in pairs(core.frontends.web.listeners['sock-1']:get_stats()) do n = n + 1 end; return n .. ' ' .. tostring(core.frontends.web:get_stats().addr)"));

        // HTTP: requests and responses by status class, at the frontend, the backend and the server.
        using var http = new HttpClient();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("ok", await http.GetStringAsync($"http://127.0.0.1:{h.Ports[2]}/"));
        }

        var missing = await http.GetAsync($"http://127.0.0.1:{h.Ports[2]}/missing");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("4 3 1 0 | 4 3 1 | 4 3 1", await LuaControl.RunAsync(ctl, """
            local f, b, s = core.frontends.web:get_stats(), core.backends.origin:get_stats(), core.backends.origin.servers.o:get_stats()
            return table.concat({ f.req_tot, f.hrsp_2xx, f.hrsp_4xx, f.hrsp_5xx, "|", b.req_tot, b.hrsp_2xx, b.hrsp_4xx, "|", s.req_tot, s.hrsp_2xx, s.hrsp_4xx }, " ")
            """));
    }

    [Fact]
    public async Task GetInfo_HasShowInfosKeys_WithTheProcessValues_FromTheBodyOn()
    {
        await using var a = new TestServer("a");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load ctl.lua
               lua-load body.lua
               nbthread 2
               maxconn 5000
            defaults
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            listen px
               bind 127.0.0.1:{PORT0}
               server a 127.0.0.1:{{a.Port}}
            {{LuaControl.Section}}
            """, new Dictionary<string, string>
        {
            ["ctl.lua"] = LuaControl.Script,
            ["body.lua"] = "body_pid = core.get_info().Pid",
        });
        int ctl = h.Ports[1];
        Assert.Equal(Sorted(ShowInfoKeys), await LuaControl.RunAsync(ctl, "return keys(core.get_info())"));
        Assert.Equal($"{h.Pid} {h.Pid} 2 5000 5000 HaLua integer string string", await LuaControl.RunAsync(ctl,
            "local i = core.get_info(); return table.concat({ body_pid, i.Pid, i.Nbthread, i.Maxconn, i.Hard_maxconn, i.Name, math.type(i.Uptime_sec), type(i.Uptime), type(i.node) }, ' ')"));

        // Connections: the control connection is a current one; three more plus the next control connection are counted.
        Assert.Equal("true 2", await LuaControl.RunAsync(ctl, "local i = core.get_info(); cum = i.CumConns; return tostring(i.CurrConns >= 1) .. ' ' .. i.Listeners"));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("a", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        }

        Assert.Equal("4", await LuaControl.RunAsync(ctl, "return tostring(core.get_info().CumConns - cum)"));
    }
}
