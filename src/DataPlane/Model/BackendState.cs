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

    public BackendState(ProxyConfig config)
    {
        Config = config;
        Balancer = LoadBalancers.Create(config.Balance);
        HealthCheck = config.HttpCheck is { } http ? new HttpCheck(http) : new TcpConnectCheck();
    }

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

        ServerChanged?.Invoke(change);
        if (server.IsUsable)
        {
            ServeQueue(server);
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
