using System.Net;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Model;

/// <summary>Administrative state set by an operator (HAProxy's runtime API / Lua Server class).</summary>
internal enum ServerAdminState { Ready, Drain, Maint }

/// <summary>Operational state set by health checks (or forced by an operator).</summary>
internal enum ServerOperState { Up, NoLb, Down }

/// <summary>A change of a server's state, for logs and watchers.</summary>
internal sealed record ServerStateChange(ServerState Server, string What, string Old, string New, string Reason);

/// <summary>
/// The runtime state of one server: address, weight and states change at runtime (operator, Lua,
/// health checks) and take effect on the next load-balancing decision.
/// </summary>
internal sealed class ServerState
{
    private volatile IPEndPoint _address;
    private int _weight;
    private volatile ServerAdminState _admin;
    private volatile ServerOperState _oper = ServerOperState.Up;
    private int _sessions;

    /// <param name="workers">The process's workers (nbthread): the idle connection pool keeps one list per worker.</param>
    public ServerState(ServerConfig config, int id, BackendState backend, IPEndPoint address, int workers = 1)
    {
        IdleConnections = new IdleConnections(workers, config.PoolMaxConn, config.PoolPurgeDelay);
        Config = config;
        Id = id;
        Backend = backend;
        _address = address;
        InitialWeight = config.Weight;
        _weight = config.Weight;
        _admin = config.Disabled ? ServerAdminState.Maint : ServerAdminState.Ready;
        CheckEnabled = config.Check;
        LastChange = DateTime.UtcNow;
    }

    public ServerConfig Config { get; }

    public string Name => Config.Name;

    /// <summary>HAProxy's puid: 1-based order in the backend.</summary>
    public int Id { get; }

    public BackendState Backend { get; }

    public bool IsBackup => Config.Backup;

    public int MaxConn => Config.MaxConn;

    public int InitialWeight { get; }

    public Counters Counters { get; } = new();

    /// <summary>Connections to this server waiting for a request (<c>http-reuse</c>).</summary>
    public IdleConnections IdleConnections { get; }

    public IPEndPoint Address => _address;

    /// <summary>Where health checks connect: the server's address, or its <c>addr</c> and <c>port</c> options.</summary>
    public IPEndPoint CheckEndpoint => Config.CheckAddress is null && Config.CheckPort is null
        ? _address
        : new IPEndPoint(Config.CheckAddress ?? _address.Address, Config.CheckPort ?? _address.Port);

    public int Weight => Volatile.Read(ref _weight);

    public ServerAdminState Admin => _admin;

    public ServerOperState Oper => _oper;

    public bool CheckEnabled { get; set; }

    public DateTime LastChange { get; private set; }

    /// <summary>Last check result, HAProxy's words: L4OK, L4TOUT, L4CON...</summary>
    public string CheckStatus { get; set; } = "";

    public TimeSpan CheckDuration { get; set; }

    public int Sessions => Volatile.Read(ref _sessions);

    /// <summary>Can take new load-balanced traffic.</summary>
    public bool IsUsable => _admin == ServerAdminState.Ready && _oper == ServerOperState.Up && Weight > 0;

    /// <summary>Below its maxconn (or without one).</summary>
    public bool HasFreeSlot => MaxConn <= 0 || Sessions < MaxConn;

    public bool TryTakeSlot()
    {
        while (true)
        {
            int s = Volatile.Read(ref _sessions);
            if (MaxConn > 0 && s >= MaxConn)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _sessions, s + 1, s) == s)
            {
                return true;
            }
        }
    }

    /// <summary>Frees a slot; the backend may hand it to a queued stream.</summary>
    public void ReleaseSlot() => Interlocked.Decrement(ref _sessions);

    /// <summary>HAProxy's <c>set weight</c>: an absolute weight (0..256) or "N%" of the initial weight.</summary>
    public string? SetWeight(string text)
    {
        text = text.Trim();
        int w;
        if (text.EndsWith('%'))
        {
            if (!int.TryParse(text.AsSpan(0, text.Length - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pct) || pct > 100)
            {
                return "Invalid weight percentage (0..100%).";
            }

            w = (InitialWeight * pct + 50) / 100;
        }
        else if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out w) || w > 256)
        {
            return "Invalid weight (0..256).";
        }

        SetWeight(w);
        return null;
    }

    public void SetWeight(int weight)
    {
        int old = Interlocked.Exchange(ref _weight, Math.Clamp(weight, 0, 256));
        if (old != weight)
        {
            Backend.OnServerChanged(this, new ServerStateChange(this, "weight", old.ToString(System.Globalization.CultureInfo.InvariantCulture), weight.ToString(System.Globalization.CultureInfo.InvariantCulture), "set weight"));
        }
    }

    public void SetAdmin(ServerAdminState state, string reason)
    {
        var old = _admin;
        if (old == state)
        {
            return;
        }

        _admin = state;
        LastChange = DateTime.UtcNow;
        Backend.OnServerChanged(this, new ServerStateChange(this, "admin", old.ToString().ToUpperInvariant(), state.ToString().ToUpperInvariant(), reason));
    }

    public void SetOper(ServerOperState state, string reason)
    {
        var old = _oper;
        if (old == state)
        {
            return;
        }

        _oper = state;
        LastChange = DateTime.UtcNow;
        if (state == ServerOperState.Down)
        {
            Interlocked.Increment(ref Counters.ChkDown);
        }

        Backend.OnServerChanged(this, new ServerStateChange(this, "state", old == ServerOperState.NoLb ? "NOLB" : old.ToString().ToUpperInvariant(), state == ServerOperState.NoLb ? "NOLB" : state.ToString().ToUpperInvariant(), reason));
    }

    public void SetAddress(IPEndPoint address, string reason)
    {
        var old = _address;
        _address = address;
        Backend.OnServerChanged(this, new ServerStateChange(this, "addr", old.ToString(), address.ToString(), reason));
    }

    /// <summary>HAProxy's status column: UP, DOWN, MAINT, DRAIN, NOLB.</summary>
    public string StatusText => _admin switch
    {
        ServerAdminState.Maint => "MAINT",
        ServerAdminState.Drain => "DRAIN",
        _ => _oper switch
        {
            ServerOperState.Up => "UP",
            ServerOperState.NoLb => "NOLB",
            _ => "DOWN",
        },
    };
}
