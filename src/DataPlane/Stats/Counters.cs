using System.Diagnostics;

namespace HaLua.DataPlane.Stats;

/// <summary>
/// Counters of a frontend, backend, server or listener with HAProxy's meanings (the names of
/// <c>show stat</c>). Updates are single Interlocked operations: no lock, no allocation.
/// </summary>
internal sealed class Counters
{
    public long Scur;
    public long Smax;
    public long Stot;
    public long Bin;
    public long Bout;
    public long Dreq;
    public long Dresp;
    public long Ereq;
    public long Econ;
    public long Eresp;
    public long Wretr;
    public long Wredis;
    public long Lbtot;
    public long ChkFail;
    public long ChkDown;
    public long Qcur;
    public long Qmax;
    public long CliAbrt;
    public long SrvAbrt;

    /// <summary>HTTP requests (req_tot) and responses by status class (hrsp_1xx..hrsp_5xx, hrsp_other).</summary>
    public long ReqTot;
    public long Hrsp1xx;
    public long Hrsp2xx;
    public long Hrsp3xx;
    public long Hrsp4xx;
    public long Hrsp5xx;
    public long HrspOther;

    /// <summary>Server connections opened (connect) and idle ones reused (reuse).</summary>
    public long Connect;
    public long Reuse;

    private readonly RateCounter _rate = new();
    private readonly RateCounter _requestRate = new();
    private long _lastSession;

    /// <summary>A session starts: scur, smax, stot and the session rate.</summary>
    public void SessionStarted()
    {
        long cur = Interlocked.Increment(ref Scur);
        Interlocked.Increment(ref Stot);
        UpdateMax(ref Smax, cur);
        _rate.Add();
        Volatile.Write(ref _lastSession, Environment.TickCount64);
    }

    /// <summary>An HTTP request: req_tot and the request rate.</summary>
    public void Request()
    {
        Interlocked.Increment(ref ReqTot);
        _requestRate.Add();
    }

    /// <summary>A response of this status went out (hrsp_*).</summary>
    public void Response(int status)
    {
        switch (status / 100)
        {
            case 1:
                Interlocked.Increment(ref Hrsp1xx);
                break;
            case 2:
                Interlocked.Increment(ref Hrsp2xx);
                break;
            case 3:
                Interlocked.Increment(ref Hrsp3xx);
                break;
            case 4:
                Interlocked.Increment(ref Hrsp4xx);
                break;
            case 5:
                Interlocked.Increment(ref Hrsp5xx);
                break;
            default:
                Interlocked.Increment(ref HrspOther);
                break;
        }
    }

    /// <summary>Seconds since the last session started (HAProxy's lastsess), -1 if none did.</summary>
    public long SecondsSinceLastSession
    {
        get
        {
            long last = Volatile.Read(ref _lastSession);
            return last == 0 ? -1 : (Environment.TickCount64 - last) / 1000;
        }
    }

    public void SessionEnded() => Interlocked.Decrement(ref Scur);

    public void Queued()
    {
        long q = Interlocked.Increment(ref Qcur);
        UpdateMax(ref Qmax, q);
    }

    public void Dequeued() => Interlocked.Decrement(ref Qcur);

    public static void Add(ref long counter, long n) => Interlocked.Add(ref counter, n);

    public static void Inc(ref long counter) => Interlocked.Increment(ref counter);

    /// <summary>Sessions per second over the last second (HAProxy's "rate").</summary>
    public long Rate => _rate.PerSecond;

    public long RateMax => _rate.Max;

    /// <summary>HTTP requests per second over the last second (req_rate).</summary>
    public long RequestRate => _requestRate.PerSecond;

    public long RequestRateMax => _requestRate.Max;

    private static void UpdateMax(ref long max, long value)
    {
        long m;
        while (value > (m = Volatile.Read(ref max)) && Interlocked.CompareExchange(ref max, value, m) != m)
        {
        }
    }
}

/// <summary>Process-wide counters.</summary>
internal static class ProcessCounters
{
    /// <summary>Connections being served by the process (HAProxy's actconn, %ac in logs).</summary>
    public static long ActiveConnections;

    /// <summary>Connections accepted since the start (show info's CumConns).</summary>
    public static long CumulatedConnections;

    /// <summary>Streams: TCP streams and HTTP requests since the start (show info's CumReq).</summary>
    public static long CumulatedRequests;

    /// <summary>Connections accepted per second (show info's ConnRate and SessRate).</summary>
    public static readonly RateCounter ConnectionRate = new();
}

/// <summary>Events per second, HAProxy style: the current one-second period blended with the previous one.</summary>
internal sealed class RateCounter
{
    private long _period;
    private long _current;
    private long _previous;
    private long _max;

    public void Add()
    {
        long now = Stopwatch.GetTimestamp() / Stopwatch.Frequency;
        long p = Volatile.Read(ref _period);
        if (now != p && Interlocked.CompareExchange(ref _period, now, p) == p)
        {
            long cur = Interlocked.Exchange(ref _current, 0);
            Volatile.Write(ref _previous, now == p + 1 ? cur : 0);
        }

        long c = Interlocked.Increment(ref _current);
        long m;
        while (c > (m = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, c, m) != m)
        {
        }
    }

    public long PerSecond
    {
        get
        {
            long now = Stopwatch.GetTimestamp() / Stopwatch.Frequency;
            long p = Volatile.Read(ref _period);
            if (now == p)
            {
                return Volatile.Read(ref _current);
            }

            return now == p + 1 ? Volatile.Read(ref _current) : 0;
        }
    }

    public long Max => Volatile.Read(ref _max);
}
