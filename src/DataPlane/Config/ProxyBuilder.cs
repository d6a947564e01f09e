using System.Collections.Immutable;

namespace HaLua.DataPlane.Config;

/// <summary>A proxy (or defaults section) while its lines are parsed.</summary>
internal sealed class ProxyBuilder
{
    private ProxyBuilder(string name, ProxyCapabilities cap, SourceLocation location, bool isDefaults)
    {
        Name = name;
        Capabilities = cap;
        Location = location;
        IsDefaults = isDefaults;
    }

    public string Name { get; }

    public ProxyCapabilities Capabilities { get; }

    public SourceLocation Location { get; }

    public bool IsDefaults { get; }

    // Inherited from defaults.
    public ProxyMode Mode { get; set; } = ProxyMode.Tcp;

    public TimeoutsConfig Timeouts { get; set; } = new();

    public int MaxConn { get; set; }

    public string? DefaultBackend { get; set; }

    public SourceLocation DefaultBackendLocation { get; set; }

    public BalanceAlgorithm Balance { get; set; } = BalanceAlgorithm.RoundRobin;

    public int Retries { get; set; } = 3;

    public bool Redispatch { get; set; }

    public bool LogGlobal { get; set; }

    public List<LogTargetConfig> Logs { get; private set; } = [];

    public LogFormatConfig? LogFormat { get; set; }

    public bool DontLogNull { get; set; }
    /// <summary><c>option httpchk</c>'s request; null for TCP checks.</summary>
    public HttpCheckConfig? HttpCheckRequest { get; set; }

    public HttpCheckSend? HttpCheckSend { get; set; }

    public List<HttpCheckExpect> HttpCheckExpects { get; private set; } = [];

    /// <summary>The http-check rules came from defaults: the proxy's first own rule replaces them all (HAProxy).</summary>
    public bool HttpCheckRulesInherited { get; set; }

    public Dictionary<int, byte[]> ErrorPages { get; private set; } = [];

    public HttpReuseMode HttpReuse { get; set; } = HttpReuseMode.Safe;

    // Proxy only.
    public List<BindConfig> Binds { get; } = [];

    public List<UseBackendRule> UseBackends { get; } = [];

    public List<AclConfig> Acls { get; } = [];

    public List<ServerConfig> Servers { get; } = [];

    public TimeSpan InspectDelay { get; set; }

    public List<TcpRuleConfig> TcpRequestContent { get; } = [];

    public List<TcpRuleConfig> TcpResponseContent { get; } = [];

    public List<HttpRuleConfig> HttpRequestRules { get; } = [];

    public List<HttpRuleConfig> HttpResponseRules { get; } = [];

    public bool ForwardFor { get; set; }

    public bool BufferRequest { get; set; }

    public HttpConnectionMode HttpConnectionMode { get; set; }

    public bool SocketStats { get; set; }

    public static ProxyBuilder NewDefaults(string? name, SourceLocation location) => new(name ?? "", ProxyCapabilities.None, location, isDefaults: true);

    /// <summary>A new proxy or defaults section inheriting this defaults section's settings.</summary>
    public ProxyBuilder Derive(string name, ProxyCapabilities cap, SourceLocation location, bool isDefaults) => new(name, cap, location, isDefaults)
    {
        Mode = Mode,
        Timeouts = Timeouts,
        MaxConn = MaxConn,
        DefaultBackend = cap.HasFlag(ProxyCapabilities.Frontend) || isDefaults ? DefaultBackend : null,
        DefaultBackendLocation = DefaultBackendLocation,
        Balance = Balance,
        Retries = Retries,
        Redispatch = Redispatch,
        ForwardFor = ForwardFor,
        BufferRequest = BufferRequest,
        HttpConnectionMode = HttpConnectionMode,
        LogGlobal = LogGlobal,
        Logs = [.. Logs],
        LogFormat = LogFormat,
        DontLogNull = DontLogNull,
        HttpCheckRequest = HttpCheckRequest,
        HttpCheckSend = HttpCheckSend,
        HttpCheckExpects = [.. HttpCheckExpects],
        HttpCheckRulesInherited = HttpCheckSend is not null || HttpCheckExpects.Count > 0,
        ErrorPages = new(ErrorPages),
        HttpReuse = HttpReuse,
        SocketStats = SocketStats,
    };

    public ProxyConfig Build(int uuid) => new(Name, Capabilities, Location)
    {
        Mode = Mode,
        Binds = [.. Binds],
        Timeouts = Timeouts,
        MaxConn = MaxConn,
        DefaultBackend = DefaultBackend,
        UseBackends = [.. UseBackends],
        Acls = [.. Acls],
        Balance = Balance,
        Retries = Retries,
        Redispatch = Redispatch,
        Servers = [.. Servers],
        InspectDelay = InspectDelay,
        TcpRequestContent = [.. TcpRequestContent],
        TcpResponseContent = [.. TcpResponseContent],
        HttpRequestRules = [.. HttpRequestRules],
        HttpResponseRules = [.. HttpResponseRules],
        ForwardFor = ForwardFor,
        BufferRequest = BufferRequest,
        HttpConnectionMode = HttpConnectionMode,
        LogGlobal = LogGlobal,
        Logs = [.. Logs],
        LogFormat = LogFormat,
        DontLogNull = DontLogNull,
        HttpCheck = BuildHttpCheck(),
        ErrorPages = ErrorPages.ToImmutableDictionary(),
        HttpReuse = HttpReuse,
        SocketStats = SocketStats,
        Uuid = uuid,
    };

    /// <summary><c>option httpchk</c>'s request with what <c>http-check send</c> overrides and adds, and the expect rules.</summary>
    private HttpCheckConfig? BuildHttpCheck()
    {
        if (HttpCheckRequest is not { } check)
        {
            return null;
        }

        if (HttpCheckSend is { } send)
        {
            check = check with
            {
                Method = send.Method ?? check.Method,
                Uri = send.Uri ?? check.Uri,
                Version = send.Version ?? check.Version,
                Headers = check.Headers.AddRange(send.Headers),
                Body = send.Body ?? check.Body,
            };
        }

        return check with { Expects = [.. HttpCheckExpects] };
    }
}
