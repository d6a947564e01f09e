using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>
/// http-reuse through a running halua: which server connection each request uses, counted by the
/// origin. One worker (nbthread 1): idle connections are pooled per worker. The expected sharing is
/// what HAProxy 2.6.12 does for the same sequences of client connections.
/// </summary>
public class HttpReuseTests
{
    private static string Config(int originPort, string reuse, string serverOptions = "", string backendLines = "") => $$"""
        global
           nbthread 1
        defaults
           mode http
           timeout connect 1s
           timeout client 5s
           timeout server 5s
        frontend fe
           bind 127.0.0.1:{PORT0}
           default_backend be
        backend be
           http-reuse {{reuse}}
           {{backendLines}}
           server o 127.0.0.1:{{originPort}} {{serverOptions}}
        """;

    /// <summary>An origin that answers with the number of the connection the request came on.</summary>
    private static HttpOrigin ConnectionNumberOrigin(Func<OriginRequest, bool>? hangUp = null) =>
        new(r => Task.FromResult(hangUp?.Invoke(r) == true ? null : HttpOrigin.Ok($"conn{r.Connection}")));

    /// <summary>Sends GET requests one after the other on one client connection; the origin connection of each.</summary>
    private static async Task<List<string>> RequestsAsync(RawHttpClient c, params string[] paths)
    {
        var served = new List<string>();
        foreach (var path in paths)
        {
            await c.SendAsync($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
            var (status, _, body) = await c.ReadResponseAsync();
            Assert.Equal(200, status);
            served.Add(Encoding.ASCII.GetString(body));
        }

        return served;
    }

    private static async Task<List<string>> ClientAsync(int port, params string[] paths)
    {
        using var c = await RawHttpClient.ConnectAsync(port);
        return await RequestsAsync(c, paths);
    }

    [Theory]
    [InlineData("always", 1)]
    [InlineData("safe", 2)]
    [InlineData("never", 2)]
    public async Task TwoSequentialClientConnections_OneRequestEach_ServerConnectionsAsHaproxy(string reuse, int serverConnections)
    {
        await using var origin = ConnectionNumberOrigin();
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port, reuse));

        var first = await ClientAsync(h.Ports[0], "/a");
        var second = await ClientAsync(h.Ports[0], "/b");

        // always: the second client's first request takes the idle connection; safe: a first request
        // always gets a connection of its own; never: nothing is shared.
        Assert.Equal(serverConnections, origin.Connections);
        Assert.Equal(serverConnections == 1, first[0] == second[0]);
    }

    /// <summary>
    /// Two client connections open together, requests a1, b1, b2, a2. What holds for HAProxy 2.6.12
    /// too (it answered "conn1 conn2 conn1 conn1" for safe, where HaLua, taking the most recently
    /// idle connection first, answers "conn1 conn2 conn2 conn2"): how many server connections, whether
    /// b's first request got a connection of its own, whether a later request of one client went over
    /// a connection that had carried the other's.
    /// </summary>
    [Theory]
    [InlineData("safe", 2, false, true)]
    [InlineData("aggressive", 2, false, true)]
    [InlineData("always", 1, true, true)]
    [InlineData("never", 2, false, false)]
    public async Task TwoClientConnectionsInterleaved_ShareAsTheModeAllows(string reuse, int connections, bool firstRequestsShare, bool laterRequestsShare)
    {
        await using var origin = ConnectionNumberOrigin();
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port, reuse));
        using var a = await RawHttpClient.ConnectAsync(h.Ports[0]);
        using var b = await RawHttpClient.ConnectAsync(h.Ports[0]);

        var a1 = (await RequestsAsync(a, "/a1"))[0];
        var b12 = await RequestsAsync(b, "/b1", "/b2");
        var a2 = (await RequestsAsync(a, "/a2"))[0];

        Assert.Equal(connections, origin.Connections);
        Assert.Equal(firstRequestsShare, a1 == b12[0]);
        Assert.Equal(laterRequestsShare, b12[1] == a1 || b12.Contains(a2));
    }

    [Fact]
    public async Task Aggressive_FirstRequest_TakesOnlyAProvenConnection()
    {
        await using var origin = ConnectionNumberOrigin();
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port, "aggressive"));

        var once = await ClientAsync(h.Ports[0], "/once");
        var fresh = await ClientAsync(h.Ports[0], "/fresh", "/proves-it");
        var reused = await ClientAsync(h.Ports[0], "/first");

        // The first connection carried one request only: not proven, the second client opened its own.
        Assert.NotEqual(once[0], fresh[0]);
        Assert.Equal(fresh[1], reused[0]);
        Assert.Equal(2, origin.Connections);
    }

    [Fact]
    public async Task PoolMaxConnZero_NoIdleConnectionKept_ANewOnePerRequest()
    {
        await using var origin = ConnectionNumberOrigin();
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port, "always", "pool-max-conn 0"));

        var served = await ClientAsync(h.Ports[0], "/1", "/2");

        Assert.Equal(["conn1", "conn2"], served);
    }

    [Fact]
    public async Task IdleConnectionClosedByTheServer_Discarded_NextRequestSucceeds()
    {
        // A server that closes each connection shortly after its response (its keep-alive timeout).
        await using var server = new TestServer("closer", async s =>
        {
            var buf = new byte[4096];
            int n = await s.ReceiveAsync(buf);
            if (n > 0)
            {
                await s.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"u8.ToArray());
                await Task.Delay(100);
            }
        });
        await using var h = await HaluaProcess.StartAsync(Config(server.Port, "always"));

        for (int i = 0; i < 3; i++)
        {
            using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
            await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await c.ReadResponseAsync()).Status);
            await Task.Delay(400);
        }

        Assert.Equal(3, server.Connections);
    }

    [Theory]
    [InlineData("")]
    [InlineData("http-request set-header X-Edited yes")]
    public async Task PooledConnectionClosedWhileTheRequestIsSent_IdempotentRequestRetriedOnANewConnection(string rules)
    {
        // The first connection hangs up on its second request without answering, as a server whose
        // keep-alive timeout strikes just when the request arrives.
        var perConnection = new ConcurrentDictionary<int, int>();
        await using var origin = ConnectionNumberOrigin(r => r.Connection == 1 && perConnection.AddOrUpdate(1, 1, (_, n) => n + 1) == 2);
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port, "always", backendLines: rules));

        Assert.Equal(["conn1"], await ClientAsync(h.Ports[0], "/first"));
        Assert.Equal(["conn2"], await ClientAsync(h.Ports[0], "/retried"));

        // The same head both times (the edited one when rules changed it).
        Assert.Equal(["/first", "/retried", "/retried"], origin.Requests.Select(r => r.Head.Split(' ')[1]));
        var retried = origin.Requests.Skip(1).Select(r => r.Head).ToList();
        Assert.Equal(retried[0], retried[1]);
        Assert.Equal(rules.Length > 0, retried[1].Contains("x-edited: yes", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task PooledConnectionClosedWhileAPostIsSent_NotRepeated_502()
    {
        var perConnection = new ConcurrentDictionary<int, int>();
        await using var origin = ConnectionNumberOrigin(r => r.Connection == 1 && perConnection.AddOrUpdate(1, 1, (_, n) => n + 1) == 2);
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port, "always"));

        Assert.Equal(["conn1"], await ClientAsync(h.Ports[0], "/first"));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("POST /once HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");

        Assert.Equal(502, (await c.ReadResponseAsync()).Status);
        Assert.Single(origin.Requests, r => r.Head.StartsWith("POST /once ", StringComparison.Ordinal));
    }
}
