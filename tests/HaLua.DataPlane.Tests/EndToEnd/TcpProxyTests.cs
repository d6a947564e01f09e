using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>TCP proxying through a running halua: load balancing, health checks, queueing, routing.</summary>
public class TcpProxyTests
{
    [Fact]
    public async Task RoundRobin_Weights123_Spreads600ConnectionsExactly()
    {
        await using var s1 = new TestServer("s1");
        await using var s2 = new TestServer("s2");
        await using var s3 = new TestServer("s3");
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode tcp
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               default_backend be
            backend be
               balance roundrobin
               server s1 127.0.0.1:{{s1.Port}} weight 1
               server s2 127.0.0.1:{{s2.Port}} weight 2
               server s3 127.0.0.1:{{s3.Port}} weight 3
            """);
        var counts = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 600), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (_, _) =>
        {
            var who = await HaluaProcess.ExchangeAsync(h.Ports[0]);
            counts.AddOrUpdate(who, 1, (_, c) => c + 1);
        });
        Assert.InRange(counts.GetValueOrDefault("s1"), 99, 101);
        Assert.InRange(counts.GetValueOrDefault("s2"), 199, 201);
        Assert.InRange(counts.GetValueOrDefault("s3"), 299, 301);
    }

    [Fact]
    public async Task HealthCheck_ServerDies_MarkedDownWithinInterTimesFall_GetsNoNewConnection()
    {
        await using var alive = new TestServer("alive");
        var dying = new TestServer("dying");
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode tcp
               timeout connect 500ms
               timeout client 5s
               timeout server 5s
            listen px
               bind 127.0.0.1:{PORT0}
               balance roundrobin
               server alive 127.0.0.1:{{alive.Port}} check inter 200ms rise 2 fall 3
               server dying 127.0.0.1:{{dying.Port}} check inter 200ms rise 2 fall 3
            """);
        var before = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            before.Add(await HaluaProcess.ExchangeAsync(h.Ports[0]));
        }

        Assert.Contains("dying", before);
        var sw = Stopwatch.StartNew();
        await dying.DisposeAsync();
        await h.WaitForStderrAsync("Server px/dying is DOWN", TimeSpan.FromSeconds(6));

        // inter x fall is 600 ms; the rest is headroom for a loaded 2-core CI (a server that is never
        // marked down, or only after its connections time out, would fail this).
        Assert.True(sw.Elapsed < TimeSpan.FromMilliseconds(200 * 3 + 2000), $"marked down after {sw.Elapsed}");
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal("alive", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        }
    }

    [Fact]
    public async Task HealthCheck_ServerComesBack_UpAfterRise()
    {
        int port = HaluaProcess.FreePort();
        await using var alive = new TestServer("alive");
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               timeout connect 500ms
            listen px
               bind 127.0.0.1:{PORT0}
               server back 127.0.0.1:{{port}} check inter 100ms rise 2 fall 1
               server alive 127.0.0.1:{{alive.Port}}
            """);
        await h.WaitForStderrAsync("Server px/back is DOWN", TimeSpan.FromSeconds(8));
        await using var back = new TestServer("back", port: port);
        await h.WaitForStderrAsync("Server px/back is UP", TimeSpan.FromSeconds(8));
        var seen = new HashSet<string>();
        for (int i = 0; i < 6; i++)
        {
            seen.Add(await HaluaProcess.ExchangeAsync(h.Ports[0]));
        }

        Assert.Contains("back", seen);
    }

    [Fact]
    public async Task ServerMaxconn_SecondClientQueues_ThenIsServed()
    {
        var release = new TaskCompletionSource();
        await using var slow = new TestServer("slow", async s =>
        {
            await release.Task;
            await s.SendAsync(Encoding.ASCII.GetBytes("slow"));
        });
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               timeout connect 2s
               timeout queue 5s
            listen px
               bind 127.0.0.1:{PORT0}
               server slow 127.0.0.1:{{slow.Port}} maxconn 1
            """);
        var first = HaluaProcess.ExchangeAsync(h.Ports[0]);
        await Task.Delay(200);
        var second = HaluaProcess.ExchangeAsync(h.Ports[0]);
        await Task.Delay(300);
        Assert.Equal(1, slow.Connections);
        Assert.False(second.IsCompleted);
        release.SetResult();
        Assert.Equal("slow", await first);
        Assert.Equal("slow", await second);
        Assert.Equal(2, slow.Connections);
    }

    [Fact]
    public async Task UseBackend_WithNamedAcl_RoutesByDestinationPort()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               timeout connect 2s
            frontend fe
               bind 127.0.0.1:{PORT0}
               bind 127.0.0.1:{PORT1}
               acl to_second dst_port {PORT1}
               acl local src 127.0.0.0/8
               use_backend bb if to_second local
               default_backend ba
            backend ba
               server a 127.0.0.1:{{a.Port}}
            backend bb
               server b 127.0.0.1:{{b.Port}}
            """);
        Assert.Equal("A", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        Assert.Equal("B", await HaluaProcess.ExchangeAsync(h.Ports[1]));
    }

    [Fact]
    public async Task TcpRequestReject_WithAnonymousAcl_ClosesWithoutConnecting()
    {
        await using var a = new TestServer("A");
        await using var h = await HaluaProcess.StartAsync($$"""
            listen px
               bind 127.0.0.1:{PORT0}
               tcp-request content reject if { src 127.0.0.1 }
               server a 127.0.0.1:{{a.Port}}
            """);
        Assert.Equal("", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        Assert.Equal(0, a.Connections);
    }

    [Fact]
    public async Task Tunnel_HalfCloseAndLargeTransfer_BytesIntact()
    {
        await using var echo = new TestServer("echo", async s =>
        {
            var buf = new byte[65536];
            int n;
            while ((n = await s.ReceiveAsync(buf)) > 0)
            {
                await s.SendAsync(buf.AsMemory(0, n));
            }
        });
        await using var h = await HaluaProcess.StartAsync($$"""
            listen px
               bind 127.0.0.1:{PORT0}
               server e 127.0.0.1:{{echo.Port}}
            """);
        var payload = new byte[8 * 1024 * 1024];
        new Random(42).NextBytes(payload);
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, h.Ports[0]);
        var send = Task.Run(async () =>
        {
            await s.SendAsync(payload);
            s.Shutdown(SocketShutdown.Send);
        });
        var received = new MemoryStream();
        var buf = new byte[65536];
        int n;
        while ((n = await s.ReceiveAsync(buf)) > 0)
        {
            received.Write(buf, 0, n);
        }

        await send;
        Assert.True(payload.AsSpan().SequenceEqual(received.ToArray()), "echoed bytes differ");
    }

    [Fact]
    public async Task Tunnel_ManyConcurrentStreams_EveryByteIntact()
    {
        // 200 streams at once, each its own size and write pattern, through two workers: the
        // event loops' readiness tracking must lose no wake-up and mix no bytes.
        await using var echo = new TestServer("echo", async s =>
        {
            var buf = new byte[7000];
            int n;
            while ((n = await s.ReceiveAsync(buf)) > 0)
            {
                await s.SendAsync(buf.AsMemory(0, n));
            }
        });
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               nbthread 2
            defaults
               timeout connect 2s
               timeout client 20s
               timeout server 20s
            listen px
               bind 127.0.0.1:{PORT0}
               server e 127.0.0.1:{{echo.Port}}
            """);
        var sw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 200 }, async (i, _) =>
        {
            var rnd = new Random(i);
            var payload = new byte[rnd.Next(1, 300_000)];
            rnd.NextBytes(payload);
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await s.ConnectAsync(IPAddress.Loopback, h.Ports[0]);
            var send = Task.Run(async () =>
            {
                int off = 0;
                while (off < payload.Length)
                {
                    int len = Math.Min(payload.Length - off, rnd.Next(1, 40_000));
                    await s.SendAsync(payload.AsMemory(off, len));
                    off += len;
                }

                s.Shutdown(SocketShutdown.Send);
            });
            var received = new MemoryStream();
            var buf = new byte[16384];
            int n;
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0)
            {
                received.Write(buf, 0, n);
            }

            await send;
            Assert.True(payload.AsSpan().SequenceEqual(received.ToArray()), $"stream {i}: echoed bytes differ ({received.Length} of {payload.Length})");
        });
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task ConnectFailure_RetriesThenRedispatchesToAnotherServer()
    {
        // A port bound but not listening: connections are refused, and no other test can take it.
        using var reserved = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        reserved.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int dead = ((IPEndPoint)reserved.LocalEndPoint!).Port;
        await using var good = new TestServer("good");
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               timeout connect 300ms
               retries 2
               option redispatch
            listen px
               bind 127.0.0.1:{PORT0}
               balance first
               server dead 127.0.0.1:{{dead}}
               server good 127.0.0.1:{{good.Port}}
            """);
        Assert.Equal("good", await HaluaProcess.ExchangeAsync(h.Ports[0]));
    }

    [Fact]
    public async Task TimeoutTunnel_ReplacesClientAndServerTimeoutsOnceConnected()
    {
        await using var echo = new TestServer("echo", async s =>
        {
            var buf = new byte[1024];
            int n;
            while ((n = await s.ReceiveAsync(buf)) > 0)
            {
                await s.SendAsync(buf.AsMemory(0, n));
            }
        });
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode tcp
               timeout connect 2s
               timeout client 1s
               timeout server 1s
            listen tunnel
               bind 127.0.0.1:{PORT0}
               timeout tunnel 6s
               server e 127.0.0.1:{{echo.Port}}
            listen plain
               bind 127.0.0.1:{PORT1}
               server e 127.0.0.1:{{echo.Port}}
            """);

        using var viaTunnel = await ConnectAsync(h.Ports[0]);
        using var viaPlain = await ConnectAsync(h.Ports[1]);
        Assert.Equal("a", await RoundTripAsync(viaTunnel, "a"));
        Assert.Equal("a", await RoundTripAsync(viaPlain, "a"));

        // Idle beyond client and server timeouts, within the tunnel timeout.
        await Task.Delay(2500);
        Assert.Equal("b", await RoundTripAsync(viaTunnel, "b"));
        Assert.True(await IsClosedAsync(viaPlain), "the proxy without timeout tunnel kept an idle connection past timeout client");

        // Idle beyond the tunnel timeout: closed.
        var sw = Stopwatch.StartNew();
        Assert.True(await IsClosedAsync(viaTunnel, TimeSpan.FromSeconds(14)), "timeout tunnel did not close an idle tunnel");
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(14));
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        return s;
    }

    private static async Task<string> RoundTripAsync(Socket s, string text)
    {
        await s.SendAsync(Encoding.ASCII.GetBytes(text));
        var buf = new byte[64];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        int n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token);
        return Encoding.ASCII.GetString(buf, 0, n);
    }

    /// <summary>True when the peer ends the connection (FIN or reset) within the wait.</summary>
    private static async Task<bool> IsClosedAsync(Socket s, TimeSpan? wait = null)
    {
        var buf = new byte[64];
        using var cts = new CancellationTokenSource(wait ?? TimeSpan.FromSeconds(1));
        try
        {
            return await s.ReceiveAsync(buf, SocketFlags.None, cts.Token) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
