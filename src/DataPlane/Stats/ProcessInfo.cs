using System.Diagnostics;
using System.Globalization;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Stats;

/// <summary>
/// HAProxy 2.6's <c>show info</c>: its keys in its order, with HaLua's values where HaLua has the
/// concept and 0 where it has not (SSL, pipes, peers, compression, resolvers, rate limits).
/// Lua's <c>core.get_info</c> and the control plane's <c>show info</c> read it. Before the host
/// runs (the Lua body) the process values are there and the traffic ones are 0.
/// </summary>
internal sealed class ProcessInfo(GlobalConfig global)
{
    private static readonly DateTime Started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
    private static readonly object CpuLock = new();
    private static (long Ticks, TimeSpan Cpu) s_lastCpu = (Stopwatch.GetTimestamp(), Process.GetCurrentProcess().TotalProcessorTime);
    private static long s_idlePct = 100;

    /// <summary>The running host, once there is one.</summary>
    public DataPlaneHost? Host { get; set; }

    public IReadOnlyList<(string Name, StatValue Value)> Rows()
    {
        var host = Host;
        var proxies = host?.Generation.Proxies ?? [];
        var uptime = DateTime.UtcNow - Started;
        long used = GC.GetTotalMemory(false);
        // The managed heap stands for HAProxy's pools (committed: allocated; live objects: used).
        long allocated = Math.Max(GC.GetGCMemoryInfo().TotalCommittedBytes, used);
        long ulimit = OpenFilesLimit();
        int listeners = host?.Listeners.Count(l => l.State != Listeners.ListenerState.Stopped) ?? 0;
        long current = Volatile.Read(ref ProcessCounters.ActiveConnections);
        long rate = ProcessCounters.ConnectionRate.PerSecond;
        long rateMax = ProcessCounters.ConnectionRate.Max;
        var rows = new List<(string, StatValue)>(72);
        void Add(string name, long value) => rows.Add((name, StatValue.Of(value)));
        void AddText(string name, string value) => rows.Add((name, StatValue.Of(value)));

        AddText("Name", "HaLua");
        AddText("Version", Program.Version);
        AddText("Release_date", ReleaseDate());
        Add("Nbthread", Math.Max(1, global.NbThread));
        Add("Nbproc", 1);
        Add("Process_num", 1);
        Add("Pid", Environment.ProcessId);
        AddText("Uptime", string.Create(CultureInfo.InvariantCulture, $"{uptime.Days}d {uptime.Hours}h{uptime.Minutes:00}m{uptime.Seconds:00}s"));
        Add("Uptime_sec", (long)uptime.TotalSeconds);
        Add("Memmax_MB", 0);
        Add("PoolAlloc_MB", allocated >> 20);
        Add("PoolUsed_MB", used >> 20);
        Add("PoolFailed", 0);
        Add("Ulimit-n", ulimit);
        Add("Maxsock", 2L * global.MaxConn + listeners);
        Add("Maxconn", global.MaxConn);
        Add("Hard_maxconn", global.MaxConn);
        Add("CurrConns", current);
        Add("CumConns", Volatile.Read(ref ProcessCounters.CumulatedConnections));
        Add("CumReq", Volatile.Read(ref ProcessCounters.CumulatedRequests));
        foreach (var name in (ReadOnlySpan<string>)["MaxSslConns", "CurrSslConns", "CumSslConns", "Maxpipes", "PipesUsed", "PipesFree"])
        {
            Add(name, 0);
        }

        Add("ConnRate", rate);
        Add("ConnRateLimit", 0);
        Add("MaxConnRate", rateMax);
        Add("SessRate", rate);
        Add("SessRateLimit", 0);
        Add("MaxSessRate", rateMax);
        foreach (var name in (ReadOnlySpan<string>)["SslRate", "SslRateLimit", "MaxSslRate", "SslFrontendKeyRate", "SslFrontendMaxKeyRate",
            "SslFrontendSessionReuse_pct", "SslBackendKeyRate", "SslBackendMaxKeyRate", "SslCacheLookups", "SslCacheMisses",
            "CompressBpsIn", "CompressBpsOut", "CompressBpsRateLim"])
        {
            Add(name, 0);
        }

        long checkedServers = proxies.Where(p => p.Backend is not null).SelectMany(p => p.Backend!.Servers).Count(s => s.Config.Check);
        Add("Tasks", current + checkedServers + (host?.Generation.Lua.RunningTasks ?? 0));
        Add("Run_queue", ThreadPool.PendingWorkItemCount);
        Add("Idle_pct", IdlePercent(global.NbThread));
        AddText("node", Environment.MachineName);
        Add("Stopping", host?.IsStopping == true ? 1 : 0);
        Add("Jobs", listeners + current);
        Add("Unstoppable Jobs", 0);
        Add("Listeners", listeners);
        Add("ActivePeers", 0);
        Add("ConnectedPeers", 0);
        Add("DroppedLogs", Logging.LogSink.Dropped);
        Add("BusyPolling", 0);
        Add("FailedResolutions", 0);
        Add("TotalBytesOut", proxies.Where(p => p.IsFrontend).Sum(p => Volatile.Read(ref p.FrontendCounters.Bout)));
        Add("TotalSplicdedBytesOut", 0);
        Add("BytesOutRate", 0);
        Add("DebugCommandsIssued", 0);
        Add("CumRecvLogs", 0);
        AddText("Build info", Program.Version);
        Add("Memmax_bytes", 0);
        Add("PoolAlloc_bytes", allocated);
        Add("PoolUsed_bytes", used);
        Add("Start_time_sec", (long)(Started - DateTime.UnixEpoch).TotalSeconds);
        AddText("Tainted", "0");
        return rows;
    }

    /// <summary>The day the binary was built (HAProxy's release date), as HAProxy writes it.</summary>
    private static string ReleaseDate()
    {
        string path = typeof(ProcessInfo).Assembly.Location;
        return path.Length > 0 && File.Exists(path) ? File.GetLastWriteTimeUtc(path).ToString("yyyy/MM/dd", CultureInfo.InvariantCulture) : "";
    }

    /// <summary>RLIMIT_NOFILE's soft limit (HAProxy's Ulimit-n), from /proc; 0 when unknown.</summary>
    private static long OpenFilesLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : 0;
                }
            }
        }
        catch (IOException)
        {
            // not Linux
        }

        return 0;
    }

    /// <summary>The share of time the workers did not use the CPU since the previous call (HAProxy's Idle_pct).</summary>
    private static long IdlePercent(int threads)
    {
        lock (CpuLock)
        {
            long now = Stopwatch.GetTimestamp();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            double wall = Stopwatch.GetElapsedTime(s_lastCpu.Ticks, now).TotalSeconds;
            if (wall >= 0.1)
            {
                double busy = (cpu - s_lastCpu.Cpu).TotalSeconds / (wall * Math.Clamp(threads, 1, Environment.ProcessorCount));
                s_idlePct = (long)Math.Clamp(100 - (busy * 100), 0, 100);
                s_lastCpu = (now, cpu);
            }

            return s_idlePct;
        }
    }
}
