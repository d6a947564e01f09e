namespace HaLua.DataPlane.Stats;

/// <summary>How a family's series are made from a stats row.</summary>
internal enum FamilyKind
{
    /// <summary>One series per object: the row's field (NaN when the field is empty, as HAProxy writes it).</summary>
    Value,

    /// <summary>A 0/1 series per state of the object (<c>state</c> label).</summary>
    Status,

    /// <summary>One series per status class (<c>code="1xx"</c>..<c>"5xx"</c>, <c>"other"</c>).</summary>
    HttpResponses,

    /// <summary>A 0/1 series per health check status (<c>state</c> label), for servers whose checks run.</summary>
    CheckStatus,

    /// <summary>A backend's count of servers per server state (<c>state</c> label).</summary>
    ServerStates,

    /// <summary>A backend's count of servers per last check status (<c>state</c> label).</summary>
    CheckStates,
}

/// <summary>A metric family of frontends, listeners, backends or servers: its type, help and <c>show stat</c> field.</summary>
/// <param name="Counter">A counter (else a gauge).</param>
internal sealed record ProxyFamily(bool Counter, StatField Field, string Help)
{
    public FamilyKind Kind { get; init; }

    /// <summary>Only for proxies in HTTP mode (HAProxy writes no series for TCP ones).</summary>
    public bool HttpOnly { get; init; }

    /// <summary>Only for servers whose health checks run (enabled, not in maintenance).</summary>
    public bool CheckOnly { get; init; }

    /// <summary>0 rather than NaN when the field is empty (HAProxy's check code and duration).</summary>
    public bool ZeroIfEmpty { get; init; }

    /// <summary>Multiplies the field (milliseconds to seconds).</summary>
    public double Scale { get; init; } = 1;
}

/// <summary>A metric family of the process: the <c>show info</c> key it reads.</summary>
internal sealed record ProcessFamily(string Suffix, bool Counter, string InfoKey, string Help);

/// <summary>
/// The metric families of HAProxy 2.6's Prometheus exporter (<c>http-request use-service
/// prometheus-exporter</c>): names, types, help texts and the stats fields they read, in its order.
/// Names are <c>haproxy_{process|frontend|listener|backend|server}_SUFFIX</c>.
/// </summary>
internal static class MetricFamilies
{
    public static readonly ProcessFamily[] Process =
    [
        new("nbthread", false, "Nbthread", "Number of started threads (global.nbthread)"),
        new("nbproc", false, "Nbproc", "Number of started worker processes (historical, always 1)"),
        new("relative_process_id", false, "Process_num", "Relative worker process number (1)"),
        new("uptime_seconds", false, "Uptime_sec", "How long ago this worker process was started (seconds)"),
        new("pool_failures_total", true, "PoolFailed", "Number of failed pool allocations since this worker was started"),
        new("max_fds", false, "Ulimit-n", "Hard limit on the number of per-process file descriptors"),
        new("max_sockets", false, "Maxsock", "Hard limit on the number of per-process sockets"),
        new("max_connections", false, "Maxconn", "Hard limit on the number of per-process connections (configured or imposed by Ulimit-n)"),
        new("hard_max_connections", false, "Hard_maxconn", "Hard limit on the number of per-process connections (imposed by Memmax_MB or Ulimit-n)"),
        new("current_connections", false, "CurrConns", "Current number of connections on this worker process"),
        new("connections_total", true, "CumConns", "Total number of connections on this worker process since started"),
        new("requests_total", true, "CumReq", "Total number of requests on this worker process since started"),
        new("max_ssl_connections", false, "MaxSslConns", "Hard limit on the number of per-process SSL endpoints (front+back), 0=unlimited"),
        new("current_ssl_connections", false, "CurrSslConns", "Current number of SSL endpoints on this worker process (front+back)"),
        new("ssl_connections_total", true, "CumSslConns", "Total number of SSL endpoints on this worker process since started (front+back)"),
        new("max_pipes", false, "Maxpipes", "Hard limit on the number of pipes for splicing, 0=unlimited"),
        new("pipes_used_total", true, "PipesUsed", "Current number of pipes in use in this worker process"),
        new("pipes_free_total", true, "PipesFree", "Current number of allocated and available pipes in this worker process"),
        new("current_connection_rate", false, "ConnRate", "Number of front connections created on this worker process over the last second"),
        new("limit_connection_rate", false, "ConnRateLimit", "Hard limit for ConnRate (global.maxconnrate)"),
        new("max_connection_rate", false, "MaxConnRate", "Highest ConnRate reached on this worker process since started (in connections per second)"),
        new("current_session_rate", false, "SessRate", "Number of sessions created on this worker process over the last second"),
        new("limit_session_rate", false, "SessRateLimit", "Hard limit for SessRate (global.maxsessrate)"),
        new("max_session_rate", false, "MaxSessRate", "Highest SessRate reached on this worker process since started (in sessions per second)"),
        new("current_ssl_rate", false, "SslRate", "Number of SSL connections created on this worker process over the last second"),
        new("limit_ssl_rate", false, "SslRateLimit", "Hard limit for SslRate (global.maxsslrate)"),
        new("max_ssl_rate", false, "MaxSslRate", "Highest SslRate reached on this worker process since started (in connections per second)"),
        new("current_frontend_ssl_key_rate", false, "SslFrontendKeyRate", "Number of SSL keys created on frontends in this worker process over the last second"),
        new("max_frontend_ssl_key_rate", false, "SslFrontendMaxKeyRate", "Highest SslFrontendKeyRate reached on this worker process since started (in SSL keys per second)"),
        new("frontend_ssl_reuse", false, "SslFrontendSessionReuse_pct", "Percent of frontend SSL connections which did not require a new key"),
        new("current_backend_ssl_key_rate", false, "SslBackendKeyRate", "Number of SSL keys created on backends in this worker process over the last second"),
        new("max_backend_ssl_key_rate", false, "SslBackendMaxKeyRate", "Highest SslBackendKeyRate reached on this worker process since started (in SSL keys per second)"),
        new("ssl_cache_lookups_total", true, "SslCacheLookups", "Total number of SSL session ID lookups in the SSL session cache on this worker since started"),
        new("ssl_cache_misses_total", true, "SslCacheMisses", "Total number of SSL session ID lookups that didn't find a session in the SSL session cache on this worker since started"),
        new("http_comp_bytes_in_total", true, "CompressBpsIn", "Number of bytes submitted to the HTTP compressor in this worker process over the last second"),
        new("http_comp_bytes_out_total", true, "CompressBpsOut", "Number of bytes emitted by the HTTP compressor in this worker process over the last second"),
        new("limit_http_comp", false, "CompressBpsRateLim", "Limit of CompressBpsOut beyond which HTTP compression is automatically disabled"),
        new("current_zlib_memory", false, "ZlibMemUsage", "Amount of memory currently used by HTTP compression on the current worker process (in bytes)"),
        new("max_zlib_memory", false, "MaxZlibMemUsage", "Limit on the amount of memory used by HTTP compression above which it is automatically disabled (in bytes, see global.maxzlibmem)"),
        new("current_tasks", false, "Tasks", "Total number of tasks in the current worker process (active + sleeping)"),
        new("current_run_queue", false, "Run_queue", "Total number of active tasks+tasklets in the current worker process"),
        new("idle_time_percent", false, "Idle_pct", "Percentage of last second spent waiting in the current worker thread"),
        new("stopping", false, "Stopping", "1 if the worker process is currently stopping, otherwise zero"),
        new("jobs", false, "Jobs", "Current number of active jobs on the current worker process (frontend connections, master connections, listeners)"),
        new("unstoppable_jobs", false, "Unstoppable Jobs", "Current number of unstoppable jobs on the current worker process (master connections)"),
        new("listeners", false, "Listeners", "Current number of active listeners on the current worker process"),
        new("active_peers", false, "ActivePeers", "Current number of verified active peers connections on the current worker process"),
        new("connected_peers", false, "ConnectedPeers", "Current number of peers having passed the connection step on the current worker process"),
        new("dropped_logs_total", true, "DroppedLogs", "Total number of dropped logs for current worker process since started"),
        new("busy_polling_enabled", false, "BusyPolling", "1 if busy-polling is currently in use on the worker process, otherwise zero (config.busy-polling)"),
        // A counter in HAProxy, whose name lacks "_total": promtool rejects that, so a gauge here (same name; HaLua resolves no names at run time: always 0).
        new("failed_resolutions", false, "FailedResolutions", "Total number of failed DNS resolutions in current worker process since started"),
        new("bytes_out_total", true, "TotalBytesOut", "Total number of bytes emitted by current worker process since started"),
        new("spliced_bytes_out_total", true, "TotalSplicdedBytesOut", "Total number of bytes emitted by current worker process through a kernel pipe since started"),
        new("bytes_out_rate", false, "BytesOutRate", "Number of bytes emitted by current worker process over the last second"),
        new("recv_logs_total", true, "CumRecvLogs", "Total number of log messages received by log-forwarding listeners on this worker process since started"),
        new("build_info", false, "Build info", "Build info"),
        new("max_memory_bytes", false, "Memmax_bytes", "Worker process's hard limit on memory usage in byes (-m on command line)"),
        new("pool_allocated_bytes", false, "PoolAlloc_bytes", "Amount of memory allocated in pools (in bytes)"),
        new("pool_used_bytes", false, "PoolUsed_bytes", "Amount of pool memory currently used (in bytes)"),
        new("start_time_seconds", false, "Start_time_sec", "Start time in seconds"),
    ];

    public static readonly Dictionary<string, ProxyFamily> Proxy = new(StringComparer.Ordinal)
    {
        ["current_sessions"] = new(false, StatField.SCur, "Number of current sessions on the frontend, backend or server"),
        ["max_sessions"] = new(false, StatField.SMax, "Highest value of current sessions encountered since process started"),
        ["limit_sessions"] = new(false, StatField.SLim, "Frontend/listener/server's maxconn, backend's fullconn"),
        ["sessions_total"] = new(true, StatField.STot, "Total number of sessions since process started"),
        ["bytes_in_total"] = new(true, StatField.BIn, "Total number of request bytes since process started"),
        ["bytes_out_total"] = new(true, StatField.BOut, "Total number of response bytes since process started"),
        ["requests_denied_total"] = new(true, StatField.DReq, "Total number of denied requests since process started"),
        ["responses_denied_total"] = new(true, StatField.DResp, "Total number of denied responses since process started"),
        ["request_errors_total"] = new(true, StatField.EReq, "Total number of invalid requests since process started"),
        ["status"] = new(false, StatField.Status, "Current status of the service, per state label value.") { Kind = FamilyKind.Status },
        ["limit_session_rate"] = new(false, StatField.RateLim, "Limit on the number of sessions accepted in a second (frontend only, 'rate-limit sessions' setting)"),
        ["max_session_rate"] = new(false, StatField.RateMax, "Highest value of sessions per second observed since the worker process started"),
        ["http_responses_total"] = new(true, StatField.Hrsp1xx, "Total number of HTTP responses with status 100-199 returned by this object since the worker process started") { Kind = FamilyKind.HttpResponses, HttpOnly = true },
        ["http_requests_rate_max"] = new(false, StatField.ReqRateMax, "Highest value of http requests observed since the worker process started") { HttpOnly = true },
        ["http_requests_total"] = new(true, StatField.ReqTot, "Total number of HTTP requests processed by this object since the worker process started") { HttpOnly = true },
        ["http_comp_bytes_in_total"] = new(true, StatField.CompIn, "Total number of bytes submitted to the HTTP compressor for this object since the worker process started") { HttpOnly = true },
        ["http_comp_bytes_out_total"] = new(true, StatField.CompOut, "Total number of bytes emitted by the HTTP compressor for this object since the worker process started") { HttpOnly = true },
        ["http_comp_bytes_bypassed_total"] = new(true, StatField.CompByp, "Total number of bytes that bypassed HTTP compression for this object since the worker process started (CPU/memory/bandwidth limitation)") { HttpOnly = true },
        ["http_comp_responses_total"] = new(true, StatField.CompRsp, "Total number of HTTP responses that were compressed for this object since the worker process started") { HttpOnly = true },
        ["connections_rate_max"] = new(false, StatField.ConnRateMax, "Highest value of connections per second observed since the worker process started"),
        ["connections_total"] = new(true, StatField.ConnTot, "Total number of new connections accepted on this frontend since the worker process started"),
        ["intercepted_requests_total"] = new(true, StatField.Intercepted, "Total number of HTTP requests intercepted on the frontend (redirects/stats/services) since the worker process started") { HttpOnly = true },
        ["denied_connections_total"] = new(true, StatField.DCon, "Total number of incoming connections blocked on a listener/frontend by a tcp-request connection rule since the worker process started"),
        ["denied_sessions_total"] = new(true, StatField.DSes, "Total number of incoming sessions blocked on a listener/frontend by a tcp-request connection rule since the worker process started"),
        ["failed_header_rewriting_total"] = new(true, StatField.WRew, "Total number of failed HTTP header rewrites since the worker process started"),
        ["http_cache_lookups_total"] = new(true, StatField.CacheLookups, "Total number of HTTP requests looked up in the cache on this frontend/backend since the worker process started") { HttpOnly = true },
        ["http_cache_hits_total"] = new(true, StatField.CacheHits, "Total number of HTTP requests not found in the cache on this frontend/backend since the worker process started") { HttpOnly = true },
        ["internal_errors_total"] = new(true, StatField.EInt, "Total number of internal errors since process started"),
        ["current_queue"] = new(false, StatField.QCur, "Number of current queued connections"),
        ["max_queue"] = new(false, StatField.QMax, "Highest value of queued connections encountered since process started"),
        ["connection_errors_total"] = new(true, StatField.ECon, "Total number of failed connections to server since the worker process started"),
        ["response_errors_total"] = new(true, StatField.EResp, "Total number of invalid responses since the worker process started"),
        ["retry_warnings_total"] = new(true, StatField.WRetr, "Total number of server connection retries since the worker process started"),
        ["redispatch_warnings_total"] = new(true, StatField.WRedis, "Total number of server redispatches due to connection failures since the worker process started"),
        ["weight"] = new(false, StatField.Weight, "Server's effective weight, or sum of active servers' effective weights for a backend"),
        ["active_servers"] = new(false, StatField.Act, "Total number of active UP servers with a non-zero weight"),
        ["backup_servers"] = new(false, StatField.Bck, "Total number of backup UP servers with a non-zero weight"),
        ["check_up_down_total"] = new(true, StatField.ChkDown, "Total number of failed checks causing UP to DOWN server transitions, per server/backend, since the worker process started"),
        ["check_last_change_seconds"] = new(false, StatField.LastChg, "How long ago the last server state changed, in seconds"),
        ["downtime_seconds_total"] = new(true, StatField.Downtime, "Total time spent in DOWN state, for server or backend"),
        ["loadbalanced_total"] = new(true, StatField.LbTot, "Total number of requests routed by load balancing since the worker process started (ignores queue pop and stickiness)"),
        ["client_aborts_total"] = new(true, StatField.CliAbrt, "Total number of requests or connections aborted by the client since the worker process started"),
        ["server_aborts_total"] = new(true, StatField.SrvAbrt, "Total number of requests or connections aborted by the server since the worker process started"),
        ["last_session_seconds"] = new(false, StatField.LastSess, "How long ago some traffic was seen on this object on this worker process, in seconds"),
        ["queue_time_average_seconds"] = new(false, StatField.QTime, "Avg. queue time for last 1024 successful connections.") { Scale = 0.001 },
        ["connect_time_average_seconds"] = new(false, StatField.CTime, "Avg. connect time for last 1024 successful connections.") { Scale = 0.001 },
        ["response_time_average_seconds"] = new(false, StatField.RTime, "Avg. response time for last 1024 successful connections.") { Scale = 0.001 },
        ["total_time_average_seconds"] = new(false, StatField.TTime, "Avg. total time for last 1024 successful connections.") { Scale = 0.001 },
        ["connection_attempts_total"] = new(true, StatField.Connect, "Total number of outgoing connection attempts on this backend/server since the worker process started"),
        ["connection_reuses_total"] = new(true, StatField.Reuse, "Total number of reused connection on this backend/server since the worker process started"),
        ["max_queue_time_seconds"] = new(false, StatField.QTimeMax, "Maximum observed time spent in the queue") { Scale = 0.001 },
        ["max_connect_time_seconds"] = new(false, StatField.CTimeMax, "Maximum observed time spent waiting for a connection to complete") { Scale = 0.001 },
        ["max_response_time_seconds"] = new(false, StatField.RTimeMax, "Maximum observed time spent waiting for a server response") { Scale = 0.001 },
        ["max_total_time_seconds"] = new(false, StatField.TTimeMax, "Maximum observed total request+response time (request+queue+connect+response+processing)") { Scale = 0.001 },
        ["uweight"] = new(false, StatField.UWeight, "Server's user weight, or sum of active servers' user weights for a backend"),
        ["agg_server_status"] = new(false, StatField.AggServerStatus, "Backend's aggregated gauge of servers' status") { Kind = FamilyKind.ServerStates },
        ["agg_server_check_status"] = new(false, StatField.AggServerCheckStatus, "Backend's aggregated gauge of servers' state check status") { Kind = FamilyKind.ServerStates },
        ["agg_check_status"] = new(false, StatField.AggCheckStatus, "Backend's aggregated gauge of servers' state check status") { Kind = FamilyKind.CheckStates },
        ["check_failures_total"] = new(true, StatField.ChkFail, "Total number of failed individual health checks per server/backend, since the worker process started"),
        ["queue_limit"] = new(false, StatField.QLimit, "Limit on the number of connections in queue, for servers only (maxqueue argument)"),
        ["current_throttle"] = new(false, StatField.Throttle, "Throttling ratio applied to a server's maxconn and weight during the slowstart period (0 to 100%)"),
        ["check_status"] = new(false, StatField.CheckStatus, "Status of last health check, per state label value.") { Kind = FamilyKind.CheckStatus, CheckOnly = true },
        ["check_code"] = new(false, StatField.CheckCode, "layer5-7 code, if available of the last health check.") { CheckOnly = true, ZeroIfEmpty = true },
        ["check_duration_seconds"] = new(false, StatField.CheckDuration, "Total duration of the latest server health check, in seconds.") { Scale = 0.001, CheckOnly = true, ZeroIfEmpty = true },
        ["idle_connections_current"] = new(false, StatField.SrvICur, "Current number of idle connections available for reuse on this server"),
        ["idle_connections_limit"] = new(false, StatField.SrcILim, "Limit on the number of available idle connections on this server (server 'pool_max_conn' directive)"),
        ["unsafe_idle_connections_current"] = new(false, StatField.IdleConnCur, "Current number of unsafe idle connections"),
        ["safe_idle_connections_current"] = new(false, StatField.SafeConnCur, "Current number of safe idle connections"),
        ["used_connections_current"] = new(false, StatField.UsedConnCur, "Current number of connections in use"),
        ["need_connections_current"] = new(false, StatField.NeedConnEst, "Estimated needed number of connections"),
    };

    public static readonly string[] Frontend =
    [
        "current_sessions",
        "max_sessions",
        "limit_sessions",
        "sessions_total",
        "bytes_in_total",
        "bytes_out_total",
        "requests_denied_total",
        "responses_denied_total",
        "request_errors_total",
        "status",
        "limit_session_rate",
        "max_session_rate",
        "http_responses_total",
        "http_requests_rate_max",
        "http_requests_total",
        "http_comp_bytes_in_total",
        "http_comp_bytes_out_total",
        "http_comp_bytes_bypassed_total",
        "http_comp_responses_total",
        "connections_rate_max",
        "connections_total",
        "intercepted_requests_total",
        "denied_connections_total",
        "denied_sessions_total",
        "failed_header_rewriting_total",
        "http_cache_lookups_total",
        "http_cache_hits_total",
        "internal_errors_total",
    ];

    public static readonly string[] Listener =
    [
        "current_sessions",
        "max_sessions",
        "limit_sessions",
        "sessions_total",
        "bytes_in_total",
        "bytes_out_total",
        "requests_denied_total",
        "responses_denied_total",
        "request_errors_total",
        "status",
        "denied_connections_total",
        "denied_sessions_total",
        "failed_header_rewriting_total",
        "internal_errors_total",
    ];

    public static readonly string[] Backend =
    [
        "current_queue",
        "max_queue",
        "current_sessions",
        "max_sessions",
        "limit_sessions",
        "sessions_total",
        "bytes_in_total",
        "bytes_out_total",
        "requests_denied_total",
        "responses_denied_total",
        "connection_errors_total",
        "response_errors_total",
        "retry_warnings_total",
        "redispatch_warnings_total",
        "status",
        "weight",
        "active_servers",
        "backup_servers",
        "check_up_down_total",
        "check_last_change_seconds",
        "downtime_seconds_total",
        "loadbalanced_total",
        "max_session_rate",
        "http_responses_total",
        "http_requests_total",
        "client_aborts_total",
        "server_aborts_total",
        "http_comp_bytes_in_total",
        "http_comp_bytes_out_total",
        "http_comp_bytes_bypassed_total",
        "http_comp_responses_total",
        "last_session_seconds",
        "queue_time_average_seconds",
        "connect_time_average_seconds",
        "response_time_average_seconds",
        "total_time_average_seconds",
        "failed_header_rewriting_total",
        "connection_attempts_total",
        "connection_reuses_total",
        "http_cache_lookups_total",
        "http_cache_hits_total",
        "max_queue_time_seconds",
        "max_connect_time_seconds",
        "max_response_time_seconds",
        "max_total_time_seconds",
        "internal_errors_total",
        "uweight",
        "agg_server_status",
        "agg_server_check_status",
        "agg_check_status",
    ];

    public static readonly string[] Server =
    [
        "current_queue",
        "max_queue",
        "current_sessions",
        "max_sessions",
        "limit_sessions",
        "sessions_total",
        "bytes_in_total",
        "bytes_out_total",
        "responses_denied_total",
        "connection_errors_total",
        "response_errors_total",
        "retry_warnings_total",
        "redispatch_warnings_total",
        "status",
        "weight",
        "check_failures_total",
        "check_up_down_total",
        "check_last_change_seconds",
        "downtime_seconds_total",
        "queue_limit",
        "current_throttle",
        "loadbalanced_total",
        "max_session_rate",
        "check_status",
        "check_code",
        "check_duration_seconds",
        "http_responses_total",
        "client_aborts_total",
        "server_aborts_total",
        "last_session_seconds",
        "queue_time_average_seconds",
        "connect_time_average_seconds",
        "response_time_average_seconds",
        "total_time_average_seconds",
        "failed_header_rewriting_total",
        "connection_attempts_total",
        "connection_reuses_total",
        "idle_connections_current",
        "idle_connections_limit",
        "max_queue_time_seconds",
        "max_connect_time_seconds",
        "max_response_time_seconds",
        "max_total_time_seconds",
        "internal_errors_total",
        "unsafe_idle_connections_current",
        "safe_idle_connections_current",
        "used_connections_current",
        "need_connections_current",
        "uweight",
    ];

    /// <summary>The <c>state</c> label values of <c>*_status</c>, per kind of object.</summary>
    public static readonly string[] FrontendStates = ["DOWN", "UP"];

    public static readonly string[] BackendStates = ["DOWN", "UP"];

    public static readonly string[] ListenerStates = ["WAITING", "OPEN", "FULL"];

    public static readonly string[] ServerStates = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];

    /// <summary>Health check statuses, as <c>check_status</c>'s and <c>agg_check_status</c>'s <c>state</c> label.</summary>
    public static readonly string[] CheckStatuses =
    [
        "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP",
        "L7TOUT", "L7RSP", "L7OK", "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
    ];

    public static readonly string[] ResponseCodes = ["1xx", "2xx", "3xx", "4xx", "5xx", "other"];
}
