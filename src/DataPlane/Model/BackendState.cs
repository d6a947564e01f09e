using System.Net;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Health;
using HaLua.DataPlane.LoadBalancing;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Model;

/// <summary>
/// The runtime of a backend: its servers, its load-balancing policy and its queue. A stream asks
/// for a server with <see cref="AcquireAsync"/> and gives its slot back with <see cref="Release"/>;
/// when every usable server is at its maxconn the stream waits in the backend queue (FIFO) up to
/// <c>timeout queue</c>.
/// </summary>
internal sealed class BackendState
{
    private readonly object _queueLock = new();
    private readonly LinkedList<TaskCompletionSource<ServerState?>> _queue = new();
    private readonly object _stateLock = new();
    private bool _up = true;
    private long _lastChange = Environment.TickCount64;
    private long _downSince;
    private long _downTotal;

    public BackendState(ProxyConfig config)
    {
        Config = config;
        Balancer = LoadBalancers.Create(config.Balance);
        HealthCheck = config.HttpCheck is { } http ? new HttpCheck(http) : new TcpConnectCheck();
    }

    /// <summary>Weights can change at runtime (HAProxy: not with static-rr nor a map-based hash such as source).</summary>
    public bool HasDynamicWeights => Config.Balance is not (BalanceAlgorithm.StaticRoundRobin or BalanceAlgorithm.Source);

    /// <summary>Servers that take load-balanced traffic now, active ones (HAProxy's act) and backups (bck).</summary>
    public int ActiveServers => Servers.Count(s => s.IsUsable && !s.IsBackup);

    public int BackupServers => Servers.Count(s => s.IsUsable && s.IsBackup);

    /// <summary>
    /// The weight the balancer shares (HAProxy's total effective weight): the usable active servers',
    /// or when none is usable the first usable backup's (HaLua has no <c>allbackups</c>).
    /// </summary>
    public long TotalWeight
    {
        get
        {
            long active = Servers.Where(s => s.IsUsable && !s.IsBackup).Sum(s => (long)s.Weight);
            return active > 0 ? active : Servers.FirstOrDefault(s => s.IsUsable && s.IsBackup)?.Weight ?? 0;
        }
    }

    /// <summary>HAProxy's backend status: UP while some server takes traffic (or when it has none at all).</summary>
    public bool IsUp => Servers.Count == 0 || TotalWeight > 0;

    /// <summary>The times the backend went down (chkdown of its BACKEND row).</summary>
    public long DownTransitions;

    /// <summary>Seconds since the backend last went up or down.</summary>
    public long SecondsSinceLastChange => (Environment.TickCount64 - Volatile.Read(ref _lastChange)) / 1000;

    /// <summary>Seconds the backend has been down since the start.</summary>
    public long DowntimeSeconds
    {
        get
        {
            lock (_stateLock)
            {
                long total = _downTotal + (_downSince != 0 ? Environment.TickCount64 - _downSince : 0);
                return total / 1000;
            }
        }
    }

    /// <summary>HAProxy's <c>fullconn</c> default, the BACKEND row's slim: a tenth of the maxconn of the frontends that lead here.</summary>
    public int FullConn { get; set; }

    public ProxyConfig Config { get; }

    public string Name => Config.Name;

    public IReadOnlyList<ServerState> Servers { get; private set; } = [];

    public ILoadBalancer Balancer { get; }

    /// <summary>The probe of its servers' active checks: HTTP with <c>option httpchk</c>, else TCP.</summary>
    public IHealthCheck HealthCheck { get; }

    public Counters Counters { get; } = new();

    /// <summary>Raised on every server state, weight or address change.</summary>
    public event Action<ServerStateChange>? ServerChanged;

    public void SetServers(IReadOnlyList<ServerState> servers)
    {
        Servers = servers;
        Balancer.Reset(servers);
        lock (_stateLock)
        {
            _up = IsUp;
            _downSince = _up ? 0 : Environment.TickCount64;
        }
    }

    public ServerState? FindServer(string name) => Servers.FirstOrDefault(s => s.Name == name);

    /// <summary>Active servers that can take traffic now (HAProxy's nbsrv).</summary>
    public int UsableServers => Servers.Count(s => s.IsUsable && !s.IsBackup);

    internal void OnServerChanged(ServerState server, ServerStateChange change)
    {
        if (change.What is "state" or "admin")
        {
            string verb = server.IsUsable ? "is UP" : $"is {server.StatusText}";
            var msg = $"{(server.IsBackup ? "Backup " : "")}Server {Name}/{server.Name} {verb}, reason: {change.Reason}. {UsableServers} active and {Servers.Count(s => s.IsUsable && s.IsBackup)} backup servers online.";
            if (server.IsUsable)
            {
                ProcessLog.Instance.Notice(msg);
            }
            else
            {
                ProcessLog.Instance.Warning(msg);
                if (UsableServers == 0 && !Servers.Any(s => s.IsUsable))
                {
                    ProcessLog.Instance.Alert($"backend '{Name}' has no server available!");
                }
            }
        }

        TrackUpDown();
        ServerChanged?.Invoke(change);
        if (server.IsUsable)
        {
            ServeQueue(server);
        }
    }

    /// <summary>Keeps the backend's own up/down history (lastchg, downtime, chkdown) in step with its servers.</summary>
    private void TrackUpDown()
    {
        bool up = IsUp;
        lock (_stateLock)
        {
            if (up == _up)
            {
                return;
            }

            _up = up;
            long now = Environment.TickCount64;
            Volatile.Write(ref _lastChange, now);
            if (up)
            {
                _downTotal += now - _downSince;
                _downSince = 0;
            }
            else
            {
                _downSince = now;
                Interlocked.Increment(ref DownTransitions);
            }
        }
    }

    /// <summary>
    /// Picks a server and takes a slot on it. Null when no server is usable, or when the queue
    /// timeout expired.
    /// </summary>
    public async ValueTask<ServerState?> AcquireAsync(IPAddress? source, ServerState? avoid, TimeSpan queueTimeout, CancellationToken cancellationToken)
    {
        while (true)
        {
            var s = Balancer.Pick(this, source, avoid);
            if (s is null)
            {
                break;
            }

            if (s.TryTakeSlot())
            {
                Counters.Inc(ref s.Counters.Lbtot);
                Counters.Inc(ref Counters.Lbtot);
                return s;
            }
        }

        if (!Servers.Any(x => x.IsUsable))
        {
            return null;
        }

        return await WaitInQueueAsync(queueTimeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Every usable server is full: wait in the backend queue. (Its own method: the lambda's
    /// closure would otherwise be allocated on every acquisition, queued or not.)
    /// </summary>
    private async ValueTask<ServerState?> WaitInQueueAsync(TimeSpan queueTimeout, CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource<ServerState?>(TaskCreationOptions.RunContinuationsAsynchronously);
        LinkedListNode<TaskCompletionSource<ServerState?>> node;
        lock (_queueLock)
        {
            node = _queue.AddLast(waiter);
        }

        Counters.Queued();
        try
        {
            using var timeout = queueTimeout > TimeSpan.Zero ? new CancellationTokenSource(queueTimeout) : new CancellationTokenSource();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            using (linked.Token.Register(() => waiter.TrySetResult(null)))
            {
                var s = await waiter.Task.ConfigureAwait(false);
                if (s is not null)
                {
                    Counters.Inc(ref s.Counters.Lbtot);
                    Counters.Inc(ref Counters.Lbtot);
                }

                return s;
            }
        }
        finally
        {
            Counters.Dequeued();
            lock (_queueLock)
            {
                if (node.List is not null)
                {
                    _queue.Remove(node);
                }
            }
        }
    }

    /// <summary>Gives a slot back; a queued stream takes it at once.</summary>
    public void Release(ServerState server)
    {
        server.ReleaseSlot();
        ServeQueue(server);
    }

    private void ServeQueue(ServerState server)
    {
        while (true)
        {
            TaskCompletionSource<ServerState?> next;
            lock (_queueLock)
            {
                if (_queue.First is not { } first || !server.IsUsable || !server.TryTakeSlot())
                {
                    return;
                }

                next = first.Value;
                _queue.RemoveFirst();
            }

            if (next.TrySetResult(server))
            {
                return;
            }

            // That waiter gave up meanwhile: give the slot to the next one.
            server.ReleaseSlot();
        }
    }
}
