using System.Net;
using System.Net.Sockets;
using HaLua.DataPlane.Io;
using HaLua.DataPlane.Model;

namespace HaLua.DataPlane.Tests.Model;

/// <summary>The http-reuse pool of one server, on real loopback connections.</summary>
public sealed class IdleConnectionsTests : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _sockets = [];

    public IdleConnectionsTests() => _listener.Start();

    /// <summary>A time source the test moves by hand; its timers never fire (the test calls Purge).</summary>
    private sealed class ManualTime : TimeProvider
    {
        public long Now { get; set; }

        public override long TimestampFrequency => 1000;

        public override long GetTimestamp() => Now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NoTimer();

        private sealed class NoTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    /// <summary>A connected pair: the pool's side and the server's side.</summary>
    private (Connection Pooled, Socket Server) Pair()
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect((IPEndPoint)_listener.LocalEndpoint);
        var server = _listener.AcceptSocket();
        _sockets.Add(client);
        _sockets.Add(server);
        return (new SocketConnection(client), server);
    }

    private static bool ClosedByPool(Socket server)
    {
        server.ReceiveTimeout = 2000;
        try
        {
            return server.Receive(new byte[1]) == 0;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    [Fact]
    public void TryTake_MostRecentFirst_ProvenOnlySkipsSingleUseConnections_WorkersApart()
    {
        using var pool = new IdleConnections(workers: 2, maxIdle: -1, purgeDelay: TimeSpan.Zero);
        var (once, _) = Pair();
        var (twice, _) = Pair();
        var (other, _) = Pair();
        pool.Return(0, twice, requests: 2);
        pool.Return(0, once, requests: 1);
        pool.Return(1, other, requests: 5);

        Assert.Same(twice, pool.TryTake(0, provenOnly: true, out int requests));
        Assert.Equal(2, requests);
        Assert.Null(pool.TryTake(0, provenOnly: true, out _));
        Assert.Same(once, pool.TryTake(0, provenOnly: false, out _));
        Assert.Null(pool.TryTake(0, provenOnly: false, out _));
        Assert.Same(other, pool.TryTake(1, provenOnly: false, out _));
    }

    [Fact]
    public void TryTake_ConnectionTheServerClosed_IsDroppedNotHandedOut()
    {
        using var pool = new IdleConnections(workers: 1, maxIdle: -1, purgeDelay: TimeSpan.Zero);
        var (alive, _) = Pair();
        var (dead, deadServer) = Pair();
        pool.Return(0, alive, 1);
        pool.Return(0, dead, 1);
        deadServer.Close();
        Thread.Sleep(50);

        Assert.Same(alive, pool.TryTake(0, provenOnly: false, out _));
        Assert.Equal(0, pool.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Return_BeyondPoolMaxConn_ClosesTheConnection(int max)
    {
        using var pool = new IdleConnections(workers: 2, maxIdle: max, purgeDelay: TimeSpan.Zero);
        var (first, firstServer) = Pair();
        var (second, secondServer) = Pair();
        pool.Return(0, first, 1);
        pool.Return(1, second, 1);

        Assert.Equal(max, pool.Count);
        Assert.True(ClosedByPool(max == 0 ? firstServer : secondServer));
        if (max == 1)
        {
            // Taking one makes room again.
            Assert.Same(first, pool.TryTake(0, provenOnly: false, out _));
            pool.Return(1, second, 1);
            Assert.Equal(1, pool.Count);
        }
    }

    [Fact]
    public void Purge_ClosesHalfOfTheConnectionsIdleForAWholeDelay_OldestFirst()
    {
        var time = new ManualTime();
        using var pool = new IdleConnections(workers: 1, maxIdle: -1, purgeDelay: TimeSpan.FromSeconds(5), time);
        var pairs = Enumerable.Range(0, 5).Select(_ => Pair()).ToList();
        for (int i = 0; i < 4; i++)
        {
            time.Now = i;
            pool.Return(0, pairs[i].Pooled, 1);
        }

        time.Now = 5_000;
        pool.Return(0, pairs[4].Pooled, 1);
        time.Now = 5_002;
        pool.Purge();

        // Idle for 5 s: the first three (two of them closed, rounded up from 3/2); the last two are younger.
        Assert.Equal(3, pool.Count);
        Assert.True(ClosedByPool(pairs[0].Server));
        Assert.True(ClosedByPool(pairs[1].Server));
        Assert.Same(pairs[4].Pooled, pool.TryTake(0, provenOnly: false, out _));
        Assert.Same(pairs[3].Pooled, pool.TryTake(0, provenOnly: false, out _));
        Assert.Same(pairs[2].Pooled, pool.TryTake(0, provenOnly: false, out _));
    }

    public void Dispose()
    {
        foreach (var s in _sockets)
        {
            s.Dispose();
        }

        _listener.Stop();
    }
}
