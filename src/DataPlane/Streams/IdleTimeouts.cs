using System.Collections.Concurrent;

namespace HaLua.DataPlane.Streams;

/// <summary>
/// Inactivity timeouts for many streams at the cost of one timer: each stream records when each
/// side last made progress (a plain write, no timer re-arming on the hot path) and a scan every
/// 50 ms cancels the streams whose side has been idle longer than its timeout.
/// </summary>
internal sealed class IdleTimeouts : IDisposable
{
    private readonly ConcurrentDictionary<IdleWatch, byte> _watches = new();
    private readonly Timer _timer;

    public IdleTimeouts(TimeSpan? period = null)
    {
        var p = period ?? TimeSpan.FromMilliseconds(50);
        _timer = new Timer(_ => Scan(), null, p, p);
    }

    public static IdleTimeouts Shared { get; } = new();

    public IdleWatch Watch(TimeSpan clientTimeout, TimeSpan serverTimeout, CancellationToken parent)
    {
        var w = new IdleWatch(this, clientTimeout, serverTimeout, parent);
        _watches.TryAdd(w, 0);
        return w;
    }

    internal void Remove(IdleWatch w) => _watches.TryRemove(w, out _);

    private void Scan()
    {
        long now = Environment.TickCount64;
        foreach (var w in _watches.Keys)
        {
            w.Check(now);
        }
    }

    public void Dispose() => _timer.Dispose();
}

/// <summary>
/// One stream's idle tracking; disposing it stops the tracking. It is also the stream's node in
/// its server's registry (<see cref="Model.ServerStreams"/>): killing it cancels the stream as a
/// timeout would, with <see cref="Model.StreamLink.Killed"/> set.
/// </summary>
internal sealed class IdleWatch : Model.StreamLink, IDisposable
{
    private readonly IdleTimeouts _owner;
    private readonly CancellationTokenSource _cts;
    private long _clientTicks;
    private long _serverTicks;
    private long _tunnelTicks;
    private long _lastClient;
    private long _lastServer;

    public IdleWatch(IdleTimeouts owner, TimeSpan clientTimeout, TimeSpan serverTimeout, CancellationToken parent)
    {
        _owner = owner;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(parent);
        SetTimeouts(clientTimeout, serverTimeout);
        _lastClient = _lastServer = Environment.TickCount64;
    }

    public CancellationToken Token => _cts.Token;

    /// <summary>Which side expired first: 'c' (client), 's' (server) or '\0'.</summary>
    public char ExpiredSide { get; private set; }

    public void SetTimeouts(TimeSpan clientTimeout, TimeSpan serverTimeout)
    {
        _clientTicks = ToTicks(clientTimeout);
        _serverTicks = ToTicks(serverTimeout);
        _tunnelTicks = 0;
    }

    /// <summary>One inactivity limit for both sides together (timeout tunnel); zero means none.</summary>
    public void SetTunnel(TimeSpan tunnelTimeout)
    {
        _clientTicks = 0;
        _serverTicks = 0;
        _tunnelTicks = ToTicks(tunnelTimeout);
    }

    /// <summary>Milliseconds: activity is stamped with the coarse monotonic clock, the cheapest there is, on every transfer.</summary>
    private static long ToTicks(TimeSpan t) => t <= TimeSpan.Zero ? 0 : Math.Max(1, (long)t.TotalMilliseconds);

    public void ClientActivity() => Volatile.Write(ref _lastClient, Environment.TickCount64);

    public void ServerActivity() => Volatile.Write(ref _lastServer, Environment.TickCount64);

    internal void Check(long now)
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        if (_tunnelTicks > 0)
        {
            long last = Math.Max(Volatile.Read(ref _lastClient), Volatile.Read(ref _lastServer));
            if (now - last <= _tunnelTicks)
            {
                return;
            }

            ExpiredSide = 'c';
        }
        else if (_clientTicks > 0 && now - Volatile.Read(ref _lastClient) > _clientTicks)
        {
            ExpiredSide = 'c';
        }
        else if (_serverTicks > 0 && now - Volatile.Read(ref _lastServer) > _serverTicks)
        {
            ExpiredSide = 's';
        }
        else
        {
            return;
        }

        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the stream ended meanwhile
        }
    }

    /// <summary>Cancels the stream; the callbacks run on the thread pool, not on the caller's (often a Lua callback's) thread.</summary>
    protected override void OnKill()
    {
        try
        {
            _ = _cts.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // the stream ended meanwhile
        }
    }

    public void Dispose()
    {
        _owner.Remove(this);
        _cts.Dispose();
    }
}
