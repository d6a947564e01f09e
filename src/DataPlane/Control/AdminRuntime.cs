using System.Net;
using HaLua.Admin.V1;
using HaLua.ControlPlane;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Stats;

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

    public Proxy PauseProxy(string name) => ProxyOperation(name, px => RuntimeOperations.Pause(px, Updater));

    public Proxy ResumeProxy(string name) => ProxyOperation(name, px => RuntimeOperations.Resume(px, Updater));

    public Proxy StopProxy(string name) => ProxyOperation(name, px => RuntimeOperations.Stop(px, Updater));

    /// <summary>One of HAProxy's frontend operations; doing what is already done is not an error (an API call is idempotent).</summary>
    private Proxy ProxyOperation(string name, Func<ProxyRuntime, string?> operation)
    {
        var proxy = FindFrontend(name);
        if (operation(proxy) is { } error && !error.Contains("already", StringComparison.Ordinal))
        {
            throw AdminException.FailedPrecondition($"proxy '{name}': {error}");
        }

        return ToMessage(proxy);
    }

    internal static string StateName(FrontendState state) => state switch
    {
        FrontendState.Paused => "PAUSED",
        FrontendState.Stopped => "STOPPED",
        _ => "RUNNING",
    };

    public int ShutdownBackupSessions(string proxy) => RuntimeOperations.ShutdownBackupSessions(FindBackendProxy(proxy));

    public IReadOnlyList<Server> ListServers(string? backend)
        => backend is null
            ? [.. Generation.Proxies.Where(p => p.Backend is not null).SelectMany(p => p.Backend!.Servers).Select(ToMessage)]
            : [.. FindBackend(backend).Servers.Select(ToMessage)];

    public Server GetServer(string backend, string server) => ToMessage(FindServer(backend, server));

    public Server SetWeight(string backend, string server, string weight)
    {
        var s = FindServer(backend, server);
        if (RuntimeOperations.SetWeight(s, weight) is { } error)
        {
            throw AdminException.InvalidArgument(error);
        }

        return ToMessage(s);
    }

    public Server SetAddress(string backend, string server, string address, int port)
    {
        var s = FindServer(backend, server);
        if (port is < 0 or > 65535)
        {
            throw AdminException.InvalidArgument($"invalid port {port} (1..65535, or 0 to keep the current one)");
        }

        var (_, message) = RuntimeOperations.SetAddress(s, address, port == 0 ? null : port.ToString(System.Globalization.CultureInfo.InvariantCulture), Updater);
        if (message.StartsWith("Invalid addr", StringComparison.Ordinal))
        {
            throw AdminException.InvalidArgument($"{message} (a literal IPv4 or IPv6 address)");
        }

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
            _ => throw AdminException.InvalidArgument("state must be ADMIN_STATE_READY, ADMIN_STATE_DRAIN or ADMIN_STATE_MAINT"),
        };
        RuntimeOperations.SetState(s, target, Updater);
        return ToMessage(s);
    }

    public Server SetHealth(string backend, string server, HealthAction action)
    {
        var s = FindServer(backend, server);
        string? error = action switch
        {
            HealthAction.Enable => RuntimeOperations.EnableHealth(s),
            HealthAction.Disable => RuntimeOperations.DisableHealth(s),
            HealthAction.ForceUp => Do(() => RuntimeOperations.SetHealth(s, ServerOperState.Up, Updater)),
            HealthAction.ForceNolb => Do(() => RuntimeOperations.SetHealth(s, ServerOperState.NoLb, Updater)),
            HealthAction.ForceDown => Do(() => RuntimeOperations.SetHealth(s, ServerOperState.Down, Updater)),
            _ => throw AdminException.InvalidArgument("action must be one of HEALTH_ACTION_ENABLE, _DISABLE, _FORCE_UP, _FORCE_NOLB, _FORCE_DOWN"),
        };
        return error is null ? ToMessage(s) : throw AdminException.FailedPrecondition(error);
    }

    public Server SetAgent(string backend, string server, AgentAction action)
    {
        var s = FindServer(backend, server);
        string? error = action switch
        {
            AgentAction.Enable => RuntimeOperations.EnableAgent(s),
            AgentAction.Disable => RuntimeOperations.DisableAgent(s),
            AgentAction.ForceUp => RuntimeOperations.SetAgent(s, "up"),
            AgentAction.ForceDown => RuntimeOperations.SetAgent(s, "down"),
            _ => throw AdminException.InvalidArgument("action must be one of AGENT_ACTION_ENABLE, _DISABLE, _FORCE_UP, _FORCE_DOWN"),
        };
        return error is null ? ToMessage(s) : throw AdminException.FailedPrecondition(error);
    }

    public int ShutdownSessions(string backend, string server) => RuntimeOperations.ShutdownSessions(FindServer(backend, server));

    private static string? Do(Action action)
    {
        action();
        return null;
    }

    /// <summary>HAProxy's <c>add server</c>, the CLI's operation: in maintenance unless <c>enabled</c>.</summary>
    public Server AddServer(AddServerRequest request)
    {
        if (request.Port is < 1 or > 65535)
        {
            throw AdminException.InvalidArgument($"invalid port {request.Port} (1..65535)");
        }

        if (!IPAddress.TryParse(request.Address, out var ip))
        {
            throw AdminException.InvalidArgument($"invalid address '{request.Address}' (a literal IPv4 or IPv6 address)");
        }

        var args = new List<string> { new IPEndPoint(ip, request.Port).ToString() };
        if (request.Weight != 0)
        {
            args.AddRange(["weight", request.Weight.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        if (request.Backup)
        {
            args.Add("backup");
        }

        if (request.Check)
        {
            args.Add("check");
        }

        if (request.Enabled)
        {
            args.Add("enabled");
        }

        var change = _host.AddServerAsync(request.Backend, request.Server, args).AsTask().GetAwaiter().GetResult();
        return ToMessage(change.Server ?? throw ServerChangeFailed(change, request.Backend, request.Server));
    }

    /// <summary>HAProxy's <c>del server</c>, the CLI's operation: the server must be in maintenance without streams.</summary>
    public void DeleteServer(string backend, string server)
    {
        var change = _host.DeleteServerAsync(backend, server).AsTask().GetAwaiter().GetResult();
        if (change.Error != ServerChangeError.None)
        {
            throw ServerChangeFailed(change, backend, server);
        }
    }

    private static AdminException ServerChangeFailed(ServerChange change, string backend, string server)
    {
        string message = $"'{backend}/{server}': {change.Message.TrimEnd('\n')}";
        return change.Error switch
        {
            ServerChangeError.NotFound => AdminException.NotFound(message),
            ServerChangeError.Exists => new AdminException(Grpc.Core.StatusCode.AlreadyExists, message),
            ServerChangeError.Busy => AdminException.FailedPrecondition(message),
            _ => AdminException.InvalidArgument(message),
        };
    }

    public ReloadResponse ReloadLua(IReadOnlyDictionary<string, byte[]> sources)
    {
        var result = _host.ReloadLua(sources);
        if (!result.Done)
        {
            throw AdminException.FailedPrecondition($"Lua reload refused, generation {result.Generation} kept: {string.Join("; ", result.Errors)}");
        }

        var response = new ReloadResponse { Generation = result.Generation };
        response.Files.AddRange(Files());
        return response;
    }

    public LuaStatus GetLuaStatus()
    {
        var lua = Generation.Lua;
        var status = new LuaStatus
        {
            Generation = Generation.LuaGeneration,
            Errors = Generation.RetiredLuaErrors + lua.States.Sum(st => Interlocked.Read(ref st.Stats.Errors)),
            DrainingGenerations = _host.DrainingLuaEngines,
        };
        status.Files.AddRange(Files());
        status.States.AddRange(lua.States.Select(st => new LuaStateInfo
        {
            Name = st.WorkerIndex < 0 ? "shared" : $"thread {st.WorkerIndex + 1}",
            MemoryBytes = st.MeasureMemory(),
        }));
        return status;
    }

    private IEnumerable<LuaFile> Files()
        => Generation.Lua.LoadedFiles.Select(f => new LuaFile { Path = f.Path, Sha256 = f.Sha256, PerThread = f.PerThread, Origin = f.FromApi ? "api" : "disk" });

    /// <summary>
    /// The stats socket's command engine at the admin level (the caller authenticated): the command
    /// is the session's first line, <paramref name="input"/> the bytes that follow it (lines for a
    /// Lua command to read, or further commands after <c>prompt</c>). The output is exactly what
    /// the stats socket would send, chunk by chunk as it is produced.
    /// </summary>
    public Task ExecuteCliAsync(string command, IAsyncEnumerable<ReadOnlyMemory<byte>>? input, Func<ReadOnlyMemory<byte>, Task> output, CancellationToken cancellationToken)
    {
        var first = System.Text.Encoding.UTF8.GetBytes(command.EndsWith('\n') ? command : command + "\n");
        var transport = new Cli.CallbackCliTransport(Prepend(first, input), output);
        return new Cli.CliSession(_host, transport, Cli.CliLevel.Admin, Timeout.InfiniteTimeSpan).RunAsync(cancellationToken);
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Prepend(byte[] first, IAsyncEnumerable<ReadOnlyMemory<byte>>? rest)
    {
        yield return first;
        if (rest is not null)
        {
            await foreach (var chunk in rest.ConfigureAwait(false))
            {
                yield return chunk;
            }
        }
    }

    public ShowInfoResponse ShowInfo()
    {
        var response = new ShowInfoResponse();
        response.Fields.AddRange(Generation.Info.Rows().Select(r => new InfoField { Name = r.Name, Value = r.Value.ToString() }));
        return response;
    }

    public StatRows ShowStat(string? proxy, string? server = null)
    {
        IEnumerable<StatLine> lines;
        if (proxy is null)
        {
            lines = StatLines.All(Generation.Proxies);
        }
        else if (server is not null)
        {
            lines = [StatLines.Server(FindServer(proxy, server))];
        }
        else
        {
            lines = StatLines.All([FindProxy(proxy)]);
        }

        var rows = new StatRows();
        rows.Fields.AddRange(StatFields.Names);
        foreach (var line in lines)
        {
            var row = new StatRow();
            row.Values.AddRange(line.Fields.Select(f => f.Value.ToString()));
            rows.Rows.Add(row);
        }

        return rows;
    }

    /// <summary>Who changes things through this door, in HAProxy's messages.</summary>
    private const string Updater = RuntimeOperations.AdminUpdater;

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

    private ProxyRuntime FindBackendProxy(string name)
    {
        var proxy = Generation.Proxies.FirstOrDefault(p => p.Name == name) ?? throw AdminException.NotFound($"no backend named '{name}'");
        return proxy.Backend is not null ? proxy : throw AdminException.NotFound($"proxy '{name}' is a frontend, not a backend");
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
            State = !p.IsFrontend ? ProxyState.Running : p.State switch
            {
                FrontendState.Stopped => ProxyState.Stopped,
                FrontendState.Paused => ProxyState.Paused,
                _ => ProxyState.Running,
            },
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
