using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Health;
using HaLua.DataPlane.Model;

namespace HaLua.DataPlane.Tests.Health;

public sealed class HealthCheckTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    // Generous: on a loaded 2-core CI machine a loopback connect can take long; a probe to a
    // listening port succeeds and one to a closed port is refused at once, whatever the timeout.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly CheckTimeouts Timeouts = new(ProbeTimeout, null, ProbeTimeout);

    /// <summary>The real TCP check, with every result recorded in order (server name, success).</summary>
    private sealed class RecordingCheck : IHealthCheck
    {
        private readonly TcpConnectCheck _inner = new();

        public ConcurrentQueue<(string Server, bool Ok, string Status)> Results { get; } = new();

        public string Name => _inner.Name;

        public async ValueTask<CheckResult> ProbeAsync(ServerState server, CheckTimeouts timeouts, CancellationToken cancellationToken)
        {
            var r = await _inner.ProbeAsync(server, timeouts, cancellationToken).ConfigureAwait(false);
            Results.Enqueue((server.Name, r.Ok, r.Status));
            return r;
        }

        public List<bool> For(string server) => [.. Results.Where(r => r.Server == server).Select(r => r.Ok)];
    }

    /// <summary>
    /// A listener on <paramref name="port"/>, or on a free port below the kernel's ephemeral range
    /// (32768 and up) when none is given: a port this test stops and listens on again must not be
    /// taken meanwhile as the local port of another test's connection (nor self-connected to).
    /// </summary>
    private static TcpListener Listen(int port = 0)
    {
        if (port != 0)
        {
            var again = new TcpListener(IPAddress.Loopback, port);
            again.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            again.Start();
            return again;
        }

        for (int attempt = 0; ; attempt++)
        {
            var l = new TcpListener(IPAddress.Loopback, Random.Shared.Next(20000, 32000));
            l.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            try
            {
                l.Start();
                return l;
            }
            catch (SocketException) when (attempt < 50)
            {
                // taken: try another
            }
        }
    }

    private static ServerState Server(BackendState be, ServerConfig config, int id, int port) =>
        new(config, id, be, new IPEndPoint(IPAddress.Loopback, port));

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(sw.Elapsed < Bound, $"timed out waiting until {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task TcpConnectCheck_ListeningServer_IsL4OK()
    {
        using var listener = Listen();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var be = new BackendState(new ProxyConfig("be", ProxyCapabilities.Backend, default));
        var s = Server(be, new ServerConfig("s", "127.0.0.1", port, default), 1, port);

        var r = await new TcpConnectCheck().ProbeAsync(s, Timeouts, CancellationToken.None);

        Assert.True(r.Ok);
        Assert.Equal("L4OK", r.Status);
    }

    [Fact]
    public async Task TcpConnectCheck_ClosedPort_IsL4CON()
    {
        int port;
        using (var l = Listen())
        {
            port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
        }

        var be = new BackendState(new ProxyConfig("be", ProxyCapabilities.Backend, default));
        var s = Server(be, new ServerConfig("s", "127.0.0.1", port, default), 1, port);

        var r = await new TcpConnectCheck().ProbeAsync(s, Timeouts, CancellationToken.None);

        Assert.False(r.Ok);
        Assert.Equal("L4CON", r.Status);
        Assert.Equal("Layer4 connection problem, info: \"Connection refused\", check duration: 3ms", r.Describe(TimeSpan.FromMilliseconds(3)));
    }

    [Fact]
    public async Task HealthCheckService_ListenerStopsThenReturns_DownAfterFallUpAfterRise()
    {
        const int Rise = 2;
        const int Fall = 3;
        var listener = Listen();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var inter = TimeSpan.FromMilliseconds(100);
        var be = new BackendState(new ProxyConfig("be", ProxyCapabilities.Backend, default));
        var checkedServer = Server(be, new ServerConfig("checked", "127.0.0.1", port, default) { Check = true, Inter = inter, Rise = Rise, Fall = Fall }, 1, port);
        var plain = Server(be, new ServerConfig("unchecked", "127.0.0.1", port, default) { Inter = inter }, 2, port);
        var maint = Server(be, new ServerConfig("maint", "127.0.0.1", port, default) { Check = true, Disabled = true, Inter = inter }, 3, port);
        be.SetServers([checkedServer, plain, maint]);

        var check = new RecordingCheck();
        var transitions = new ConcurrentQueue<(string State, int ResultsSoFar)>();
        be.ServerChanged += c =>
        {
            if (c.Server == checkedServer && c.What == "state")
            {
                transitions.Enqueue((c.New, check.For("checked").Count));
            }
        };

        try
        {
            await using (var service = new HealthCheckService(check))
            {
                service.Start(be.Servers, _ => Timeouts);

                // Up while it listens: successes never change the state.
                await WaitUntilAsync(() => check.For("checked").Count >= 2, "two checks passed");
                Assert.All(check.For("checked"), Assert.True);
                Assert.Equal(ServerOperState.Up, checkedServer.Oper);
                Assert.Equal("L4OK", checkedServer.CheckStatus);

                listener.Stop();
                // The state changes before its event is raised: wait for the event.
                await WaitUntilAsync(() => !transitions.IsEmpty, "the server is down");

                var down = Assert.Single(transitions);
                Assert.Equal("DOWN", down.State);
                var atDown = check.For("checked")[..down.ResultsSoFar];
                Assert.Equal(Enumerable.Repeat(false, Fall), atDown[^Fall..]);
                Assert.True(atDown[^(Fall + 1)], "the check before the failures passed: exactly 'fall' failures took it down");
                Assert.Equal("L4CON", checkedServer.CheckStatus);
                Assert.Equal(1, checkedServer.Counters.ChkDown);
                Assert.False(checkedServer.IsUsable);

                listener = Listen(port);
                await WaitUntilAsync(() => transitions.Count >= 2, "the server is up again");

                Assert.Equal(["DOWN", "UP"], transitions.Select(t => t.State));
                var afterDown = check.For("checked")[down.ResultsSoFar..transitions.Last().ResultsSoFar];
                Assert.Equal(Enumerable.Repeat(true, Rise), afterDown[^Rise..]);
                Assert.All(afterDown[..^Rise], Assert.False);
                Assert.Equal("L4OK", checkedServer.CheckStatus);
                Assert.True(checkedServer.IsUsable);
                Assert.True(checkedServer.Counters.ChkFail >= Fall);
            }

            // Only servers declared with 'check' and not in maintenance are probed.
            Assert.All(check.Results, r => Assert.Equal("checked", r.Server));
            Assert.Equal(ServerOperState.Up, plain.Oper);
            Assert.Equal(ServerOperState.Up, maint.Oper);
        }
        finally
        {
            listener.Dispose();
        }
    }

    [Fact]
    public async Task HealthCheckService_DeadServerFromStart_GoesDownAfterFallChecks()
    {
        int port;
        using (var l = Listen())
        {
            port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
        }

        var be = new BackendState(new ProxyConfig("be", ProxyCapabilities.Backend, default));
        var s = Server(be, new ServerConfig("dead", "127.0.0.1", port, default) { Check = true, Inter = TimeSpan.FromMilliseconds(50), Rise = 1, Fall = 2 }, 1, port);
        be.SetServers([s]);
        var check = new RecordingCheck();
        int resultsAtDown = -1;
        be.ServerChanged += c =>
        {
            if (c.What == "state" && c.New == "DOWN")
            {
                resultsAtDown = check.Results.Count;
            }
        };

        await using (var service = new HealthCheckService(check))
        {
            service.Start(be.Servers, _ => Timeouts);
            await WaitUntilAsync(() => s.Oper == ServerOperState.Down, "the server is down");
        }

        Assert.Equal(2, resultsAtDown);
        Assert.Equal(0, be.UsableServers);
    }
}
