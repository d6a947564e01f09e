using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>
/// A real <c>halua</c> process on a config written to a temp directory (with its Lua files).
/// Ports in the config are written as {PORT0}, {PORT1}... and replaced by free loopback ports.
/// </summary>
internal sealed class HaluaProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly object _lock = new();

    private HaluaProcess(Process process, string dir, int[] ports)
    {
        _process = process;
        Directory = dir;
        Ports = ports;
    }

    public string Directory { get; }

    public int[] Ports { get; }

    public string Stdout
    {
        get
        {
            lock (_lock)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_lock)
            {
                return _stderr.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int Pid => _process.Id;

    /// <summary>The process's peak resident memory so far (VmHWM), in bytes.</summary>
    public long PeakResidentBytes
    {
        get
        {
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }

            return 0;
        }
    }

    public static string HaluaPath => Path.Combine(AppContext.BaseDirectory, "halua");

    public static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    /// <summary>Writes the files, replaces {PORTn} and {DIR}, and returns the config path and ports.</summary>
    public static (string Dir, string ConfigPath, int[] Ports) Prepare(string config, IReadOnlyDictionary<string, string>? files = null, int[]? ports = null)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("halua-e2e-").FullName;
        ports ??= Enumerable.Range(0, 8).Select(_ => FreePort()).ToArray();
        string Subst(string s)
        {
            for (int i = 0; i < ports.Length; i++)
            {
                s = s.Replace("{PORT" + i + "}", ports[i].ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            }

            return s.Replace("{DIR}", dir, StringComparison.Ordinal);
        }

        foreach (var (name, content) in files ?? new Dictionary<string, string>())
        {
            File.WriteAllText(Path.Combine(dir, name), Subst(content));
        }

        var cfg = Path.Combine(dir, "haproxy.cfg");
        File.WriteAllText(cfg, Subst(config));
        return (dir, cfg, ports);
    }

    /// <summary>Writes the config and files, then runs <c>halua -c -f</c> on them to completion.</summary>
    public static Task<(int ExitCode, string Stdout, string Stderr)> CheckAsync(string config, IReadOnlyDictionary<string, string>? files = null)
    {
        var (dir, cfg, _) = Prepare(config, files);
        return RunToEndAsync(dir, "-c", "-f", cfg);
    }

    /// <summary>Runs <c>halua ARGS</c> to completion (for -c, -v, bad configs).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(string workingDir, params string[] args)
    {
        var psi = new ProcessStartInfo(HaluaPath) { WorkingDirectory = workingDir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    /// <summary>Starts halua, then waits (20 s at most) until its standard error has <paramref name="ready"/>; stops it if that never comes.</summary>
    public static Task<HaluaProcess> StartReadyAsync(string config, IReadOnlyDictionary<string, string>? files, string ready)
        => StartAsync(config, files, ready, []);

    public static Task<HaluaProcess> StartAsync(string config, IReadOnlyDictionary<string, string>? files = null, params string[] extraArgs)
        => StartAsync(config, files, ready: null, extraArgs);

    /// <summary>
    /// A free port found by <see cref="FreePort"/> can be taken by another test's outgoing
    /// connection before halua binds it (a listener: halua exits; the admin or metrics endpoint:
    /// halua alerts). When halua reports "already in use", it starts again on fresh ports (3 tries).
    /// </summary>
    private static async Task<HaluaProcess> StartAsync(string config, IReadOnlyDictionary<string, string>? files, string? ready, string[] extraArgs)
    {
        for (int attempt = 1; ; attempt++)
        {
            var process = Launch(config, files, extraArgs);
            try
            {
                await process.WaitStartedAsync();
                if (ready is not null)
                {
                    await process.WaitForStderrAsync(ready, TimeSpan.FromSeconds(20), giveUpOn: PortTaken);
                }

                return process;
            }
            catch when (attempt < 3 && process.Stderr.Contains(PortTaken, StringComparison.OrdinalIgnoreCase))
            {
                await process.DisposeAsync();
            }
            catch
            {
                await process.DisposeAsync();
                throw;
            }
        }
    }

    private const string PortTaken = "already in use";

    private static HaluaProcess Launch(string config, IReadOnlyDictionary<string, string>? files, string[] extraArgs)
    {
        var (dir, cfg, ports) = Prepare(config, files);
        var psi = new ProcessStartInfo(HaluaPath) { WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add("-f");
        psi.ArgumentList.Add(cfg);
        foreach (var a in extraArgs)
        {
            psi.ArgumentList.Add(a);
        }

        var p = new Process { StartInfo = psi };
        var h = new HaluaProcess(p, dir, ports);
        p.OutputDataReceived += (_, e) =>
        {
            lock (h._lock)
            {
                h._stdout.AppendLine(e.Data);
            }
        };
        p.ErrorDataReceived += (_, e) =>
        {
            lock (h._lock)
            {
                h._stderr.AppendLine(e.Data);
            }
        };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return h;
    }

    private async Task WaitStartedAsync()
    {
        // Ready when it says so (a probe connection would be traffic through the proxy under test).
        var sw = Stopwatch.StartNew();
        // (The text form, or process-log-format json's.)
        while ((!Stderr.Contains(") : HaLua ", StringComparison.Ordinal) && !Stderr.Contains("\"message\":\"HaLua ", StringComparison.Ordinal))
            || !Stderr.Contains(" started: ", StringComparison.Ordinal))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"halua exited with {_process.ExitCode}: {Stderr}");
            }

            if (sw.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException($"halua did not start: {Stderr}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Connects, sends <paramref name="send"/>, half-closes if asked, reads until the server closes.</summary>
    public static async Task<string> ExchangeAsync(int port, string send = "", bool halfClose = true, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port, cts.Token);
        if (send.Length > 0)
        {
            await s.SendAsync(Encoding.UTF8.GetBytes(send), SocketFlags.None, cts.Token);
        }

        if (halfClose)
        {
            s.Shutdown(SocketShutdown.Send);
        }

        var ms = new MemoryStream();
        var buf = new byte[8192];
        int n;
        while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0)
        {
            ms.Write(buf, 0, n);
        }

        return Encoding.UTF8.GetString(ms.ToArray());
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async Task WaitForStderrAsync(string text, TimeSpan timeout) => await WaitForStderrAsync(text, timeout, giveUpOn: null);

    private async Task WaitForStderrAsync(string text, TimeSpan timeout, string? giveUpOn)
    {
        var sw = Stopwatch.StartNew();
        while (!Stderr.Contains(text, StringComparison.Ordinal))
        {
            if (giveUpOn is not null && Stderr.Contains(giveUpOn, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"'{giveUpOn}' seen on stderr before '{text}': {Stderr}");
            }

            if (sw.Elapsed > timeout)
            {
                throw new TimeoutException($"'{text}' not seen on stderr within {timeout}: {Stderr}");
            }

            await Task.Delay(20);
        }
    }

    public ValueTask DisposeAsync() => KillAndDeleteAsync(_process, Directory);

    /// <summary>Ends a test's process (and its children) if it still runs, then removes its temp directory.</summary>
    internal static async ValueTask KillAndDeleteAsync(Process process, string directory)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
        try
        {
            System.IO.Directory.Delete(directory, true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A tiny TCP server for tests: counts connections, answers with its name, can be stopped.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _connections;

    public TestServer(string name, Func<Socket, Task>? handler = null, int port = 0)
    {
        Name = name;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        handler ??= async s =>
        {
            await s.SendAsync(Encoding.ASCII.GetBytes(name));
        };
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket c;
                try
                {
                    c = await _listener.AcceptAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }

                Interlocked.Increment(ref _connections);
                _ = Task.Run(async () =>
                {
                    using (c)
                    {
                        try
                        {
                            await handler(c);
                            c.Shutdown(SocketShutdown.Both);
                        }
                        catch (Exception)
                        {
                        }
                    }
                });
            }
        });
    }

    public string Name { get; }

    public int Port { get; }

    public int Connections => Volatile.Read(ref _connections);

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Close();
        await _loop;
    }
}
