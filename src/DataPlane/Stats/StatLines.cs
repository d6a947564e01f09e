using System.Globalization;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Listeners;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;
using static HaLua.DataPlane.Stats.StatField;

namespace HaLua.DataPlane.Stats;

/// <summary>
/// The rows of <c>show stat</c> over the live runtime state: a FRONTEND row per frontend, a row
/// per listener (with <c>option socket-stats</c>), per server, and a BACKEND row per backend, each
/// with the fields HAProxy 2.6 fills for that kind of row (the others empty). Values HaLua does not
/// measure (timing averages, compression, caches, SSL, agents) are 0 where HAProxy prints a number.
/// </summary>
internal static class StatLines
{
    /// <summary>HAProxy's <c>type</c> column.</summary>
    private const long TypeFrontend = 0, TypeBackend = 1, TypeServer = 2, TypeListener = 3;

    /// <summary>Every row, in <c>show stat</c>'s order: per proxy its frontend, listeners, servers, backend.</summary>
    public static IEnumerable<StatLine> All(IEnumerable<ProxyRuntime> proxies)
    {
        foreach (var px in proxies)
        {
            if (px.IsFrontend)
            {
                yield return Frontend(px);
                foreach (var l in px.Listeners)
                {
                    if (Listener(px, l) is { } row)
                    {
                        yield return row;
                    }
                }
            }

            if (px.Backend is { } be)
            {
                foreach (var s in be.Servers)
                {
                    yield return Server(s);
                }

                yield return Backend(px);
            }
        }
    }

    public static StatLine Frontend(ProxyRuntime px)
    {
        var c = px.FrontendCounters;
        bool http = px.Config.Mode == ProxyMode.Http;
        var r = Common(px.Config, "FRONTEND", 0, TypeFrontend);
        Sessions(r, c);
        r.Set(SLim, px.MaxConn);
        r.Set(DReq, Read(ref c.Dreq));
        r.Set(EReq, Read(ref c.Ereq));
        r.Set(Status, px.State switch { FrontendState.Stopped => "STOP", FrontendState.Paused => "PAUSED", _ => "OPEN" });
        r.Set(Rate, c.Rate);
        r.Set(RateLim, 0);
        r.Set(RateMax, c.RateMax);
        if (http)
        {
            Responses(r, c);
            r.Set(Intercepted, 0);
            r.Set(CacheLookups, 0);
            r.Set(CacheHits, 0);
        }

        r.Set(ReqRate, c.RequestRate);
        r.Set(ReqRateMax, c.RequestRateMax);
        r.Set(ReqTot, Read(ref c.ReqTot));
        Compression(r);
        // Every accepted connection is a session in HaLua (no tcp-request connection rules).
        r.Set(ConnRate, c.Rate);
        r.Set(ConnRateMax, c.RateMax);
        r.Set(ConnTot, Read(ref c.Stot));
        r.Set(DCon, 0);
        r.Set(DSes, 0);
        return r;
    }

    /// <summary>A listener's row; null without <c>option socket-stats</c> (HAProxy keeps no per-listener stats then).</summary>
    public static StatLine? Listener(ProxyRuntime px, Listener l)
    {
        if (!px.Config.SocketStats)
        {
            return null;
        }

        var c = l.Counters;
        var r = Common(px.Config, l.Name, l.Id, TypeListener);
        Sessions(r, c);
        r.Set(SLim, 0);
        r.Set(DReq, Read(ref c.Dreq));
        r.Set(EReq, Read(ref c.Ereq));
        r.Set(Status, px.Slots is { CurrentCount: 0 } ? "FULL" : "OPEN");
        r.Set(Addr, EndPoint(l.LocalEndPoint ?? l.Bind.Endpoint));
        r.Set(DCon, 0);
        r.Set(DSes, 0);
        return r;
    }

    public static StatLine Server(ServerState s)
    {
        var c = s.Counters;
        var cfg = s.Backend.Config;
        bool http = cfg.Mode == ProxyMode.Http;
        var r = Common(cfg, s.Name, s.Id, TypeServer);
        r.Set(QCur, 0);
        r.Set(QMax, 0);
        Sessions(r, c);
        if (s.MaxConn > 0)
        {
            r.Set(SLim, s.MaxConn);
        }

        ServerSide(r, c);
        r.Set(Status, s.StatusText);
        r.Set(Weight, s.Weight);
        r.Set(UWeight, s.Weight);
        r.Set(Act, s.IsBackup ? 0 : 1);
        r.Set(Bck, s.IsBackup ? 1 : 0);
        r.Set(LastChg, (long)(DateTime.UtcNow - s.LastChange).TotalSeconds);
        if (s.CheckEnabled && s.Admin != ServerAdminState.Maint)
        {
            // The check's columns, while checks run (HAProxy hides them when disabled or in maintenance).
            string status = s.CheckStatus.Length == 0 ? "INI" : s.CheckStatus;
            r.Set(ChkFail, Read(ref c.ChkFail));
            r.Set(ChkDown, Read(ref c.ChkDown));
            r.Set(Downtime, s.DowntimeSeconds);
            r.Set(CheckStatus, status);
            if (status.StartsWith("L7", StringComparison.Ordinal) && s.CheckCode > 0)
            {
                r.Set(CheckCode, s.CheckCode);
            }

            if (status != "INI")
            {
                r.Set(CheckDuration, (long)s.CheckDuration.TotalMilliseconds);
            }

            r.Set(LastChk, s.CheckInfo);
            r.Set(CheckDesc, Health.CheckResult.Description(status));
            r.Set(CheckRise, s.Config.Rise);
            r.Set(CheckFall, s.Config.Fall);
            r.Set(CheckHealth, s.CheckHealth);
        }

        r.Set(Rate, c.Rate);
        r.Set(RateMax, c.RateMax);
        if (http)
        {
            Responses(r, c);
            r.Set(ReqTot, Read(ref c.ReqTot));
        }

        r.Set(Addr, EndPoint(s.Address));
        int idle = s.IdleConnections.Count;
        r.Set(SrvICur, idle);
        if (s.Config.PoolMaxConn >= 0)
        {
            r.Set(SrcILim, s.Config.PoolMaxConn);
        }

        r.Set(IdleConnCur, idle);
        r.Set(SafeConnCur, 0);
        r.Set(UsedConnCur, Read(ref c.Scur));
        r.Set(NeedConnEst, 0);
        return r;
    }

    public static StatLine Backend(ProxyRuntime px)
    {
        var be = px.Backend ?? throw new ArgumentException($"'{px.Name}' is not a backend", nameof(px));
        var c = be.Counters;
        bool http = px.Config.Mode == ProxyMode.Http;
        var r = Common(px.Config, "BACKEND", 0, TypeBackend);
        r.Set(QCur, Read(ref c.Qcur));
        r.Set(QMax, Read(ref c.Qmax));
        Sessions(r, c);
        r.Set(SLim, be.FullConn);
        r.Set(DReq, Read(ref c.Dreq));
        ServerSide(r, c);
        r.Set(Status, be.IsUp ? "UP" : "DOWN");
        long weight = be.TotalWeight;
        r.Set(Weight, weight);
        r.Set(UWeight, weight);
        r.Set(Act, be.ActiveServers);
        r.Set(Bck, be.BackupServers);
        r.Set(ChkDown, Read(ref be.DownTransitions));
        r.Set(LastChg, be.SecondsSinceLastChange);
        r.Set(Downtime, be.DowntimeSeconds);
        r.Set(Rate, c.Rate);
        r.Set(RateMax, c.RateMax);
        if (http)
        {
            Responses(r, c);
            r.Set(ReqTot, Read(ref c.ReqTot));
            r.Set(CacheLookups, 0);
            r.Set(CacheHits, 0);
        }

        Compression(r);
        r.Set(Algo, px.Config.Balance switch
        {
            BalanceAlgorithm.StaticRoundRobin => "static-rr",
            BalanceAlgorithm.LeastConn => "leastconn",
            BalanceAlgorithm.First => "first",
            BalanceAlgorithm.Source => "source",
            _ => "roundrobin",
        });
        r.Set(AggServerStatus, 0);
        r.Set(AggServerCheckStatus, 0);
        r.Set(AggCheckStatus, 0);
        return r;
    }

    /// <summary>The columns every row has.</summary>
    private static StatLine Common(ProxyConfig px, string svname, long sid, long type)
    {
        var r = new StatLine();
        r.Set(PxName, px.Name);
        r.Set(SvName, svname);
        r.Set(Pid, 1);
        r.Set(Iid, px.Uuid);
        r.Set(Sid, sid);
        r.Set(StatField.Type, type);
        r.Set(Mode, px.Mode == ProxyMode.Http ? "http" : "tcp");
        r.Set(DResp, 0);
        r.Set(WRew, 0);
        r.Set(EInt, 0);
        return r;
    }

    private static void Sessions(StatLine r, Counters c)
    {
        r.Set(SCur, Read(ref c.Scur));
        r.Set(SMax, Read(ref c.Smax));
        r.Set(STot, Read(ref c.Stot));
        r.Set(BIn, Read(ref c.Bin));
        r.Set(BOut, Read(ref c.Bout));
        r.Set(DResp, Read(ref c.Dresp));
    }

    /// <summary>The columns of the rows that talk to servers (servers and backends).</summary>
    private static void ServerSide(StatLine r, Counters c)
    {
        r.Set(ECon, Read(ref c.Econ));
        r.Set(EResp, Read(ref c.Eresp));
        r.Set(WRetr, Read(ref c.Wretr));
        r.Set(WRedis, Read(ref c.Wredis));
        r.Set(LbTot, Read(ref c.Lbtot));
        r.Set(CliAbrt, Read(ref c.CliAbrt));
        r.Set(SrvAbrt, Read(ref c.SrvAbrt));
        r.Set(LastSess, c.SecondsSinceLastSession);
        r.Set(Connect, Read(ref c.Connect));
        r.Set(Reuse, Read(ref c.Reuse));
        foreach (var f in (ReadOnlySpan<StatField>)[QTime, CTime, RTime, TTime, QTimeMax, CTimeMax, RTimeMax, TTimeMax])
        {
            r.Set(f, 0);
        }
    }

    private static void Responses(StatLine r, Counters c)
    {
        r.Set(Hrsp1xx, Read(ref c.Hrsp1xx));
        r.Set(Hrsp2xx, Read(ref c.Hrsp2xx));
        r.Set(Hrsp3xx, Read(ref c.Hrsp3xx));
        r.Set(Hrsp4xx, Read(ref c.Hrsp4xx));
        r.Set(Hrsp5xx, Read(ref c.Hrsp5xx));
        r.Set(HrspOther, Read(ref c.HrspOther));
    }

    private static void Compression(StatLine r)
    {
        r.Set(CompIn, 0);
        r.Set(CompOut, 0);
        r.Set(CompByp, 0);
        r.Set(CompRsp, 0);
    }

    private static long Read(ref long counter) => Volatile.Read(ref counter);

    /// <summary>The stats' address form: "ip:port", IPv6 in brackets.</summary>
    private static string EndPoint(System.Net.IPEndPoint ep)
    {
        var ip = ep.Address.IsIPv4MappedToIPv6 ? ep.Address.MapToIPv4() : ep.Address;
        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{ip}]:{ep.Port}")
            : string.Create(CultureInfo.InvariantCulture, $"{ip}:{ep.Port}");
    }
}
