using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using HaLua.Admin.V1;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Control;

/// <summary>Lua hot reload through the admin API (and SIGHUP): all or nothing, without dropping traffic.</summary>
public class LuaReloadTests
{
    private static string Service(string version) => $$"""
        core.register_service("hello", "http", function(applet)
          local body = "{{version}}"
          applet:set_status(200)
          applet:add_header("content-length", tostring(#body))
          applet:start_response()
          applet:send(body)
        end)
        core.register_task(function()
          while true do
            -- core.proxies is published to the new states too (this errors if it is nil).
            assert(core.proxies["fe"]:get_cap() == "frontend")
            core.set_map("{DIR}/tick.map", "who", "{{version}}")
            core.msleep(20)
          end
        end)
        """;

    private static string Config(string load) => $$"""
        global
           admin-api 127.0.0.1:{PORT7}
           nbthread 2
           {{load}} {DIR}/hello.lua
        defaults
           mode http
           timeout connect 1s
           timeout client 10s
           timeout server 10s
        frontend fe
           bind 127.0.0.1:{PORT0}
           http-request set-var(txn.who) str(x),map({DIR}/tick.map,none)
           http-request return status 200 content-type text/plain lf-string "%[str(x),map({DIR}/tick.map,none)]" if { path /tick }
           http-request use-service lua.hello
        frontend raw
           bind 127.0.0.1:{PORT1}
           mode tcp
           default_backend slow
        backend slow
           mode tcp
           server s 127.0.0.1:{PORT2}
        """;

    private static Dictionary<string, string> Files(string version = "v1 #0") => new() { ["hello.lua"] = Service(version), ["tick.map"] = "who none\n" };

    private static ReloadRequest WithSource(string dir, string version)
        => new() { Sources = { ["hello.lua"] = ByteString.CopyFromUtf8(Service(version).Replace("{DIR}", dir, StringComparison.Ordinal)) } };

    [Theory]
    [InlineData("lua-load")]
    [InlineData("lua-load-per-thread")]
    public async Task TwentyReloadsUnderLoad_NoRequestFails_AndEveryLaterResponseIsTheNewVersion(string load)
    {
        await using var h = await AdminHost.StartAsync(Config(load), Files());
        var responses = new System.Collections.Concurrent.ConcurrentQueue<(long Sent, string Body, string? Error)>();
        using var stop = new CancellationTokenSource();

        async Task ClientAsync(bool keepAlive)
        {
            RawHttpClient? c = null;
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    c ??= await RawHttpClient.ConnectAsync(h.Ports[0]);
                    long sent = Stopwatch.GetTimestamp();
                    try
                    {
                        await c.SendAsync($"GET / HTTP/1.1\r\nHost: x\r\n{(keepAlive ? "" : "Connection: close\r\n")}\r\n");
                        var (status, _, body) = await c.ReadResponseAsync();
                        responses.Enqueue((sent, Encoding.ASCII.GetString(body), status == 200 ? null : $"status {status}"));
                    }
                    catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException)
                    {
                        responses.Enqueue((sent, "", ex.Message));
                    }

                    if (!keepAlive)
                    {
                        c.Dispose();
                        c = null;
                    }
                }
            }
            finally
            {
                c?.Dispose();
            }
        }

        var clients = new[] { ClientAsync(true), ClientAsync(true), ClientAsync(false), ClientAsync(false) };
        var reloads = new List<(long Started, long Replied, string Version)>();
        for (int k = 1; k <= 20; k++)
        {
            // Alternating v1 and v2, each tagged with its reload so a response names the reload that made it.
            string version = (k % 2 == 1 ? "v2" : "v1") + " #" + k;
            await Task.Delay(60);
            long started = Stopwatch.GetTimestamp();
            var reply = await h.Client.Lua.ReloadAsync(WithSource(h.Process.Directory, version));
            reloads.Add((started, Stopwatch.GetTimestamp(), version));
            Assert.Equal(k + 1, reply.Generation);
            Assert.Equal("api", Assert.Single(reply.Files).Origin);
        }

        await Task.Delay(100);
        stop.Cancel();
        await Task.WhenAll(clients);

        var all = responses.ToArray();
        Assert.True(all.Length > 100, $"only {all.Length} requests were made");
        Assert.Empty(all.Where(r => r.Error is not null).Select(r => r.Error));

        // A request sent after reload k's reply gets version k or a later one (a reload asked for
        // meanwhile may be applied before the request is: its send follows its timestamp).
        var wrong = new List<string>();
        int checkedCount = 0;
        for (int k = 0; k < reloads.Count; k++)
        {
            long from = reloads[k].Replied, to = k + 1 < reloads.Count ? reloads[k + 1].Replied : long.MaxValue;
            foreach (var r in all.Where(r => r.Sent > from && r.Sent < to))
            {
                checkedCount++;
                int made = int.Parse(r.Body[(r.Body.IndexOf('#') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
                if (made < k + 1)
                {
                    wrong.Add($"'{r.Body}' sent {(r.Sent - from) * 1000.0 / Stopwatch.Frequency:F2} ms after the reply of reload {k + 1}");
                }
            }
        }

        Assert.True(checkedCount > 50, $"only {checkedCount} requests fell between a reply and the next reload");
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {checkedCount}: " + string.Join("; ", wrong.Take(10)));
        var replies = reloads.Select(r => (r.Replied, r.Version)).ToList();

        // The old generations' tasks are stopped: only the last one writes the map.
        var last = replies[^1].Version;
        for (int i = 0; i < 10; i++)
        {
            await Task.Delay(30);
            Assert.Equal(last, (await h.Client.LookupMapAsync(h.Process.Directory + "/tick.map", "who")).Value);
        }

        var status = await h.Client.GetLuaStatusAsync();
        Assert.Equal(21, status.Generation);
        Assert.Equal(load == "lua-load" ? ["shared"] : ["thread 1", "thread 2"], status.States.Select(s => s.Name));
        Assert.All(status.States, s => Assert.True(s.MemoryBytes > 0));
    }

    [Fact]
    public async Task BadReload_ChangesNothing_AndNamesFileAndLine()
    {
        await using var h = await AdminHost.StartAsync(Config("lua-load"), Files());
        var before = await h.Client.GetLuaStatusAsync();
        var bad = new ReloadRequest { Sources = { ["hello.lua"] = ByteString.CopyFromUtf8("core.register_service(\"hello\", \"http\", function(applet)\n  if then\nend)\n") } };
        var e = await Assert.ThrowsAsync<RpcException>(() => h.Client.Lua.ReloadAsync(bad).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("hello.lua:2", e.Status.Detail);
        Assert.Contains("generation 1 kept", e.Status.Detail);

        // A service the configuration uses must still be registered.
        var missing = new ReloadRequest { Sources = { ["hello.lua"] = ByteString.CopyFromUtf8("core.register_service(\"other\", \"http\", function(applet) end)\n") } };
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.Lua.ReloadAsync(missing).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("service 'hello'", e.Status.Detail);

        // An init that fails refuses the reload too.
        var initFails = new ReloadRequest { Sources = { ["hello.lua"] = ByteString.CopyFromUtf8(Service("v9").Replace("{DIR}", h.Process.Directory, StringComparison.Ordinal) + "\ncore.register_init(function() error(\"init says no\") end)\n") } };
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.Lua.ReloadAsync(initFails).ResponseAsync);
        Assert.Contains("init says no", e.Status.Detail);

        // And a source for a file that is not loaded.
        var stranger = new ReloadRequest { Sources = { ["nope.lua"] = ByteString.CopyFromUtf8("") } };
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.Lua.ReloadAsync(stranger).ResponseAsync);
        Assert.Contains("'nope.lua'", e.Status.Detail);

        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("v1 #0", Encoding.ASCII.GetString((await c.ReadResponseAsync()).Body));
        var after = await h.Client.GetLuaStatusAsync();
        Assert.Equal(1, after.Generation);
        Assert.Equal(before.Files[0].Sha256, after.Files[0].Sha256);
        Assert.Equal("disk", after.Files[0].Origin);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(h.Process.Directory, "hello.lua")))), after.Files[0].Sha256);
    }

    [Fact]
    public async Task OldStates_AreFreedOnceTheStreamsStartedBeforeTheReloadEnd()
    {
        // A TCP stream held open across the reload keeps the old generation alive.
        var release = new TaskCompletionSource();
        await using var slow = new TestServer("slow", async s => await release.Task, port: 0);
        var files = Files();
        var ports = Enumerable.Range(0, 8).Select(_ => HaluaProcess.FreePort()).ToArray();
        var config = Config("lua-load").Replace("{PORT2}", slow.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        await using var h = await AdminHost.StartAsync(config, files);
        using var held = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await held.ConnectAsync(System.Net.IPAddress.Loopback, h.Ports[1]);
        await held.SendAsync(Encoding.ASCII.GetBytes("hi"));
        await Task.Delay(200);

        await h.Client.Lua.ReloadAsync(WithSource(h.Process.Directory, "v2"));
        Assert.Equal(1, (await h.Client.GetLuaStatusAsync()).DrainingGenerations);

        release.SetResult();
        held.Shutdown(SocketShutdown.Send);
        var sw = Stopwatch.StartNew();
        while ((await h.Client.GetLuaStatusAsync()).DrainingGenerations != 0)
        {
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), "the old Lua generation was never freed");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Sighup_ReloadsTheFilesFromDisk()
    {
        await using var h = await AdminHost.StartAsync(Config("lua-load"), Files());
        File.WriteAllText(Path.Combine(h.Process.Directory, "hello.lua"), Service("v3").Replace("{DIR}", h.Process.Directory, StringComparison.Ordinal));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var events = await h.Client.WatchAsync(cts.Token);
        h.Process.Signal("HUP");
        await foreach (var e in events)
        {
            Assert.Equal(("lua", "reload", "2"), (e.Kind, e.What, e.NewValue));
            break;
        }

        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal("v3", Encoding.ASCII.GetString((await c.ReadResponseAsync()).Body));
        Assert.Equal("disk", (await h.Client.GetLuaStatusAsync()).Files[0].Origin);
    }
}

/// <summary>LuaService.Status's error count: Lua runtime errors of every generation.</summary>
public class LuaStatusTests
{
    [Fact]
    public async Task Status_CountsRuntimeErrors_AcrossReloads()
    {
        const string lua = """
            core.register_action("boom", { "http-req" }, function(txn) error("boom") end)
            """;
        await using var h = await AdminHost.StartAsync("""
            global
               admin-api 127.0.0.1:{PORT7}
               lua-load {DIR}/boom.lua
            defaults
               mode http
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request lua.boom
               http-request return status 200 content-type text/plain string ok
            """, new Dictionary<string, string> { ["boom.lua"] = lua });
        Assert.Equal(0, (await h.Client.GetLuaStatusAsync()).Errors);

        async Task GetAsync()
        {
            using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
            await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            // The action's error lets the stream go on to the next rule.
            Assert.Equal(200, (await c.ReadResponseAsync()).Status);
        }

        await GetAsync();
        await GetAsync();
        Assert.Equal(2, (await h.Client.GetLuaStatusAsync()).Errors);
        await h.Client.ReloadLuaAsync();
        await GetAsync();
        var status = await h.Client.GetLuaStatusAsync();
        Assert.Equal(3, status.Errors);
        Assert.Equal(2, status.Generation);
    }
}

/// <summary>The runtime CLI's <c>reload lua</c> (admin level): the same reload as the API and SIGHUP.</summary>
public class LuaReloadCliTests
{
    [Fact]
    public async Task ReloadLuaCommand_ReloadsFromDisk_OrSaysWhyNot()
    {
        await using var h = await AdminHost.StartAsync("""
            global
               admin-api 127.0.0.1:{PORT7}
               lua-load {DIR}/v.lua
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request use-service lua.v
            """, new Dictionary<string, string> { ["v.lua"] = Service("one") });

        File.WriteAllText(Path.Combine(h.Process.Directory, "v.lua"), Service("two"));
        Assert.Equal("Lua reloaded: generation 2.\n\n", await h.Client.ExecuteAsync("reload lua"));
        Assert.Equal("two", await GetAsync(h.Ports[0]));

        File.WriteAllText(Path.Combine(h.Process.Directory, "v.lua"), "this is not lua");
        string refused = await h.Client.ExecuteAsync("reload lua");
        Assert.StartsWith("Lua reload refused, generation 2 kept:\n", refused);
        Assert.Contains("v.lua:1", refused);
        Assert.Equal("two", await GetAsync(h.Ports[0]));
    }

    private static string Service(string body) => $$"""
        core.register_service("v", "http", function(applet)
          applet:set_status(200)
          applet:add_header("content-length", "{{body.Length}}")
          applet:start_response()
          applet:send("{{body}}")
        end)
        """;

    private static async Task<string> GetAsync(int port)
    {
        using var c = await RawHttpClient.ConnectAsync(port);
        await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        return System.Text.Encoding.ASCII.GetString((await c.ReadResponseAsync()).Body);
    }
}
