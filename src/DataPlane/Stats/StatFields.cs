using System.Globalization;

namespace HaLua.DataPlane.Stats;

/// <summary>
/// The columns of HAProxy 2.6's <c>show stat</c>, in its order (the core fields, before the
/// <c>-</c> column that starts the modules' ones). One place for the names: Lua's
/// <c>get_stats</c>, the control plane's <c>show stat</c> and the Prometheus exporter read them here.
/// </summary>
internal enum StatField
{
    PxName, SvName, QCur, QMax, SCur, SMax, SLim, STot, BIn, BOut,
    DReq, DResp, EReq, ECon, EResp, WRetr, WRedis, Status, Weight, Act,
    Bck, ChkFail, ChkDown, LastChg, Downtime, QLimit, Pid, Iid, Sid, Throttle,
    LbTot, Tracked, Type, Rate, RateLim, RateMax, CheckStatus, CheckCode, CheckDuration, Hrsp1xx,
    Hrsp2xx, Hrsp3xx, Hrsp4xx, Hrsp5xx, HrspOther, HanaFail, ReqRate, ReqRateMax, ReqTot, CliAbrt,
    SrvAbrt, CompIn, CompOut, CompByp, CompRsp, LastSess, LastChk, LastAgt, QTime, CTime,
    RTime, TTime, AgentStatus, AgentCode, AgentDuration, CheckDesc, AgentDesc, CheckRise, CheckFall, CheckHealth,
    AgentRise, AgentFall, AgentHealth, Addr, Cookie, Mode, Algo, ConnRate, ConnRateMax, ConnTot,
    Intercepted, DCon, DSes, WRew, Connect, Reuse, CacheLookups, CacheHits, SrvICur, SrcILim,
    QTimeMax, CTimeMax, RTimeMax, TTimeMax, EInt, IdleConnCur, SafeConnCur, UsedConnCur, NeedConnEst, UWeight,
    AggServerStatus, AggServerCheckStatus, AggCheckStatus,
}

/// <summary>The names of <see cref="StatField"/> as <c>show stat</c> prints them.</summary>
internal static class StatFields
{
    public static readonly string[] Names =
    [
        "pxname", "svname", "qcur", "qmax", "scur", "smax", "slim", "stot", "bin", "bout",
        "dreq", "dresp", "ereq", "econ", "eresp", "wretr", "wredis", "status", "weight", "act",
        "bck", "chkfail", "chkdown", "lastchg", "downtime", "qlimit", "pid", "iid", "sid", "throttle",
        "lbtot", "tracked", "type", "rate", "rate_lim", "rate_max", "check_status", "check_code", "check_duration", "hrsp_1xx",
        "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other", "hanafail", "req_rate", "req_rate_max", "req_tot", "cli_abrt",
        "srv_abrt", "comp_in", "comp_out", "comp_byp", "comp_rsp", "lastsess", "last_chk", "last_agt", "qtime", "ctime",
        "rtime", "ttime", "agent_status", "agent_code", "agent_duration", "check_desc", "agent_desc", "check_rise", "check_fall", "check_health",
        "agent_rise", "agent_fall", "agent_health", "addr", "cookie", "mode", "algo", "conn_rate", "conn_rate_max", "conn_tot",
        "intercepted", "dcon", "dses", "wrew", "connect", "reuse", "cache_lookups", "cache_hits", "srv_icur", "src_ilim",
        "qtime_max", "ctime_max", "rtime_max", "ttime_max", "eint", "idle_conn_cur", "safe_conn_cur", "used_conn_cur", "need_conn_est", "uweight",
        "agg_server_status", "agg_server_check_status", "agg_check_status",
    ];

    public static int Count => Names.Length;

    public static string Name(StatField field) => Names[(int)field];
}

/// <summary>One value of a stats row or of <c>show info</c>: empty, an integer or a string.</summary>
internal readonly record struct StatValue(long Integer, string? Text, bool IsInteger)
{
    public static StatValue Empty => default;

    public bool IsEmpty => !IsInteger && Text is null;

    public static StatValue Of(long value) => new(value, null, true);

    public static StatValue Of(string value) => new(0, value, false);

    /// <summary>As <c>show stat</c>'s CSV prints it: empty values as nothing.</summary>
    public override string ToString() => IsInteger ? Integer.ToString(CultureInfo.InvariantCulture) : Text ?? "";
}

/// <summary>One row of <c>show stat</c>: a value per <see cref="StatField"/>, empty where the field does not apply.</summary>
internal sealed class StatLine
{
    private readonly StatValue[] _values = new StatValue[StatFields.Count];

    public StatValue this[StatField field]
    {
        get => _values[(int)field];
        set => _values[(int)field] = value;
    }

    public void Set(StatField field, long value) => _values[(int)field] = StatValue.Of(value);

    public void Set(StatField field, string value) => _values[(int)field] = StatValue.Of(value);

    /// <summary>Every field in <c>show stat</c>'s order, empty ones included.</summary>
    public IEnumerable<(string Name, StatValue Value)> Fields
    {
        get
        {
            for (int i = 0; i < _values.Length; i++)
            {
                yield return (StatFields.Names[i], _values[i]);
            }
        }
    }
}
