using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HaLua.Bench.TcpPing;

/// <summary>
/// TCP ping-pong load: N connections each send a line and wait for it to come back, over and
/// over, for a fixed time. Prints round trips per second and latency percentiles (from a
/// log-linear histogram, so memory stays constant whatever the duration).
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        // Completions on the event thread: no thread-pool hop per round trip, so one core drives
        // far more load (the generator must not be the bottleneck).
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
        {
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        }

        return RunAsync(args).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string[] args)
    {
        string host = "127.0.0.1";
        int port = 0, connections = 50, size = 16;
        double duration = 10, warmup = 2;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--host": host = args[i + 1]; break;
                case "--port": port = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--connections": connections = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--size": size = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--duration": duration = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = double.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine($"unknown option {args[i]}");
                    return 2;
            }
        }

        if (port == 0 || size < 2)
        {
            Console.Error.WriteLine("usage: TcpPing --port P [--host H] [--connections 50] [--size 16] [--duration 10] [--warmup 2]");
            return 2;
        }

        var line = new byte[size];
        Array.Fill(line, (byte)'x');
        line[^1] = (byte)'\n';
        var ep = new IPEndPoint(IPAddress.Parse(host), port);
        var sockets = new Socket[connections];
        for (int i = 0; i < connections; i++)
        {
            sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await sockets[i].ConnectAsync(ep);
        }

        var histograms = new Histogram[connections];
        long errors = 0;
        bool measuring = false;
        var stopAt = Stopwatch.GetTimestamp() + (long)((warmup + duration) * Stopwatch.Frequency);
        var measureFrom = Stopwatch.GetTimestamp() + (long)(warmup * Stopwatch.Frequency);
        var tasks = new Task[connections];
        for (int c = 0; c < connections; c++)
        {
            int id = c;
            histograms[id] = new Histogram();
            tasks[id] = Task.Run(async () =>
            {
                var s = sockets[id];
                var buf = new byte[size];
                var h = histograms[id];
                try
                {
                    while (true)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        if (t0 >= stopAt)
                        {
                            return;
                        }

                        await s.SendAsync(line, SocketFlags.None);
                        int got = 0;
                        while (got < size)
                        {
                            int n = await s.ReceiveAsync(buf.AsMemory(got), SocketFlags.None);
                            if (n == 0)
                            {
                                Interlocked.Increment(ref errors);
                                return;
                            }

                            got += n;
                        }

                        long t1 = Stopwatch.GetTimestamp();
                        if (t0 >= measureFrom)
                        {
                            Volatile.Write(ref measuring, true);
                            h.Record((t1 - t0) * 1_000_000 / Stopwatch.Frequency);
                        }
                    }
                }
                catch (SocketException)
                {
                    Interlocked.Increment(ref errors);
                }
            });
        }

        await Task.WhenAll(tasks);
        foreach (var s in sockets)
        {
            s.Dispose();
        }

        var all = new Histogram();
        foreach (var h in histograms)
        {
            all.Merge(h);
        }

        double rtps = all.Count / duration;
        Console.WriteLine($"connections {connections}, {size}-byte lines, {duration}s (after {warmup}s warm-up), measured={measuring}");
        Console.WriteLine($"round trips: {all.Count}  ({rtps:F0}/s)");
        Console.WriteLine($"latency us: p50 {all.Percentile(50)}  p99 {all.Percentile(99)}  max {all.Max}");
        Console.WriteLine($"errors: {errors}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT rtps={rtps:F0} p50_us={all.Percentile(50)} p99_us={all.Percentile(99)} errors={errors}"));
        return errors > 0 ? 1 : 0;
    }
}

/// <summary>Microsecond latencies in log-linear buckets (~1.6% precision).</summary>
internal sealed class Histogram
{
    private readonly long[] _counts = new long[2048];

    public long Count { get; private set; }

    public long Max { get; private set; }

    public void Record(long us)
    {
        us = Math.Max(0, us);
        _counts[Index(us)]++;
        Count++;
        Max = Math.Max(Max, us);
    }

    // Values below 64 exactly; above, 32 linear sub-buckets per power of two.
    private static int Index(long v)
    {
        if (v < 64)
        {
            return (int)v;
        }

        int exp = 63 - (int)long.LeadingZeroCount(v) - 5;
        return Math.Min(64 + exp * 32 + (int)((v >> exp) - 32), 2047);
    }

    private static long ValueOf(int index)
    {
        if (index < 64)
        {
            return index;
        }

        int k = index - 64;
        return (long)(k % 32 + 32) << (k / 32);
    }

    public void Merge(Histogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    public long Percentile(double p)
    {
        long target = (long)Math.Ceiling(Count * p / 100.0);
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= target && _counts[i] > 0)
            {
                return ValueOf(i);
            }
        }

        return Max;
    }
}
