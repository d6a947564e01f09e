using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaLua.Sdk;

namespace HaLua.Bench.AdminBench;

/// <summary>
/// Measures one admin endpoint: halua's gRPC API (--grpc HOST:PORT) or HAProxy's runtime API on a
/// TCP stats socket (--cli HOST:PORT). The data plane under test has "backend app" with one server
/// "s", a TCP frontend on --tcp PORT forwarding to it, and an HTTP frontend on --http PORT that
/// answers the value of key "k" in map --map. Prints RESULT lines.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        var o = args.Select((a, i) => (a, i)).Where(x => x.a.StartsWith("--", StringComparison.Ordinal)).ToDictionary(x => x.a[2..], x => x.i + 1 < args.Length ? args[x.i + 1] : "");
        if (o.TryGetValue("h2load-bodies", out var bodies))
        {
            WriteH2LoadBodies(bodies, o["map"]);
            return 0;
        }

        int tcp = int.Parse(o["tcp"], CultureInfo.InvariantCulture), http = int.Parse(o["http"], CultureInfo.InvariantCulture);
        int iterations = int.Parse(o.GetValueOrDefault("iterations", "300"), CultureInfo.InvariantCulture);
        int concurrency = int.Parse(o.GetValueOrDefault("concurrency", "32"), CultureInfo.InvariantCulture);
        double duration = double.Parse(o.GetValueOrDefault("duration", "5"), CultureInfo.InvariantCulture);
        string map = o["map"];
        int portA = int.Parse(o["a"], CultureInfo.InvariantCulture), portB = int.Parse(o["b"], CultureInfo.InvariantCulture);

        IAdmin admin = o.TryGetValue("grpc", out var g) ? new GrpcAdmin(g) : new CliAdmin(o["cli"]);
        await using var _ = admin;

        if (o.ContainsKey("rate-only"))
        {
            iterations = 0;
        }

        // 1. Reply to visible: re-target the server, then the very next connection must reach the new address.
        // 2. A map change seen by the next HTTP request.
        // Both after `warmup` unmeasured rounds of the same (a server that has just started is
        // still compiling its hot paths; the goal is about one that runs).
        int warmup = iterations == 0 ? 0 : int.Parse(o.GetValueOrDefault("warmup", "0"), CultureInfo.InvariantCulture);
        await AddressProbesAsync(warmup, null);
        await MapProbesAsync(warmup, null);
        if (iterations > 0)
        {
            var lat = new List<double>();
            int misses = await AddressProbesAsync(iterations, lat);
            Report("addr_visible", lat, misses);
            lat.Clear();
            misses = await MapProbesAsync(iterations, lat);
            Report("map_visible", lat, misses);
        }

        async Task<int> AddressProbesAsync(int count, List<double>? lat)
        {
            int misses = 0;
            for (int i = 0; i < count; i++)
            {
                bool toB = i % 2 == 0;
                await admin.SetAddressAsync(toB ? portB : portA);
                long t0 = Stopwatch.GetTimestamp();
                string got = await TcpProbeAsync(tcp);
                lat?.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (got != (toB ? "B" : "A"))
                {
                    misses++;
                }
            }

            return misses;
        }

        async Task<int> MapProbesAsync(int count, List<double>? lat)
        {
            int misses = 0;
            for (int i = 0; i < count; i++)
            {
                string value = "v" + i.ToString(CultureInfo.InvariantCulture);
                await admin.SetMapAsync(map, "k", value);
                long t0 = Stopwatch.GetTimestamp();
                string got = await HttpProbeAsync(http);
                lat?.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (got != value)
                {
                    misses++;
                }
            }

            return misses;
        }

        // 3. Throughput: `concurrency` callers for `duration` seconds.
        if (o.ContainsKey("read"))
        {
            await RateAsync("read_rps", concurrency, duration, (n, c) => admin.ReadAsync());
        }

        await RateAsync("set_weight_rps", concurrency, duration, (n, c) => admin.SetWeightAsync(c, (n % 2 + 1).ToString(CultureInfo.InvariantCulture)));
        await RateAsync("map_set_rps", concurrency, duration, (n, c) => admin.SetMapAsync(map, "k", "r" + n.ToString(CultureInfo.InvariantCulture), c));
        return 0;
    }

    /// <summary>
    /// Writes the gRPC request bodies (5-byte gRPC frame header + protobuf) that bench/run-admin.sh
    /// sends with h2load, a C HTTP/2 load generator, to measure the server's rate without the .NET
    /// client's cost: SetWeight of app/s to 1, and SetMapEntry of k in the map.
    /// </summary>
    private static void WriteH2LoadBodies(string dir, string map)
    {
        static byte[] Frame(Google.Protobuf.IMessage message)
        {
            byte[] payload = Google.Protobuf.MessageExtensions.ToByteArray(message);
            var frame = new byte[5 + payload.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
            payload.CopyTo(frame, 5);
            return frame;
        }

        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "setweight.bin"), Frame(new HaLua.Admin.V1.SetWeightRequest { Backend = "app", Server = "s", Weight = "1" }));
        File.WriteAllBytes(Path.Combine(dir, "setmap.bin"), Frame(new HaLua.Admin.V1.SetEntryRequest { Name = map, Key = "k", Value = "h2" }));
    }

    private static async Task RateAsync(string name, int concurrency, double seconds, Func<long, int, Task> op)
    {
        long done = 0;
        var until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(async c =>
        {
            long n = 0;
            while (Stopwatch.GetTimestamp() < until)
            {
                await op(n++, c);
            }

            Interlocked.Add(ref done, n);
        });
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(workers);
        Console.WriteLine(FormattableString.Invariant($"RESULT {name} rate={done / sw.Elapsed.TotalSeconds:F0}"));
    }

    private static void Report(string name, List<double> ms, int misses)
    {
        ms.Sort();
        double P(double p) => ms[Math.Min(ms.Count - 1, (int)(p * ms.Count))];
        Console.WriteLine(FormattableString.Invariant($"RESULT {name} p50_ms={P(0.5):F3} p99_ms={P(0.99):F3} max_ms={ms[^1]:F3} misses={misses}"));
    }

    private static async Task<string> TcpProbeAsync(int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(IPAddress.Loopback, port);
        var buf = new byte[16];
        int n = await s.ReceiveAsync(buf);
        return Encoding.ASCII.GetString(buf, 0, n);
    }

    private static async Task<string> HttpProbeAsync(int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(IPAddress.Loopback, port);
        await s.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());
        var all = new MemoryStream();
        var buf = new byte[4096];
        int n;
        while ((n = await s.ReceiveAsync(buf)) > 0)
        {
            all.Write(buf, 0, n);
        }

        string text = Encoding.ASCII.GetString(all.ToArray());
        return text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
    }
}

internal interface IAdmin : IAsyncDisposable
{
    Task SetAddressAsync(int port);

    Task SetMapAsync(string map, string key, string value, int caller = 0);

    Task SetWeightAsync(int caller, string weight);

    /// <summary>A read-only call (the floor of one RPC).</summary>
    Task ReadAsync();
}

internal sealed class GrpcAdmin(string address) : IAdmin
{
    private readonly HaLuaAdminClient _client = new(address);

    public Task SetAddressAsync(int port) => _client.SetAddressAsync("app", "s", "127.0.0.1", port);

    public Task SetMapAsync(string map, string key, string value, int caller = 0) => _client.SetMapAsync(map, key, value);

    public Task SetWeightAsync(int caller, string weight) => _client.SetWeightAsync("app", "s", weight);

    public Task ReadAsync() => _client.GetServerAsync("app", "s");

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>HAProxy's runtime API in prompt mode: one session per caller, one command at a time.</summary>
internal sealed class CliAdmin(string address) : IAdmin
{
    private readonly Dictionary<int, Session> _sessions = [];

    public Task SetAddressAsync(int port) => RunAsync(0, $"set server app/s addr 127.0.0.1 port {port}");

    public Task SetMapAsync(string map, string key, string value, int caller = 0) => RunAsync(caller, $"set map {map} {key} {value}");

    public Task SetWeightAsync(int caller, string weight) => RunAsync(caller, $"set weight app/s {weight}");

    public Task ReadAsync() => RunAsync(0, "get weight app/s");

    private async Task RunAsync(int caller, string command)
    {
        Session? s;
        lock (_sessions)
        {
            _sessions.TryGetValue(caller, out s);
        }

        if (s is null)
        {
            s = await Session.OpenAsync(address);
            lock (_sessions)
            {
                _sessions[caller] = s;
            }
        }

        await s.RunAsync(command);
    }

    public ValueTask DisposeAsync()
    {
        foreach (var s in _sessions.Values)
        {
            s.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private sealed class Session(Socket socket) : IDisposable
    {
        private readonly byte[] _buf = new byte[65536];

        public static async Task<Session> OpenAsync(string address)
        {
            int colon = address.LastIndexOf(':');
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await s.ConnectAsync(IPAddress.Parse(address[..colon]), int.Parse(address[(colon + 1)..], CultureInfo.InvariantCulture));
            var session = new Session(s);
            await session.RunAsync("prompt");
            return session;
        }

        /// <summary>Sends a command and reads until the next prompt ("\n> ").</summary>
        public async Task RunAsync(string command)
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(command + "\n"));
            var text = new StringBuilder();
            while (true)
            {
                int n = await socket.ReceiveAsync(_buf);
                if (n == 0)
                {
                    throw new IOException("the runtime API closed the session");
                }

                text.Append(Encoding.ASCII.GetString(_buf, 0, n));
                if (text.Length >= 2 && text.ToString().EndsWith("> ", StringComparison.Ordinal))
                {
                    string reply = text.ToString();
                    if (reply.Contains("No such", StringComparison.Ordinal) || reply.Contains("Unknown", StringComparison.Ordinal) || reply.Contains("nvalid", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException($"'{command}': {reply.Trim()}");
                    }

                    return;
                }
            }
        }

        public void Dispose() => socket.Dispose();
    }
}
