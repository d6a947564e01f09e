using System.Text;
using Grpc.Core;
using HaLua.Admin.V1;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Control;

/// <summary>The admin API's stats (show stat / show info) and the server operations that act on health, agents and sessions.</summary>
public class AdminStatsTests
{
    private static string Config(TestServer a, TestServer b, HttpOrigin origin) => $$"""
        global
           admin-api 127.0.0.1:{PORT7}
        defaults
           timeout connect 1s
           timeout client 10s
           timeout server 10s
        frontend fe
           mode tcp
           bind 127.0.0.1:{PORT0}
           default_backend app
        backend app
           mode tcp
           server a 127.0.0.1:{{a.Port}} check inter 100ms
           server b 127.0.0.1:{{b.Port}} backup
        frontend web
           mode http
           bind 127.0.0.1:{PORT1}
           default_backend origin
        backend origin
           mode http
           server o 127.0.0.1:{{origin.Port}}
        """;

    private static Dictionary<string, string> Row(StatRows rows, string px, string sv)
    {
        var row = rows.Rows.Single(r => r.Values[0] == px && r.Values[1] == sv);
        return rows.Fields.Zip(row.Values).ToDictionary(x => x.First, x => x.Second);
    }

    [Fact]
    public async Task ShowStat_AfterAKnownWorkload_CountsWhatWasSent()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var origin = new HttpOrigin();
        await using var h = await AdminHost.StartAsync(Config(a, b, origin));
        const int requests = 7;
        long requestBytes = 0;
        for (int i = 0; i < requests; i++)
        {
            using var c = await RawHttpClient.ConnectAsync(h.Ports[1]);
            string req = $"GET /n{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            requestBytes += req.Length;
            await c.SendAsync(req);
            Assert.Equal(200, (await c.ReadResponseAsync()).Status);
        }

        StatRows stats = null!;
        // The counters of a stream are final when it ends, a moment after the client has its response.
        for (int attempt = 0; attempt < 50; attempt++)
        {
            stats = await h.Client.ShowStatAsync();
            if (Row(stats, "web", "FRONTEND")["stot"] == requests.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                break;
            }

            await Task.Delay(50);
        }

        Assert.Equal("pxname", stats.Fields[0]);
        Assert.Equal("svname", stats.Fields[1]);
        var fe = Row(stats, "web", "FRONTEND");
        Assert.Equal("7", fe["stot"]);
        Assert.Equal("7", fe["req_tot"]);
        Assert.Equal("7", fe["hrsp_2xx"]);
        Assert.Equal(requestBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), fe["bin"]);
        Assert.True(long.Parse(fe["bout"], System.Globalization.CultureInfo.InvariantCulture) > 0);
        var sv = Row(stats, "origin", "o");
        Assert.Equal("7", sv["stot"]);
        Assert.Equal("7", sv["hrsp_2xx"]);
        Assert.Equal(fe["bout"], Row(stats, "origin", "BACKEND")["bout"]);

        // Per proxy and per server.
        var one = await h.Client.GetProxyStatsAsync("origin");
        Assert.Equal(["o", "BACKEND"], one.Rows.Select(r => r.Values[1]));
        var server = await h.Client.GetServerStatsAsync("app", "a");
        Assert.Equal("a", Assert.Single(server.Rows).Values[1]);
        var e = await Assert.ThrowsAsync<RpcException>(() => h.Client.GetServerStatsAsync("app", "zz"));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);

        var info = (await h.Client.ShowInfoAsync()).ToDictionary(f => f.Name, f => f.Value);
        Assert.Equal("HaLua", info["Name"]);
        Assert.Equal(h.Process.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), info["Pid"]);
        Assert.True(long.Parse(info["CumReq"], System.Globalization.CultureInfo.InvariantCulture) >= requests);
    }

    [Fact]
    public async Task SetHealthAndAgent_FollowTheRuntimeApi()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var origin = new HttpOrigin();
        await using var h = await AdminHost.StartAsync(Config(a, b, origin));

        // Checks off, then forced down: traffic goes to the backup; forced up: back to a.
        var s = await h.Client.SetHealthAsync("app", "a", HealthAction.Disable);
        Assert.False(s.CheckEnabled);
        s = await h.Client.SetHealthAsync("app", "a", HealthAction.ForceDown);
        Assert.Equal(OperState.Down, s.OperState);
        Assert.Equal("B", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        s = await h.Client.SetHealthAsync("app", "a", HealthAction.ForceUp);
        Assert.Equal(OperState.Up, s.OperState);
        Assert.Equal("A", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        s = await h.Client.SetHealthAsync("app", "a", HealthAction.ForceNolb);
        Assert.Equal(OperState.Nolb, s.OperState);
        Assert.Equal("B", await HaluaProcess.ExchangeAsync(h.Ports[0]));

        // Checks on again: the running check brings a back up.
        s = await h.Client.SetHealthAsync("app", "a", HealthAction.Enable);
        Assert.True(s.CheckEnabled);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await h.Client.GetServerAsync("app", "a")).OperState != OperState.Up)
        {
            Assert.True(DateTime.UtcNow < deadline, "the health check did not bring the server back");
            await Task.Delay(50);
        }

        // b has no check: enabling one is refused, as HAProxy refuses it.
        var e = await Assert.ThrowsAsync<RpcException>(() => h.Client.SetHealthAsync("app", "b", HealthAction.Enable));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("Health check was not configured", e.Status.Detail);

        // No agent checks in HaLua: as HAProxy on a server without an agent.
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.SetAgentAsync("app", "a", AgentAction.Enable));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Equal(OperState.Up, (await h.Client.SetAgentAsync("app", "a", AgentAction.Disable)).OperState);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.SetHealthAsync("app", "a", HealthAction.Unspecified));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public async Task ShutdownSessions_ClosesTheServersLiveStreams()
    {
        var hold = new TaskCompletionSource();
        await using var a = new TestServer("A", async s =>
        {
            await s.SendAsync(Encoding.ASCII.GetBytes("A"));
            await hold.Task;
        });
        await using var b = new TestServer("B", async s =>
        {
            await s.SendAsync(Encoding.ASCII.GetBytes("B"));
            await hold.Task;
        });
        await using var origin = new HttpOrigin();
        await using var h = await AdminHost.StartAsync(Config(a, b, origin));
        using var c1 = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await c1.ConnectAsync(System.Net.IPAddress.Loopback, h.Ports[0]);
        var buf = new byte[16];
        Assert.Equal(1, await c1.ReceiveAsync(buf));
        Assert.Equal((byte)'A', buf[0]);

        Assert.Equal(0, await h.Client.ShutdownBackupSessionsAsync("app"));
        Assert.Equal(1, await h.Client.ShutdownSessionsAsync("app", "a"));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await c1.ReceiveAsync(buf, System.Net.Sockets.SocketFlags.None, cts.Token));
        hold.SetResult();
    }
}
