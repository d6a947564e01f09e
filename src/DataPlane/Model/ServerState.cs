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
    private int _checkHealth;
    private volatile bool _checkEnabled;
    private volatile bool _deleted;
    private readonly object _stateLock = new();
    private long _downSince;
    private long _downTotal;

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
        _checkHealth = config.Rise + config.Fall - 1;
        LastChange = DateTime.UtcNow;
        if (_admin == ServerAdminState.Maint)
        {
            _downSince = Environment.TickCount64;
        }
    }

    public ServerConfig Config { get; }

    public string Name => Config.Name;

    /// <summary>Added at runtime (HAProxy's <c>add server</c>), not by the configuration.</summary>
    public bool IsDynamic { get; init; }

    /// <summary>Removed from its backend (<c>del server</c>): its health checks stop.</summary>
    public bool IsDeleted
    {
        get => _deleted;
        set => _deleted = value;
    }

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

    /// <summary>Active checks run (a server declared with <c>check</c>, unless an operator disabled them).</summary>
    public bool CheckEnabled
    {
        get => _checkEnabled;
        set => _checkEnabled = value;
    }

    /// <summary>HAProxy's check health: 0 (down) to rise + fall - 1 (fully up); checks and forced states move it.</summary>
    public int CheckHealth
    {
        get => Volatile.Read(ref _checkHealth);
        set => Volatile.Write(ref _checkHealth, value);
    }

    /// <summary>The HTTP status of the last L7 check (check_code), 0 for L4 checks.</summary>
    public int CheckCode { get; set; }

    /// <summary>The last check's information (last_chk): "Connection refused", a reason phrase...</summary>
    public string CheckInfo { get; set; } = "";

    /// <summary>The streams using this server now (shut down by <c>shut_sess</c>).</summary>
    public ServerStreams Streams { get; } = new();

    /// <summary>
    /// HAProxy's <c>Server.is_draining</c>: no new load-balanced traffic while still serving, because
    /// the operator drains it or set its weight to 0.
    /// </summary>
    public bool IsDraining => _admin == ServerAdminState.Drain || Weight == 0;

    /// <summary>Not in maintenance and not down: what HAProxy counts as running (downtime counts the rest).</summary>
    public bool IsRunning => _admin != ServerAdminState.Maint && _oper != ServerOperState.Down;

    /// <summary>Seconds spent not running since the start (HAProxy's downtime).</summary>
    public long DowntimeSeconds
    {
        get
        {
            lock (_stateLock)
            {
                long total = _downTotal;
                if (_downSince != 0)
                {
                    total += Environment.TickCount64 - _downSince;
                }

                return total / 1000;
            }
        }
    }

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

    /// <summary>
    /// HAProxy's <c>set weight</c>: an absolute weight (0..256) or "N%" of the initial weight
    /// (rounded down, at most 256). Null when done, else HAProxy's message. Backends with a static
    /// algorithm (static-rr, source) only take 0% and 100%, as in HAProxy.
    /// </summary>
    public string? SetWeight(string text)
    {
        if (text.Length == 0)
        {
            return "Require <weight> or <weight%>.";
        }

        // strtol: leading blanks and a sign, then digits.
        int i = 0;
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        bool negative = false;
        if (i < text.Length && text[i] is '+' or '-')
        {
            negative = text[i] == '-';
            i++;
        }

        int digits = i;
        long w = 0;
        while (i < text.Length && text[i] is >= '0' and <= '9')
        {
            w = Math.Min(w * 10 + (text[i] - '0'), 1_000_000_000);
            i++;
        }

        if (i == digits)
        {
            return "Empty weight string empty or preceded by garbage";
        }

        w = negative ? -w : w;
        if (i == text.Length - 1 && text[i] == '%')
        {
            if (w < 0)
            {
                return "Relative weight must be positive.";
            }

            w = Math.Min(InitialWeight * Math.Min(w, 25600) / 100, 256);
        }
        else if (w is < 0 or > 256)
        {
            return "Absolute weight can only be between 0 and 256 inclusive.";
        }
        else if (i != text.Length)
        {
            return "Trailing garbage in weight string";
        }

        if (w != 0 && w != InitialWeight && !Backend.HasDynamicWeights)
        {
            return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.";
        }

        SetWeight((int)w);
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

    /// <summary>
    /// The operator's state: ready, drain or maint (each replaces the others, as HAProxy's
    /// <c>set server ... state</c>). Leaving maintenance makes the server up again; a checked one
    /// with the minimum health, so that a failing check takes it down at once.
    /// </summary>
    public void SetAdmin(ServerAdminState state, string reason)
    {
        ServerAdminState old;
        lock (_stateLock)
        {
            old = _admin;
            if (old == state)
            {
                return;
            }

            _admin = state;
            if (old == ServerAdminState.Maint)
            {
                _oper = ServerOperState.Up;
                CheckHealth = Config.Rise;
            }

            LastChange = DateTime.UtcNow;
            UpdateDowntime();
        }

        Backend.OnServerChanged(this, new ServerStateChange(this, "admin", old.ToString().ToUpperInvariant(), state.ToString().ToUpperInvariant(), reason));
    }

    public void SetOper(ServerOperState state, string reason)
    {
        ServerOperState old;
        lock (_stateLock)
        {
            old = _oper;
            if (old == state)
            {
                return;
            }

            _oper = state;
            LastChange = DateTime.UtcNow;
            UpdateDowntime();
        }

        if (state == ServerOperState.Down)
        {
            Interlocked.Increment(ref Counters.ChkDown);
        }

        Backend.OnServerChanged(this, new ServerStateChange(this, "state", old == ServerOperState.NoLb ? "NOLB" : old.ToString().ToUpperInvariant(), state == ServerOperState.NoLb ? "NOLB" : state.ToString().ToUpperInvariant(), reason));
    }

    /// <summary>Starts or stops the downtime clock after a state change (under the state lock).</summary>
    private void UpdateDowntime()
    {
        long now = Environment.TickCount64;
        if (IsRunning && _downSince != 0)
        {
            _downTotal += now - _downSince;
            _downSince = 0;
        }
        else if (!IsRunning && _downSince == 0)
        {
            _downSince = now;
        }
    }

    public void SetAddress(IPEndPoint address, string reason)
    {
        var old = _address;
        _address = address;
        Backend.OnServerChanged(this, new ServerStateChange(this, "addr", old.ToString(), address.ToString(), reason));
    }

    /// <summary>
    /// HAProxy's status column: MAINT, DRAIN, NOLB, DOWN, UP, "no check" for an up server without
    /// active checks, and "UP 1/3" / "DOWN 1/2" while the check health moves between the two.
    /// </summary>
    public string StatusText
    {
        get
        {
            if (_admin == ServerAdminState.Maint)
            {
                return "MAINT";
            }

            int health = CheckHealth, rise = Config.Rise, fall = Config.Fall;
            bool checking = CheckEnabled;
            switch (_oper)
            {
                case ServerOperState.Up:
                    bool goingDown = checking && health < rise + fall - 1;
                    if (_admin == ServerAdminState.Drain)
                    {
                        return goingDown ? Transition("DRAIN", health - rise + 1, fall) : "DRAIN";
                    }

                    return goingDown ? Transition("UP", health - rise + 1, fall) : checking ? "UP" : "no check";
                case ServerOperState.NoLb:
                    return !checking || health == rise + fall - 1 ? "NOLB" : Transition("NOLB", health - rise + 1, fall);
                default:
                    return checking && health > 0 ? Transition("DOWN", health, rise) : "DOWN";
            }
        }
    }

    private static string Transition(string state, int n, int of) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{state} {n}/{of}");
}
