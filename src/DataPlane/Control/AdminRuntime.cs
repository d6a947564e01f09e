using System.Net;
using HaLua.Admin.V1;
using HaLua.ControlPlane;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Control;

/// <summary>
/// The admin API's door into the running data plane: each call is one runtime operation on the
/// live state (the same ones Lua's Proxy/Server classes and the text CLI use), answered with the
/// resulting state in the API's messages.
/// </summary>
internal sealed partial class AdminRuntime : IAdminRuntime
{
    private readonly DataPlaneHost _host;

    public AdminRuntime(DataPlaneHost host)
    {
        _host = host;
        _maps = new PatternAdmin(this, maps: true);
        _acls = new PatternAdmin(this, maps: false);
        SubscribeEvents();
    }

    private Generation Generation => _host.Generation;

    public IReadOnlyList<Proxy> ListProxies() => [.. Generation.Proxies.Select(p => ToMessage(p))];

    public Proxy GetProxy(string name) => ToMessage(FindProxy(name));

    public Proxy PauseProxy(string name)
    {
        var proxy = FindFrontend(name);
        foreach (var listener in proxy.Listeners)
        {
            listener.Pause();
        }

        Publish("proxy", proxy.Name, "state", "RUNNING", "PAUSED", "paused by the admin API");
        return ToMessage(proxy);
    }

    public Proxy ResumeProxy(string name)
    {
        var proxy = FindFrontend(name);
        if (proxy.Listeners.Any(l => l.IsStopped))
        {
            throw AdminException.FailedPrecondition($"proxy '{name}' is stopped and cannot be resumed");
        }

        foreach (var listener in proxy.Listeners)
        {
            listener.Resume();
        }

        Publish("proxy", proxy.Name, "state", "PAUSED", "RUNNING", "resumed by the admin API");
        return ToMessage(proxy);
    }

    public Proxy StopProxy(string name)
    {
        var proxy = FindFrontend(name);
        foreach (var listener in proxy.Listeners)
        {
            listener.StopAsync().GetAwaiter().GetResult();
        }

        Publish("proxy", proxy.Name, "state", "RUNNING", "STOPPED", "stopped by the admin API");
        return ToMessage(proxy);
    }

    public int ShutdownBackupSessions(string proxy)
        => throw AdminException.Unimplemented("shutting down sessions is not implemented yet");

    public IReadOnlyList<Server> ListServers(string? backend)
        => backend is null
            ? [.. Generation.Proxies.Where(p => p.Backend is not null).SelectMany(p => p.Backend!.Servers).Select(ToMessage)]
            : [.. FindBackend(backend).Servers.Select(ToMessage)];

    public Server GetServer(string backend, string server) => ToMessage(FindServer(backend, server));

    public Server SetWeight(string backend, string server, string weight)
    {
        var s = FindServer(backend, server);
        if (s.SetWeight(weight) is { } error)
        {
            throw AdminException.InvalidArgument(error);
        }

        return ToMessage(s);
    }

    public Server SetAddress(string backend, string server, string address, int port)
    {
        var s = FindServer(backend, server);
        if (!IPAddress.TryParse(address, out var ip))
        {
            throw AdminException.InvalidArgument($"invalid address '{address}' (an IPv4 or IPv6 address)");
        }

        if (port is < 0 or > 65535)
        {
            throw AdminException.InvalidArgument($"invalid port {port} (1..65535, or 0 to keep the current one)");
        }

        s.SetAddress(new IPEndPoint(ip, port == 0 ? s.Address.Port : port), "changed by the admin API");
        return ToMessage(s);
    }

    public Server SetAdminState(string backend, string server, AdminState state)
    {
        var s = FindServer(backend, server);
        var target = state switch
        {
            AdminState.Ready => ServerAdminState.Ready,
            AdminState.Drain => ServerAdminState.Drain,
            AdminState.Maint => ServerAdminState.Maint,
            _ => throw AdminException.InvalidArgument("state must be READY, DRAIN or MAINT"),
        };
        s.SetAdmin(target, "changed by the admin API");
        return ToMessage(s);
    }

    public Server SetHealth(string backend, string server, HealthAction action)
        => throw AdminException.Unimplemented("health actions are not implemented yet");

    public Server SetAgent(string backend, string server, AgentAction action)
        => throw AdminException.Unimplemented("agent actions are not implemented yet");

    public int ShutdownSessions(string backend, string server)
        => throw AdminException.Unimplemented("shutting down sessions is not implemented yet");

    public Server AddServer(AddServerRequest request)
        => throw AdminException.Unimplemented("adding servers is not implemented yet");

    public void DeleteServer(string backend, string server)
        => throw AdminException.Unimplemented("deleting servers is not implemented yet");

    public ReloadResponse ReloadLua() => throw AdminException.Unimplemented("Lua hot reload is not implemented yet");

    public LuaStatus GetLuaStatus() => throw AdminException.Unimplemented("Lua status is not implemented yet");

    public Task ExecuteCliAsync(string command, IAsyncEnumerable<ReadOnlyMemory<byte>>? input, Func<ReadOnlyMemory<byte>, Task> output, CancellationToken cancellationToken)
        => throw AdminException.Unimplemented("the runtime CLI is not implemented yet");

    public ShowInfoResponse ShowInfo() => throw AdminException.Unimplemented("show info is not implemented yet");

    public StatRows ShowStat(string? proxy, string? server = null) => throw AdminException.Unimplemented("show stat is not implemented yet");

    /// <summary>HAProxy's proxy id: the position in the configuration, from 1.</summary>
    private int ProxyId(ProxyRuntime proxy)
    {
        var all = Generation.Proxies;
        for (int i = 0; i < all.Count; i++)
        {
            if (ReferenceEquals(all[i], proxy))
            {
                return i + 1;
            }
        }

        return 0;
    }

    private ProxyRuntime FindProxy(string name)
        => Generation.Proxies.FirstOrDefault(p => p.Name == name) ?? throw AdminException.NotFound($"no proxy named '{name}'");

    private ProxyRuntime FindFrontend(string name)
    {
        var proxy = FindProxy(name);
        return proxy.IsFrontend ? proxy : throw AdminException.FailedPrecondition($"proxy '{name}' is a backend: it has no listener");
    }

    private BackendState FindBackend(string name)
    {
        var proxy = Generation.Proxies.FirstOrDefault(p => p.Name == name) ?? throw AdminException.NotFound($"no backend named '{name}'");
        return proxy.Backend ?? throw AdminException.NotFound($"proxy '{name}' is a frontend, not a backend");
    }

    private ServerState FindServer(string backend, string server)
        => FindBackend(backend).FindServer(server) ?? throw AdminException.NotFound($"no server '{server}' in backend '{backend}'");

    private Proxy ToMessage(ProxyRuntime p)
    {
        var m = new Proxy
        {
            Name = p.Name,
            Uuid = ProxyId(p),
            Frontend = p.IsFrontend,
            Backend = p.IsBackend,
            Mode = p.Config.Mode == Config.ProxyMode.Http ? "http" : "tcp",
            State = p.Listeners.Count > 0 && p.Listeners.All(l => l.IsStopped) ? ProxyState.Stopped
                : p.Listeners.Count > 0 && p.Listeners.All(l => l.IsPaused || l.IsStopped) ? ProxyState.Paused
                : ProxyState.Running,
            CurrentSessions = Interlocked.Read(ref (p.IsFrontend ? p.FrontendCounters : p.Backend!.Counters).Scur),
            TotalSessions = Interlocked.Read(ref (p.IsFrontend ? p.FrontendCounters : p.Backend!.Counters).Stot),
        };
        m.Listeners.AddRange(p.Listeners.Select(l => (l.LocalEndPoint ?? l.Bind.Endpoint).ToString()));
        if (p.Backend is { } b)
        {
            m.Servers.AddRange(b.Servers.Select(s => s.Name));
        }

        return m;
    }

    private static Server ToMessage(ServerState s) => new()
    {
        Backend = s.Backend.Name,
        Name = s.Name,
        Id = s.Id,
        Address = s.Address.Address.ToString(),
        Port = s.Address.Port,
        Weight = s.Weight,
        InitialWeight = s.InitialWeight,
        AdminState = s.Admin switch
        {
            ServerAdminState.Drain => AdminState.Drain,
            ServerAdminState.Maint => AdminState.Maint,
            _ => AdminState.Ready,
        },
        OperState = s.Oper switch
        {
            ServerOperState.NoLb => OperState.Nolb,
            ServerOperState.Down => OperState.Down,
            _ => OperState.Up,
        },
        Status = s.StatusText,
        Backup = s.IsBackup,
        CheckEnabled = s.CheckEnabled,
        CheckStatus = s.CheckStatus,
        CurrentSessions = s.Sessions,
        TotalSessions = Interlocked.Read(ref s.Counters.Stot),
    };

}
