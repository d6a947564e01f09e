using System.Collections.Frozen;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Listeners;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Samples;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Runtime;

/// <summary>A compiled tcp-request / tcp-response content rule.</summary>
/// <param name="Level">set-log-level: 0..7, or -1 for silent.</param>
internal sealed record TcpRule(TcpRuleKind Kind, Condition? Condition, LuaRegistration? Lua, IReadOnlyList<string> Args, SourceLocation Location, int Level = 0)
{
    /// <summary>set-var / unset-var: the variable, and set-var's expression.</summary>
    public (VariableScope Scope, string Name, SampleExpression? Expression)? Variable { get; init; }
}

/// <summary>
/// A compiled use_backend rule: a named backend, or a log-format name (<c>%[...]</c>) evaluated per
/// stream and looked up among the backends of the frontend's mode.
/// </summary>
internal sealed record UseBackend(ProxyRuntime? Backend, Condition? Condition)
{
    public HaLua.DataPlane.Logging.LogFormat? DynamicName { get; init; }

    public IReadOnlyDictionary<string, ProxyRuntime>? Backends { get; init; }
}

/// <summary>
/// One proxy of a generation: its frontend side (listeners, rules, backend choice, maxconn) and/or
/// its backend side (servers, balancing, response rules). Built once from its config; the parts
/// that change at runtime (server weights and states, counters) live in mutable state objects.
/// </summary>
internal sealed class ProxyRuntime
{
    private readonly FrozenDictionary<int, byte[]> _errorPages;

    public ProxyRuntime(ProxyConfig config, int globalMaxConn)
    {
        Config = config;
        _errorPages = config.ErrorPages.ToFrozenDictionary();
        if (IsBackend)
        {
            Backend = new BackendState(config);
        }

        if (IsFrontend)
        {
            int max = config.MaxConn > 0 ? config.MaxConn : globalMaxConn;
            Slots = new SemaphoreSlim(max, max);
            MaxConn = max;
        }
    }

    public ProxyConfig Config { get; }

    /// <summary>This proxy's <c>errorfile</c>/<c>errorloc</c> response for <paramref name="status"/>, if it has one.</summary>
    public bool TryGetErrorPage(int status, out byte[] page) => _errorPages.TryGetValue(status, out page!);

    public string Name => Config.Name;

    public bool IsFrontend => Config.Capabilities.HasFlag(ProxyCapabilities.Frontend);

    public bool IsBackend => Config.Capabilities.HasFlag(ProxyCapabilities.Backend);

    public BackendState? Backend { get; }

    /// <summary>Frontend counters (the backend's are <see cref="BackendState.Counters"/>).</summary>
    public Counters FrontendCounters { get; } = new();

    public int MaxConn { get; }

    /// <summary>Frontend maxconn: a slot per stream.</summary>
    public SemaphoreSlim? Slots { get; }

    public IReadOnlyList<TcpRule> TcpRequestRules { get; set; } = [];

    public IReadOnlyList<TcpRule> TcpResponseRules { get; set; } = [];

    public HaLua.DataPlane.Http.HttpRule[] HttpRequestRules { get; set; } = [];

    public HaLua.DataPlane.Http.HttpRule[] HttpResponseRules { get; set; } = [];

    public IReadOnlyList<UseBackend> UseBackends { get; set; } = [];

    public ProxyRuntime? DefaultBackend { get; set; }

    public List<Listener> Listeners { get; } = [];

    /// <summary>
    /// What the frontend does with new connections, from its listeners: stopped when they all are,
    /// paused when none accepts (<see cref="RuntimeOperations"/>, the admin API).
    /// </summary>
    public FrontendState State
    {
        get
        {
            if (Listeners.Count == 0)
            {
                return FrontendState.Ready;
            }

            if (Listeners.TrueForAll(l => l.State == ListenerState.Stopped))
            {
                return FrontendState.Stopped;
            }

            return Listeners.TrueForAll(l => l.State != ListenerState.Ready) ? FrontendState.Paused : FrontendState.Ready;
        }
    }

    /// <summary>Raised after a pause, resume or stop changed <see cref="State"/>: (old, new, who).</summary>
    public event Action<ProxyRuntime, FrontendState, FrontendState, string>? StateChanged;

    internal void OnStateChanged(FrontendState old, string updater)
    {
        var now = State;
        if (now != old)
        {
            StateChanged?.Invoke(this, old, now, updater);
        }
    }

    /// <summary>The frontend's access log; null when it has no log target (then logging costs nothing).</summary>
    public Logging.ProxyLog? Log { get; set; }

    /// <summary>The proxy's log targets (its <c>log</c> lines and <c>log global</c>), frontend or backend.</summary>
    public Logging.LogTarget[] LogTargets { get; set; } = [];

    /// <summary>Its streams keep a <see cref="Logging.StreamLog"/>: the frontend logs, or a rule's log-format reads log values.</summary>
    public bool NeedsStreamLog { get; set; }

    /// <summary>
    /// The backend a stream of this frontend goes to: the first use_backend whose condition holds,
    /// else default_backend; a listen section is its own backend.
    /// </summary>
    public ProxyRuntime? ChooseBackend(HaLua.DataPlane.Samples.ISampleContext stream)
    {
        if (IsBackend && UseBackends.Count == 0 && DefaultBackend is null)
        {
            return this;
        }

        foreach (var ub in UseBackends)
        {
            if (ub.Condition is null || ub.Condition.Evaluate(stream))
            {
                if (ub.DynamicName is { } dynamic)
                {
                    // A name that is no backend: default_backend, not the next rule (as HAProxy 2.6).
                    return ub.Backends!.GetValueOrDefault(dynamic.Evaluate(stream)) ?? DefaultBackend ?? (IsBackend ? this : null);
                }

                return ub.Backend;
            }
        }

        return DefaultBackend ?? (IsBackend ? this : null);
    }

    public TimeSpan ClientTimeout => Config.Timeouts.Client ?? TimeSpan.Zero;

    public TimeSpan ServerTimeout => Config.Timeouts.Server ?? TimeSpan.Zero;

    /// <summary>A backend's <c>timeout tunnel</c>: once client and server are connected, it replaces both.</summary>
    public TimeSpan? TunnelTimeout => Config.Timeouts.Tunnel;

    public TimeSpan ConnectTimeout => Config.Timeouts.Connect ?? TimeSpan.Zero;

    /// <summary>HAProxy: timeout queue defaults to timeout connect.</summary>
    public TimeSpan QueueTimeout => Config.Timeouts.Queue ?? Config.Timeouts.Connect ?? TimeSpan.Zero;
}
