using System.Diagnostics;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Control;

/// <summary>The haluactl command against real data planes, one or several at once.</summary>
public class HaluactlTests
{
    private static string Config(TestServer a, TestServer b) => $$"""
        global
           admin-api 127.0.0.1:{PORT7}
        defaults
           mode tcp
           timeout connect 1s
           timeout client 5s
           timeout server 5s
        frontend fe
           bind 127.0.0.1:{PORT0}
           default_backend app
        backend app
           server a 127.0.0.1:{{a.Port}}
           server b 127.0.0.1:{{b.Port}}
        """;

    /// <summary>haluactl in its own build output, the same configuration as the tests (tests/X/bin/CONFIG/TFM/ -> src/Sdk/Haluactl/bin/CONFIG/TFM/).</summary>
    private static string HaluactlPath
    {
        get
        {
            var tfm = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
            string configuration = tfm.Parent!.Name;
            string root = tfm.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
            return Path.Combine(root, "src", "Sdk", "Haluactl", "bin", configuration, tfm.Name, "haluactl");
        }
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo(HaluactlPath) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task SetWeight_OnTwoDataPlanes_ReportsEachAndChangesBoth()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h1 = await AdminHost.StartAsync(Config(a, b));
        await using var h2 = await AdminHost.StartAsync(Config(a, b));
        var (code, stdout, stderr) = await RunAsync("--addr", $"{h1.AdminAddress},{h2.AdminAddress}", "server", "set-weight", "app/a", "0");
        Assert.True(code == 0, stderr);
        Assert.Contains($"[{h1.AdminAddress}] app/a 127.0.0.1:{a.Port} weight=0 status=no check", stdout);
        Assert.Contains($"[{h2.AdminAddress}] app/a 127.0.0.1:{a.Port} weight=0 status=no check", stdout);
        foreach (var h in new[] { h1, h2 })
        {
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal("B", await HaluaProcess.ExchangeAsync(h.Ports[0]));
            }
        }

        (code, stdout, _) = await RunAsync("--addr", h1.AdminAddress, "server", "list", "app");
        Assert.Equal(0, code);
        Assert.Equal([$"app/a 127.0.0.1:{a.Port} weight=0 status=no check", $"app/b 127.0.0.1:{b.Port} weight=1 status=no check"], stdout.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Cli_RunsARuntimeCommandOnEachInstance()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h1 = await AdminHost.StartAsync(Config(a, b));
        await using var h2 = await AdminHost.StartAsync(Config(a, b));
        var (code, stdout, stderr) = await RunAsync("--addr", h1.AdminAddress, "cli", "set", "weight", "app/a", "7");
        Assert.True(code == 0, stderr);
        (code, stdout, stderr) = await RunAsync("--addr", h1.AdminAddress, "cli", "get weight app/a");
        Assert.True(code == 0, stderr);
        Assert.Equal("7 (initial 1)", stdout.TrimEnd());
        (code, stdout, _) = await RunAsync("--addr", $"{h1.AdminAddress},{h2.AdminAddress}", "cli", "get", "weight", "app/a");
        Assert.Equal(0, code);
        Assert.Contains($"[{h1.AdminAddress}] 7 (initial 1)", stdout);
        Assert.Contains($"[{h2.AdminAddress}] 1 (initial 1)", stdout);
    }

    [Fact]
    public async Task Errors_ExitNonZeroAndSayWhichInstance()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await AdminHost.StartAsync(Config(a, b));
        int dead = HaluaProcess.FreePort();
        var (code, stdout, stderr) = await RunAsync("--addr", $"{h.AdminAddress},127.0.0.1:{dead}", "--timeout", "5", "server", "set-state", "app/b", "maint");
        Assert.Equal(1, code);
        Assert.Contains($"[{h.AdminAddress}] app/b", stdout);
        Assert.Contains("status=MAINT", stdout);
        Assert.Contains($"[127.0.0.1:{dead}] error: Unavailable", stderr);

        (code, _, stderr) = await RunAsync("--addr", h.AdminAddress, "server", "set-weight", "app/zz", "1");
        Assert.Equal(1, code);
        Assert.Contains("NotFound", stderr);
        Assert.Contains("'zz'", stderr);

        (code, _, stderr) = await RunAsync("--addr", h.AdminAddress, "frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("unknown command", stderr);
    }

    [Fact]
    public async Task MapCommands_ShowSetReplace()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        var config = Config(a, b).Replace("default_backend app", "tcp-request content reject if { str(x),map({DIR}/m.map,none) -m str never }\n   default_backend app", StringComparison.Ordinal);
        await using var h = await AdminHost.StartAsync(config, new Dictionary<string, string> { ["m.map"] = "k1 v1\n" });
        string map = h.Process.Directory + "/m.map";
        var (code, stdout, stderr) = await RunAsync("--addr", h.AdminAddress, "map", "set", map, "k1", "v2");
        Assert.True(code == 0, stderr);
        Assert.Contains("done: 1 changed, 1 entries", stdout);
        File.WriteAllText(Path.Combine(h.Process.Directory, "new.txt"), "# new entries\nx1 y1\nx2 y2 with spaces\n");
        (code, stdout, stderr) = await RunAsync("--addr", h.AdminAddress, "map", "replace", map, Path.Combine(h.Process.Directory, "new.txt"));
        Assert.True(code == 0, stderr);
        (code, stdout, _) = await RunAsync("--addr", h.AdminAddress, "map", "show", map);
        Assert.Equal(0, code);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.EndsWith(" x1 y1", lines[0]);
        Assert.EndsWith(" x2 y2 with spaces", lines[1]);
    }

    [Fact]
    public async Task LuaReloadDir_SendsTheScripts_AndWatchPrintsTheEvents()
    {
        await using var h = await AdminHost.StartAsync("""
            global
               admin-api 127.0.0.1:{PORT7}
               lua-load {DIR}/svc.lua
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request use-service lua.svc
            backend app
               server a 127.0.0.1:9
            """, new Dictionary<string, string> { ["svc.lua"] = Svc("disk") });

        // watch runs until interrupted: started first, stopped with SIGINT once it printed what we expect.
        var psi = new ProcessStartInfo(HaluactlPath, ["--addr", h.AdminAddress, "watch"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var watch = Process.Start(psi)!;
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        watch.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } l)
            {
                lines.Enqueue(l);
            }
        };
        watch.BeginOutputReadLine();
        try
        {
            // The subscription is up once a change made now shows (retried: haluactl starts in its own time).
            var sw = Stopwatch.StartNew();
            for (int w = 0; !lines.Any(l => l.Contains(" weight ", StringComparison.Ordinal)); w = 1 - w)
            {
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "haluactl watch printed nothing: " + string.Join("|", lines));
                await h.Client.SetWeightAsync("app", "a", (w + 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
                await Task.Delay(200);
            }

            string dir = Path.Combine(h.Process.Directory, "new");
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "svc.lua"), Svc("from-dir"));
            var (code, stdout, stderr) = await RunAsync("--addr", h.AdminAddress, "lua", "reload", dir);
            Assert.True(code == 0, stderr);
            Assert.Contains("generation 2", stdout);
            Assert.Contains("svc.lua api sha256:", stdout);
            using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
            await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal("from-dir", System.Text.Encoding.ASCII.GetString((await c.ReadResponseAsync()).Body));

            sw.Restart();
            while (!lines.Any(l => l.Contains(" lua 2 reload 1 -> 2", StringComparison.Ordinal)))
            {
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), "no reload event: " + string.Join("|", lines));
                await Task.Delay(50);
            }

            Assert.Contains(lines, l => l.Contains(" server app/a weight ", StringComparison.Ordinal));
        }
        finally
        {
            using (var kill = Process.Start("kill", ["-INT", watch.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                kill!.WaitForExit();
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await watch.WaitForExitAsync(cts.Token);
        }

        Assert.Equal(0, watch.ExitCode);
    }

    private static string Svc(string body) => $$"""
        core.register_service("svc", "http", function(applet)
          applet:set_status(200)
          applet:add_header("content-length", "{{body.Length}}")
          applet:start_response()
          applet:send("{{body}}")
        end)
        """;
}
