using System.Collections.Immutable;
using System.Net;

namespace HaLua.DataPlane.Config;

/// <summary>Where a config item came from: used in every error message as <c>file:line</c>.</summary>
public readonly record struct SourceLocation(string File, int Line)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>The whole parsed configuration: immutable; the runtime is built from it.</summary>
public sealed record HaLuaConfig(GlobalConfig Global, ImmutableArray<ProxyConfig> Proxies)
{
    public ProxyConfig? FindProxy(string name, ProxyCapabilities cap) =>
        Proxies.FirstOrDefault(p => p.Name == name && (p.Capabilities & cap) != 0);
}

/// <summary><c>lua-prepend-path PATH [path|cpath]</c>.</summary>
public sealed record LuaPrependPath(string Path, bool CPath);

public sealed record LuaLoadConfig(string Path, bool PerThread, ImmutableArray<string> Args, SourceLocation Location);

public enum LogTargetKind { Stdout, Stderr, Udp }

/// <param name="MaxLength">HAProxy's <c>len</c>: longer lines are truncated (default 1024).</param>
/// <param name="MinLevel">HAProxy's minimum level: more severe messages are sent with this level.</param>
public sealed record LogTargetConfig(LogTargetKind Kind, string Format, string Facility, string? MaxLevel, EndPoint? Address, SourceLocation Location, int MaxLength = 1024, string? MinLevel = null);

/// <summary>
/// The access log format of a proxy: <c>log-format</c>, or the format an <c>option httplog</c> /
/// <c>option tcplog</c> line stands for. <see cref="Keyword"/> names the line in errors.
/// </summary>
public sealed record LogFormatConfig(string Format, string Keyword, SourceLocation Location);

public sealed record StatsSocketConfig(string Address, ImmutableDictionary<string, string> Options, SourceLocation Location);

/// <summary>The <c>global</c> section. Timeouts of zero mean "no limit".</summary>
public sealed record GlobalConfig
{
    public ImmutableArray<LuaLoadConfig> LuaLoads { get; init; } = [];
    public ImmutableArray<LuaPrependPath> LuaPrependPaths { get; init; } = [];
    /// <summary>Worker count; HAProxy's default is the number of CPUs available.</summary>
    public int NbThread { get; init; } = Environment.ProcessorCount;
    public int MaxConn { get; init; } = 100_000;
    public TimeSpan LuaSessionTimeout { get; init; } = TimeSpan.FromSeconds(4);
    public TimeSpan LuaTaskTimeout { get; init; } = TimeSpan.Zero;
    public TimeSpan LuaServiceTimeout { get; init; } = TimeSpan.FromSeconds(4);
    public int LuaForcedYield { get; init; } = 10_000;
    /// <summary>Bytes; 0 = unlimited. Configured in megabytes as in HAProxy.</summary>
    public long LuaMaxMem { get; init; }
    public ImmutableArray<LogTargetConfig> Logs { get; init; } = [];
    public TimeSpan? HardStopAfter { get; init; }
    public ImmutableArray<StatsSocketConfig> StatsSockets { get; init; } = [];
    public bool Daemon { get; init; }
    /// <summary>The gRPC admin endpoint; null: none.</summary>
    public AdminApiConfig? AdminApi { get; init; }
    /// <summary><c>httpclient.ssl.verify required|none</c>: the Lua httpclient checks https certificates (default).</summary>
    public bool HttpClientSslVerify { get; init; } = true;
    /// <summary>The Prometheus scrape endpoint; null: no metrics (the instruments then cost nothing).</summary>
    public MetricsConfig? Metrics { get; init; }
    /// <summary><c>process-log-format json</c>: the process's own messages on stderr as one JSON object per line.</summary>
    public bool JsonProcessLog { get; init; }
}

/// <summary><c>metrics</c>: where the Prometheus scrape endpoint listens (HTTP/1.1) and its path.</summary>
public sealed record MetricsConfig(IPEndPoint Endpoint, string Path, SourceLocation Location);

/// <summary><c>admin-api</c>: where the gRPC admin API listens and how callers authenticate.</summary>
public sealed record AdminApiConfig(IPEndPoint Endpoint, SourceLocation Location)
{
    public string? TokenFile { get; init; }
    public string? TokenEnv { get; init; }
    public string? CertificateFile { get; init; }
    public string? KeyFile { get; init; }
    public string? ClientCaFile { get; init; }
}

public enum ProxyMode { Tcp, Http }

/// <summary>HAProxy's HTTP connection modes: keep both sides alive, close the server side after each response, or close both.</summary>
public enum HttpConnectionMode { KeepAlive, ServerClose, Close }

[Flags]
public enum ProxyCapabilities { None = 0, Frontend = 1, Backend = 2, Listen = Frontend | Backend }

public enum BalanceAlgorithm { RoundRobin, StaticRoundRobin, LeastConn, First, Source }

public sealed record TimeoutsConfig
{
    public TimeSpan? Connect { get; init; }
    public TimeSpan? Client { get; init; }
    public TimeSpan? Server { get; init; }
    public TimeSpan? Tunnel { get; init; }
    public TimeSpan? Queue { get; init; }
    public TimeSpan? HttpRequest { get; init; }
    public TimeSpan? HttpKeepAlive { get; init; }
    public TimeSpan? Check { get; init; }
}

public sealed record BindConfig(IPEndPoint Endpoint, string? Name, SourceLocation Location);

public sealed record ServerConfig(
    string Name,
    string Host,
    int Port,
    SourceLocation Location)
{
    public int Weight { get; init; } = 1;
    public bool Check { get; init; }
    public TimeSpan Inter { get; init; } = TimeSpan.FromSeconds(2);
    public int Rise { get; init; } = 2;
    public int Fall { get; init; } = 3;
    public bool Backup { get; init; }
    public bool Disabled { get; init; }
    /// <summary>0 = no limit.</summary>
    public int MaxConn { get; init; }
    /// <summary><c>port</c>: the port health checks connect to, instead of the server's.</summary>
    public int? CheckPort { get; init; }
    /// <summary><c>addr</c>: the address health checks connect to, instead of the server's.</summary>
    public IPAddress? CheckAddress { get; init; }
    /// <summary><c>pool-max-conn</c>: idle connections kept for reuse; -1 = no limit, 0 = none.</summary>
    public int PoolMaxConn { get; init; } = -1;
    /// <summary><c>pool-purge-delay</c>: how often idle connections are purged; zero = never.</summary>
    public TimeSpan PoolPurgeDelay { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary><c>acl NAME FETCH [flags] PATTERNS</c>. The fetch is kept as written; the sample layer compiles it.</summary>
public sealed record AclConfig(
    string Name,
    string Fetch,
    ImmutableArray<string> Flags,
    ImmutableArray<string> Patterns,
    SourceLocation Location);

/// <summary>One term of a condition: a named ACL or an anonymous <c>{ ... }</c> ACL, possibly negated.</summary>
public sealed record AclTerm(bool Negate, string? Name, AclConfig? Anonymous);

/// <summary><c>if|unless</c> followed by OR-ed groups (<c>||</c>) of AND-ed terms.</summary>
public sealed record ConditionConfig(bool Unless, ImmutableArray<ImmutableArray<AclTerm>> AnyOf, SourceLocation Location);

public sealed record UseBackendRule(string Backend, ConditionConfig? Condition, SourceLocation Location);

public enum TcpRuleKind { Accept, Reject, UseService, LuaAction, SetLogLevel, SetVar, UnsetVar }

/// <summary><c>tcp-request content ...</c> / <c>tcp-response content ...</c> (set-var: Args are the variable and the expression).</summary>
public sealed record TcpRuleConfig(
    TcpRuleKind Kind,
    string? LuaName,
    ImmutableArray<string> Args,
    ConditionConfig? Condition,
    SourceLocation Location);

public enum HttpRuleKind
{
    Allow, Deny, Return, Redirect, SetHeader, AddHeader, DelHeader, UseService, SetStatus,
    ReplaceHeader, ReplaceValue, SetMethod, SetPath, SetQuery, SetUri, SetVar, UnsetVar, LuaAction,
    SetLogLevel,
}

/// <summary>
/// <c>http-request ACTION ...</c>. <see cref="Name"/> is the header name (set/add/del-header);
/// <see cref="Value"/> a log-format string (the header value, the redirect target, the return body).
/// </summary>
public sealed record HttpRuleConfig(
    HttpRuleKind Kind,
    string? Name,
    string? Value,
    int Status,
    string? ContentType,
    string? RedirectType,
    ConditionConfig? Condition,
    SourceLocation Location)
{
    /// <summary>The regex of replace-header / replace-value.</summary>
    public string? Pattern { get; init; }

    /// <summary>The arguments of a Lua action (<c>lua.NAME ARGS</c>).</summary>
    public ImmutableArray<string> Args { get; init; } = [];

    /// <summary>redirect: drop-query (the target without the query string).</summary>
    public bool DropQuery { get; init; }

    /// <summary>redirect: append-slash (a "/" after a target not ending with one).</summary>
    public bool AppendSlash { get; init; }

    /// <summary>redirect: the set-cookie header value of set-cookie / clear-cookie.</summary>
    public string? Cookie { get; init; }

    /// <summary>del-header: how the name matches (str, beg, end, sub, reg).</summary>
    public string? NameMatch { get; init; }

    /// <summary>The rule's keyword as written (for messages).</summary>
    public string Keyword { get; init; } = "";
}

/// <summary>HAProxy's <c>http-reuse</c>: which idle server connections a request may be sent over.</summary>
public enum HttpReuseMode { Never, Safe, Aggressive, Always }

public enum HttpCheckMatch { Status, RStatus, String, RString }

/// <summary><c>http-check expect [!] status|rstatus|string|rstring PATTERN</c>.</summary>
public sealed record HttpCheckExpect(HttpCheckMatch Match, bool Negate, string Pattern, SourceLocation Location);

/// <summary>
/// <c>option httpchk</c> with its <c>http-check send</c> and <c>http-check expect</c> rules: the
/// request a health check sends, and what the response must show (2xx/3xx without expect rules).
/// </summary>
public sealed record HttpCheckConfig
{
    public string Method { get; init; } = "OPTIONS";
    public string Uri { get; init; } = "/";
    public string Version { get; init; } = "HTTP/1.0";
    public ImmutableArray<KeyValuePair<string, string>> Headers { get; init; } = [];
    public string? Body { get; init; }
    public ImmutableArray<HttpCheckExpect> Expects { get; init; } = [];
}

public sealed record ProxyConfig(string Name, ProxyCapabilities Capabilities, SourceLocation Location)
{
    public ProxyMode Mode { get; init; } = ProxyMode.Tcp;
    public ImmutableArray<BindConfig> Binds { get; init; } = [];
    public TimeoutsConfig Timeouts { get; init; } = new();
    /// <summary>0 = the global default.</summary>
    public int MaxConn { get; init; }
    public string? DefaultBackend { get; init; }
    public ImmutableArray<UseBackendRule> UseBackends { get; init; } = [];
    public ImmutableArray<AclConfig> Acls { get; init; } = [];
    public BalanceAlgorithm Balance { get; init; } = BalanceAlgorithm.RoundRobin;
    public int Retries { get; init; } = 3;
    public bool Redispatch { get; init; }
    public ImmutableArray<ServerConfig> Servers { get; init; } = [];
    public TimeSpan InspectDelay { get; init; }
    public ImmutableArray<TcpRuleConfig> TcpRequestContent { get; init; } = [];
    public ImmutableArray<TcpRuleConfig> TcpResponseContent { get; init; } = [];
    public ImmutableArray<HttpRuleConfig> HttpRequestRules { get; init; } = [];
    public ImmutableArray<HttpRuleConfig> HttpResponseRules { get; init; } = [];
    /// <summary><c>option forwardfor</c>: adds X-Forwarded-For with the client's address.</summary>
    public bool ForwardFor { get; init; }
    /// <summary><c>option http-buffer-request</c>: the request body (up to the buffer size) is waited for before the rules (req.body).</summary>
    public bool BufferRequest { get; init; }
    /// <summary><c>option http-keep-alive</c> (default), <c>http-server-close</c> or <c>httpclose</c>.</summary>
    public HttpConnectionMode HttpConnectionMode { get; init; }
    /// <summary><c>log global</c>: the proxy logs to the global targets.</summary>
    public bool LogGlobal { get; init; }
    public ImmutableArray<LogTargetConfig> Logs { get; init; } = [];
    /// <summary>The access log format; null: HAProxy's legacy "Connect from" line when the proxy has targets.</summary>
    public LogFormatConfig? LogFormat { get; init; }
    /// <summary><c>option dontlognull</c>: no line for a connection that sent no data.</summary>
    public bool DontLogNull { get; init; }
    /// <summary><c>option httpchk</c>: HTTP health checks; null for TCP checks.</summary>
    public HttpCheckConfig? HttpCheck { get; init; }
    /// <summary><c>errorfile</c> / <c>errorloc*</c>: whole responses by status code, sent as they are.</summary>
    public ImmutableDictionary<int, byte[]> ErrorPages { get; init; } = ImmutableDictionary<int, byte[]>.Empty;
    public HttpReuseMode HttpReuse { get; init; } = HttpReuseMode.Safe;
    /// <summary><c>option socket-stats</c>: each listener has its own row in the stats (and Lua's <c>Listener.get_stats</c> returns it).</summary>
    public bool SocketStats { get; init; }
    /// <summary>Numeric id (HAProxy's <c>id</c>, else assigned in declaration order from 1... as HAProxy does from 2 for user proxies).</summary>
    public int Uuid { get; init; }
}

/// <summary>A configuration error: always names file:line, the section and the keyword.</summary>
public sealed record ConfigError(SourceLocation Location, string Section, string Keyword, string Message)
{
    public override string ToString() => $"{Location} : '{Keyword}' in section '{Section}': {Message}";
}
