using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>Lua TCP services and actions through a running halua.</summary>
public class LuaServiceTests
{
    [Fact]
    public async Task SpecHelloWorld_AsWritten_AnswersHelloWorld()
    {
        // The manual's example, unchanged but for the port.
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load hello_world.lua

            listen proxy
               bind 127.0.0.1:{PORT0}
               tcp-request inspect-delay 1s
               tcp-request content use-service lua.hello_world
            """, new Dictionary<string, string>
        {
            ["hello_world.lua"] = """
                core.register_service("hello_world", "tcp", function(applet)
                   applet:send("hello world\n")
                end)
                """,
        });
        Assert.Equal("hello world\n", await HaluaProcess.ExchangeAsync(h.Ports[0]));
    }

    [Fact]
    public async Task Msleep_ThousandConcurrentConnections_AllAnswerWithinTwoSeconds()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load sleep.lua
               maxconn 5000
            listen slow
               bind 127.0.0.1:{PORT0}
               maxconn 5000
               tcp-request content use-service lua.slow
            """, new Dictionary<string, string>
        {
            ["sleep.lua"] = """
                core.register_service("slow", "tcp", function(applet)
                   core.msleep(200)
                   applet:send("done\n")
                end)
                """,
        });

        // Warm up the process (JIT) so the measure is about concurrency, not start-up.
        Assert.Equal("done\n", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        var sockets = new List<Socket>();
        try
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 1000; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(s);
            }

            await Parallel.ForEachAsync(sockets, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (s, ct) => await s.ConnectAsync(IPAddress.Loopback, h.Ports[0], ct));
            var answers = await Task.WhenAll(sockets.Select(async s =>
            {
                var buf = new byte[16];
                int n = 0, r;
                while ((r = await s.ReceiveAsync(buf.AsMemory(n))) > 0)
                {
                    n += r;
                }

                return Encoding.ASCII.GetString(buf, 0, n);
            }));
            sw.Stop();
            Assert.All(answers, a => Assert.Equal("done\n", a));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(6), $"1000 sleeping services took {sw.Elapsed}");
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task RuntimeError_InService_ClosesThatConnectionLogsTracebackNextWorks()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load svc.lua
            listen svc
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.flaky
            """, new Dictionary<string, string>
        {
            ["svc.lua"] = """
                local n = 0
                local function explode() local t = nil; return t.field end
                core.register_service("flaky", "tcp", function(applet)
                   n = n + 1
                   if n == 1 then
                      applet:send("before\n")
                      explode()
                   end
                   applet:send("ok " .. n .. "\n")
                end)
                """,
        });
        Assert.Equal("before\n", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        await h.WaitForStderrAsync("stack traceback", TimeSpan.FromSeconds(5));
        Assert.Contains("svc.lua:2:", h.Stderr);
        Assert.Contains("attempt to index a nil value", h.Stderr);
        Assert.Equal("ok 2\n", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        Assert.False(h.HasExited);
    }

    [Fact]
    public async Task InfiniteLoop_InService_StoppedAfterServiceTimeoutWhileOthersServed()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load svc.lua
               tune.lua.service-timeout 1500ms
               tune.lua.forced-yield 1000
            listen spin
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.spin
            listen hi
               bind 127.0.0.1:{PORT1}
               tcp-request content use-service lua.hi
            """, new Dictionary<string, string>
        {
            ["svc.lua"] = """
                core.register_service("spin", "tcp", function(applet) while true do end end)
                core.register_service("hi", "tcp", function(applet) applet:send("hi") end)
                """,
        });
        var sw = Stopwatch.StartNew();
        var spin = HaluaProcess.ExchangeAsync(h.Ports[0], halfClose: false, timeout: TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal("hi", await HaluaProcess.ExchangeAsync(h.Ports[1]));
        }

        Assert.False(spin.IsCompleted, "the runaway service ended before the others were served");
        Assert.Equal("", await spin);
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(1.4), TimeSpan.FromSeconds(6));
        await h.WaitForStderrAsync("execution timeout", TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task TcpActions_RewriteRequestAndResponse_AndSeeFetches()
    {
        await using var origin = new TestServer("origin", async s =>
        {
            var buf = new byte[1024];
            int n = await s.ReceiveAsync(buf);
            await s.SendAsync(Encoding.ASCII.GetBytes("got:" + Encoding.ASCII.GetString(buf, 0, n)));
        });
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load actions.lua
            defaults
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            listen px
               bind 127.0.0.1:{PORT0}
               tcp-request inspect-delay 2s
               tcp-request content lua.tag_request X-
               tcp-response content lua.tag_response
               server o 127.0.0.1:{{origin.Port}}
            """, new Dictionary<string, string>
        {
            ["actions.lua"] = """
                core.register_action("tag_request", { "tcp-req" }, function(txn, prefix)
                   local line = txn.req:getline()
                   txn.req:set(prefix .. line)
                   txn:set_priv(txn.f:src() .. ">" .. txn.f:fe_name())
                end, 1)
                core.register_action("tag_response", { "tcp-res" }, function(txn)
                   local data = txn.res:get()
                   txn.res:send("[" .. txn:get_priv() .. "]")
                   txn.res:append(string.upper(data))
                end)
                """,
        });
        var answer = await HaluaProcess.ExchangeAsync(h.Ports[0], "hello\n", halfClose: false);
        Assert.Equal("[127.0.0.1>px]GOT:X-HELLO\n", answer);
    }

    [Fact]
    public async Task ActionError_StreamGoesOnToNextRule()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load a.lua
            listen px
               bind 127.0.0.1:{PORT0}
               tcp-request content lua.broken
               tcp-request content use-service lua.after
            """, new Dictionary<string, string>
        {
            ["a.lua"] = """
                core.register_action("broken", { "tcp-req" }, function(txn)
                   txn:set_priv("set before the error")
                   error("action failed on purpose")
                end)
                core.register_service("after", "tcp", function(applet)
                   applet:send("after: " .. tostring(applet:get_priv()))
                end)
                """,
        });
        Assert.Equal("after: set before the error", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        await h.WaitForStderrAsync("action failed on purpose", TimeSpan.FromSeconds(8));
        Assert.Contains("a.lua:3:", h.Stderr);
    }

    [Fact]
    public async Task TaskAndInit_RunAtStart_AndShareGlobals()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load t.lua
            listen px
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.state
            """, new Dictionary<string, string>
        {
            ["t.lua"] = """
                local ticks, inited = 0, false
                core.register_init(function() inited = true end)
                core.register_task(function()
                   while true do ticks = ticks + 1; core.msleep(20) end
                end)
                core.register_service("state", "tcp", function(applet)
                   applet:send(tostring(inited) .. " " .. tostring(ticks > 2))
                end)
                """,
        });
        await Task.Delay(300);
        Assert.Equal("true true", await HaluaProcess.ExchangeAsync(h.Ports[0]));
    }

    [Theory]
    [InlineData("lua-load-per-thread", "1,1,1,2,2,2")]
    [InlineData("lua-load", "1,2,3,4,5,6")]
    public async Task LuaLoadPerThread_GivesEachWorkerItsOwnState_LuaLoadSharesOne(string directive, string expected)
    {
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               {{directive}} count.lua
               nbthread 3
            listen px
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.count
            """, new Dictionary<string, string>
        {
            ["count.lua"] = """
                local n = 0
                core.register_service("count", "tcp", function(applet)
                   n = n + 1
                   applet:send(tostring(n))
                end)
                """,
        });
        var seen = new List<int>();
        for (int i = 0; i < 6; i++)
        {
            seen.Add(int.Parse(await HaluaProcess.ExchangeAsync(h.Ports[0]), System.Globalization.CultureInfo.InvariantCulture));
        }

        seen.Sort();
        Assert.Equal(expected, string.Join(',', seen));
    }

    [Fact]
    public async Task Variables_SetByAction_ReadByAclAndService_ProcScopeShared()
    {
        await using var a = new TestServer("a");
        await using var b = new TestServer("b");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load vars.lua
            defaults
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               tcp-request inspect-delay 2s
               tcp-request content lua.pick
               acl to_b var(txn.route) -m str b
               use_backend be_b if to_b
               default_backend be_a
            backend be_a
               server a 127.0.0.1:{{a.Port}}
            backend be_b
               server b 127.0.0.1:{{b.Port}}
            listen svc
               bind 127.0.0.1:{PORT1}
               tcp-request content use-service lua.show
            """, new Dictionary<string, string>
        {
            ["vars.lua"] = """
                core.register_action("pick", { "tcp-req" }, function(txn)
                   local line = txn.req:getline()
                   txn:set_var("txn.route", line:sub(1, 1))
                   txn:set_var("proc.last", line:sub(1, 1))
                   txn:set_var("bogus.name", "ignored")
                end)
                core.register_service("show", "tcp", function(applet)
                   applet:set_var("txn.n", 41)
                   local n = applet:get_var("txn.n") + 1
                   applet:send(tostring(applet:get_var("proc.last")) .. " " .. n .. " " .. tostring(applet:get_var("txn.route")) .. " " .. tostring(applet:get_var("bogus.name")))
                end)
                """,
        });
        Assert.Equal("b", await HaluaProcess.ExchangeAsync(h.Ports[0], "b\n"));
        Assert.Equal("a", await HaluaProcess.ExchangeAsync(h.Ports[0], "x\n"));
        Assert.Equal("x 42 nil nil", await HaluaProcess.ExchangeAsync(h.Ports[1]));
    }

    [Fact]
    public async Task LuaFetchesAndConverters_UsableInConfigAcls()
    {
        await using var a = new TestServer("a");
        await using var b = new TestServer("b");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load samples.lua
            defaults
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               bind 127.0.0.1:{PORT1}
               acl second_bind lua.port_is({PORT1}) -m str true
               acl twice str(ab),lua.twice -m str abab
               acl broken lua.fails -m found
               use_backend be_b if second_bind twice !broken
               default_backend be_a
            backend be_a
               server a 127.0.0.1:{{a.Port}}
            backend be_b
               server b 127.0.0.1:{{b.Port}}
            """, new Dictionary<string, string>
        {
            ["samples.lua"] = """
                core.register_fetches("port_is", function(txn, port)
                   return tostring(txn.f:dst_port() == tonumber(port))
                end)
                core.register_converters("twice", function(s) return s .. s end)
                core.register_fetches("fails", function(txn) error("fetch failed on purpose") end)
                """,
        });
        Assert.Equal("a", await HaluaProcess.ExchangeAsync(h.Ports[0]));
        Assert.Equal("b", await HaluaProcess.ExchangeAsync(h.Ports[1]));
        await h.WaitForStderrAsync("fetch failed on purpose", TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task InspectDelay_WaitsForContentRules_ThenDecides()
    {
        await using var big = new TestServer("big");
        await using var small = new TestServer("small");
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               tcp-request inspect-delay 600ms
               tcp-request content accept if { req.len ge 8 }
               tcp-request content reject if ! WAIT_END
               acl large req.len ge 8
               use_backend be_big if large
               default_backend be_small
            backend be_big
               server big 127.0.0.1:{{big.Port}}
            backend be_small
               server small 127.0.0.1:{{small.Port}}
            """);

        // Eight bytes sent in two pieces: the first rule waits for the second piece, then accepts.
        using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await s.ConnectAsync(IPAddress.Loopback, h.Ports[0]);
            await s.SendAsync(Encoding.ASCII.GetBytes("1234"));
            await Task.Delay(150);
            await s.SendAsync(Encoding.ASCII.GetBytes("5678"));
            var buf = new byte[16];
            int n = await s.ReceiveAsync(buf);
            Assert.Equal("big", Encoding.ASCII.GetString(buf, 0, n));
        }

        // Too short: nothing decides until the delay ends, then WAIT_END lets the stream through.
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("small", await HaluaProcess.ExchangeAsync(h.Ports[0], "abc", halfClose: false));
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task GlobalMaxconn_LimitsTheWholeProcess_OthersWaitInTheBacklog()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load hold.lua
               maxconn 2
            listen a
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.hold
            listen b
               bind 127.0.0.1:{PORT1}
               tcp-request content use-service lua.hold
            """, new Dictionary<string, string>
        {
            ["hold.lua"] = """
                core.register_service("hold", "tcp", function(applet)
                   applet:send("in")
                   core.msleep(2000)
                end)
                """,
        });
        var sw = Stopwatch.StartNew();
        var first = FirstBytesAtAsync(h.Ports[0], sw);
        var second = FirstBytesAtAsync(h.Ports[1], sw);
        await Task.Delay(200);
        var third = FirstBytesAtAsync(h.Ports[0], sw);
        // Generous bounds for a loaded CI machine: the third waits for a 2 s slot to free.
        Assert.True(await first < TimeSpan.FromMilliseconds(1500), $"first answered at {await first}");
        Assert.True(await second < TimeSpan.FromMilliseconds(1500), $"second answered at {await second}");
        Assert.InRange(await third, TimeSpan.FromMilliseconds(1800), TimeSpan.FromSeconds(6));
    }

    private static async Task<TimeSpan> FirstBytesAtAsync(int port, Stopwatch sw)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        var buf = new byte[8];
        int n = await s.ReceiveAsync(buf);
        var at = sw.Elapsed;
        Assert.Equal("in", Encoding.ASCII.GetString(buf, 0, n));
        await DrainAsync(s);
        return at;
    }

    private static async Task DrainAsync(Socket s)
    {
        var buf = new byte[64];
        while (await s.ReceiveAsync(buf) > 0)
        {
        }
    }

    [Fact]
    public async Task Sigterm_LetsInFlightStreamFinish_ThenExitsZero()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load s.lua
               hard-stop-after 10s
            listen px
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.slow
            """, new Dictionary<string, string>
        {
            ["s.lua"] = """
                core.register_service("slow", "tcp", function(applet)
                   core.msleep(800)
                   applet:send("finished")
                end)
                """,
        });
        var inflight = HaluaProcess.ExchangeAsync(h.Ports[0]);
        await Task.Delay(200);
        h.Signal("TERM");
        Assert.Equal("finished", await inflight);
        Assert.Equal(0, await h.WaitForExitAsync(TimeSpan.FromSeconds(10)));
    }
}
