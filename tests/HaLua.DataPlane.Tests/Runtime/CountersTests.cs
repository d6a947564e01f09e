using System.Net;
using System.Net.Sockets;
using System.Text;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Runtime;

/// <summary>
/// The runtime in this process (real listeners, sockets and streams), read through the counters
/// the stats issue will expose: HAProxy's meanings of stot, scur, bin, bout, econ, chkfail...
/// </summary>
public class CountersTests
{
    [Fact]
    public async Task Counters_CountSessionsBytesConnectErrorsAndChecks_OverIPv4AndIPv6Binds()
    {
        await using var good = new TestServer("good");
        using var reserved = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        reserved.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int dead = ((IPEndPoint)reserved.LocalEndPoint!).Port;
        int v4 = HaluaProcess.FreePort();
        int v6 = FreeIPv6Port();
        int svc = HaluaProcess.FreePort();
        var lua = Path.Combine(Directory.CreateTempSubdirectory("halua-counters-").FullName, "echo.lua");
        File.WriteAllText(lua, """
            core.register_service("echo", "tcp", function(applet)
               local data = applet:receive()
               applet:send("echo:" .. (data or ""))
            end)
            """);

        var parsed = ConfigParser.Parse($"""
            global
               lua-load {lua}
            defaults
               mode tcp
               timeout connect 1s
               timeout client 5s
               timeout server 5s
               retries 0
            frontend fe
               bind 127.0.0.1:{v4}
               bind [::1]:{v6}
               default_backend be
            backend be
               balance roundrobin
               server good 127.0.0.1:{good.Port}
               server dead 127.0.0.1:{dead}
            backend chk
               server down 127.0.0.1:{dead} check inter 100ms fall 2 rise 1
            listen svc
               bind 127.0.0.1:{svc}
               tcp-request content use-service lua.echo
            """);
        Assert.Empty(parsed.Errors);
        var (generation, errors) = GenerationBuilder.Build(parsed.Config!);
        Assert.Empty(errors);
        var host = new DataPlaneHost(generation!);
        try
        {
            Assert.Empty(host.Start());
            var answers = new List<string>();
            foreach (var ep in new[] { new IPEndPoint(IPAddress.Loopback, v4), new IPEndPoint(IPAddress.IPv6Loopback, v6), new IPEndPoint(IPAddress.Loopback, v4), new IPEndPoint(IPAddress.IPv6Loopback, v6) })
            {
                answers.Add(await ExchangeAsync(ep, "ping"));
            }

            // Round robin: good, dead (refused: the client just sees the end), good, dead.
            Assert.Equal(["good", "", "good", ""], answers);

            var fe = generation!.Proxies.Single(p => p.Name == "fe");
            var be = generation.FindBackend("be")!.Backend!;
            var goodSrv = be.Servers.Single(s => s.Name == "good");
            var deadSrv = be.Servers.Single(s => s.Name == "dead");
            await WaitUntilAsync(() => Volatile.Read(ref fe.FrontendCounters.Scur) == 0);

            Assert.Equal(4, fe.FrontendCounters.Stot);
            Assert.InRange(fe.FrontendCounters.Smax, 1, 4);
            await WaitUntilAsync(() => Volatile.Read(ref be.Counters.Scur) == 0 && Volatile.Read(ref goodSrv.Counters.Scur) == 0);
            Assert.Equal(4, be.Counters.Stot);
            Assert.Equal(2, goodSrv.Counters.Stot);
            Assert.Equal(2, deadSrv.Counters.Stot);
            Assert.Equal(2, deadSrv.Counters.Econ);
            Assert.Equal(2, be.Counters.Econ);
            Assert.Equal(0, goodSrv.Counters.Econ);

            // Bytes: the good server got both pings (bin) and sent its name twice (bout).
            Assert.Equal(8, goodSrv.Counters.Bin);
            Assert.Equal(8, goodSrv.Counters.Bout);
            Assert.Equal(8, be.Counters.Bout);
            Assert.Equal(8, fe.FrontendCounters.Bout);

            // Each bind is a listener with its own counters.
            Assert.Equal(2, fe.Listeners.Count);
            Assert.All(fe.Listeners, l => Assert.Equal(2, l.Counters.Stot));
            Assert.Equal(8, fe.Listeners.Sum(l => l.Counters.Bout));

            // A Lua service's traffic is the frontend's: 4 bytes in, 9 out.
            Assert.Equal("echo:ping", await ExchangeAsync(new IPEndPoint(IPAddress.Loopback, svc), "ping"));
            var svcPx = generation.Proxies.Single(p => p.Name == "svc");
            await WaitUntilAsync(() => Volatile.Read(ref svcPx.FrontendCounters.Bout) == 9);
            Assert.Equal(4, svcPx.FrontendCounters.Bin);
            Assert.Equal(9, svcPx.Listeners.Single().Counters.Bout);

            // The checked server: failed checks counted, down after 'fall' of them, once.
            var down = generation.FindBackend("chk")!.Backend!.Servers.Single();
            await WaitUntilAsync(() => down.Oper == ServerOperState.Down);
            Assert.True(down.Counters.ChkFail >= 2, $"chkfail {down.Counters.ChkFail}");
            Assert.Equal(1, down.Counters.ChkDown);
        }
        finally
        {
            await host.StopAsync(TimeSpan.Zero);
            host.Dispose();
        }
    }

    private static int FreeIPv6Port()
    {
        using var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    private static async Task<string> ExchangeAsync(IPEndPoint ep, string send)
    {
        using var s = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(ep);
        await s.SendAsync(Encoding.ASCII.GetBytes(send));
        s.Shutdown(SocketShutdown.Send);
        var ms = new MemoryStream();
        var buf = new byte[256];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            int n;
            while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0)
            {
                ms.Write(buf, 0, n);
            }
        }
        catch (SocketException)
        {
            // reset by the proxy after a failed connect
        }

        return Encoding.ASCII.GetString(ms.ToArray());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(5);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not met within 5 s");
            await Task.Delay(20);
        }
    }
}
