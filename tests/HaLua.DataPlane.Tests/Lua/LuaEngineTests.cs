using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using HaLua.DataPlane.Lua;

namespace HaLua.DataPlane.Tests.Lua;

public class LuaEngineTests
{
    [Fact]
    public async Task RegisterService_HelloWorld_AnswersAndCloses()
    {
        using var host = new LuaTestHost("""
            core.register_service("hello_world", "tcp", function(applet)
               applet:send("hello world\n")
            end)
            """);
        Assert.Empty(host.Errors);
        var (client, service) = await host.ConnectServiceAsync("hello_world");
        Assert.Equal("hello world\n", await LuaTestHost.ReadAllAsync(client));
        Assert.Equal(LuaOutcome.Ok, await service);
    }

    [Fact]
    public async Task AppletGetline_Echo_RoundTripsLines()
    {
        using var host = new LuaTestHost("""
            core.register_service("echo", "tcp", function(applet)
              while true do
                local line = applet:getline()
                if line == "" then break end
                applet:send(line)
              end
            end)
            """);
        var (client, service) = await host.ConnectServiceAsync("echo");
        var buf = new byte[64];
        for (int i = 0; i < 100; i++)
        {
            var line = Encoding.ASCII.GetBytes($"line {i:000}\n");
            await client.SendAsync(line);
            int got = 0;
            while (got < line.Length)
            {
                got += await client.ReceiveAsync(buf.AsMemory(got));
            }

            Assert.Equal(line, buf[..got]);
        }

        client.Shutdown(SocketShutdown.Send);
        Assert.Equal("", await LuaTestHost.ReadAllAsync(client));
        Assert.Equal(LuaOutcome.Ok, await service);
    }

    [Fact]
    public async Task AppletReceive_SizeAndAll_ReturnBytesExactly()
    {
        using var host = new LuaTestHost("""
            core.register_service("rx", "tcp", function(applet)
              local head = applet:receive(3)
              local rest = applet:receive()
              applet:send("[" .. head .. "][" .. rest .. "]")
            end)
            """);
        var (client, service) = await host.ConnectServiceAsync("rx");
        await client.SendAsync(new byte[] { (byte)'a', (byte)'b' });
        await Task.Delay(50);
        await client.SendAsync(new byte[] { (byte)'c', 0, 0xFF, (byte)'z' });
        client.Shutdown(SocketShutdown.Send);
        var all = new MemoryStream();
        var buf = new byte[64];
        int n;
        while ((n = await client.ReceiveAsync(buf)) > 0)
        {
            all.Write(buf, 0, n);
        }

        Assert.Equal(new byte[] { (byte)'[', (byte)'a', (byte)'b', (byte)'c', (byte)']', (byte)'[', 0, 0xFF, (byte)'z', (byte)']' }, all.ToArray());
        Assert.Equal(LuaOutcome.Ok, await service);
    }

    [Fact]
    public async Task Msleep_ThousandConcurrentServices_NoThreadBlocked()
    {
        using var host = new LuaTestHost("""
            core.register_service("slow", "tcp", function(applet)
              core.msleep(200)
              applet:send("ok\n")
            end)
            """);
        var sw = Stopwatch.StartNew();
        var tasks = new List<Task<string>>();
        for (int i = 0; i < 1000; i++)
        {
            tasks.Add(Task.Run(async () =>
            {
                var (client, _) = await host.ConnectServiceAsync("slow");
                using (client)
                {
                    return await LuaTestHost.ReadAllAsync(client);
                }
            }));
        }

        var results = await Task.WhenAll(tasks);
        Assert.All(results, r => Assert.Equal("ok\n", r));

        // Serialised, 1000 x 200 ms would take 200 s.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(6), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task RuntimeError_InService_EndsStreamWithTraceback()
    {
        using var host = new LuaTestHost("""
            local function inner() error("boom") end
            core.register_service("bad", "tcp", function(applet)
              applet:send("partial\n")
              inner()
            end)
            """);
        var (client, service) = await host.ConnectServiceAsync("bad");
        Assert.Equal("partial\n", await LuaTestHost.ReadAllAsync(client));
        Assert.Equal(LuaOutcome.Error, await service);
    }

    [Fact]
    public async Task UserCoroutines_BehaveAsInLua()
    {
        using var host = new LuaTestHost("""
            core.register_service("co", "tcp", function(applet)
               local gen = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
               local r1, r2 = gen(1), gen(5)
               local co = coroutine.create(function(x) error({code = x}) end)
               local ok, e = coroutine.resume(co, 7)
               local ok2, e2 = pcall(coroutine.wrap(function() error("boom") end))
               applet:send(table.concat({ r1, r2, tostring(ok), e.code, tostring(ok2), e2 }, ","))
            end)
            """);
        var (client, service) = await host.ConnectServiceAsync("co");
        var answer = await LuaTestHost.ReadAllAsync(client);
        Assert.Equal(LuaOutcome.Ok, await service);
        Assert.Matches(@"^2,10,false,7,false,.*boom$", answer);
    }

    [Fact]
    public void Load_SyntaxError_NamesFileAndLine()
    {
        using var host = new LuaTestHost("local x = \n  ))\n");
        var err = Assert.Single(host.Errors);
        Assert.Contains("test.cfg:2", err);
        Assert.Contains("test.lua:2:", err);
    }

    [Fact]
    public void Load_BodyRuntimeError_HasTraceback()
    {
        using var host = new LuaTestHost("local t = nil\nlocal function f() return t.x end\nf()\n");
        var err = Assert.Single(host.Errors);
        Assert.Contains("test.lua:2:", err);
        Assert.Contains("stack traceback", err);
    }

    [Fact]
    public void RegisterService_FromWrongContextOrBadMode_IsLuaError()
    {
        using var host = new LuaTestHost("""core.register_service("x", "udp", function() end)""");
        Assert.Contains("only 'tcp' or 'http' are allowed", Assert.Single(host.Errors));
        using var host2 = new LuaTestHost("""core.register_action("x", {"tcp-req"}, 42)""");
        Assert.Contains("bad argument #3", Assert.Single(host2.Errors));
        Assert.Contains("test.lua:1:", host2.Errors[0]);
    }

    [Fact]
    public async Task ContextCheck_RegisterInService_IsLuaErrorNamingContext()
    {
        using var host = new LuaTestHost("""
            core.register_service("reg", "tcp", function(applet)
              local ok, err = pcall(core.register_service, "x", "tcp", function() end)
              applet:send(tostring(ok) .. " " .. err)
            end)
            """);
        var (client, service) = await host.ConnectServiceAsync("reg");
        Assert.Equal("false core.register_service: not available in the service context", await LuaTestHost.ReadAllAsync(client));
        Assert.Equal(LuaOutcome.Ok, await service);
    }

    [Fact]
    public void CoreFunctions_InBody_Work()
    {
        using var host = new LuaTestHost("""
            assert(core.info == 6 and core.emerg == 0 and core.debug == 7)
            local t = core.tokenize("This function is useful, for tokenizing an entry.", "., ", true)
            assert(#t == 8 and t[1] == "This" and t[8] == "entry", "tokenize")
            local t2 = core.tokenize("a,,b", ",")
            assert(#t2 == 3 and t2[2] == "", "tokenize blanks")
            assert(core.imf_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777)
            assert(core.rfc850_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777)
            assert(core.asctime_date("Sun Nov  6 08:49:37 1994") == 784111777)
            assert(core.http_date("Sun Nov  6 08:49:37 1994") == 784111777)
            assert(core.http_date("garbage") == nil)
            local a = core.parse_addr("127.0.0.1/32")
            local b = core.parse_addr("127.0.0.0/8")
            assert(core.match_addr(a, b) and core.match_addr(b, a))
            assert(not core.match_addr(core.parse_addr("10.0.0.1"), b))
            assert(core.match_addr(core.parse_addr("2001:db8::1"), core.parse_addr("2001:db8::/32")))
            assert(core.parse_addr("nonsense") == nil)
            local n = core.now()
            assert(n.sec > 1700000000 and n.usec >= 0 and n.usec < 1000000)
            local c = core.concat()
            for i = 1, 3 do c:add("ab") end
            c:add(1)
            assert(c:dump() == "ababab1")
            local ok, err = pcall(core.log, 9, "x")
            assert(not ok and err:find("invalid log level"))
            core.msleep(10)
            """);
        Assert.Empty(host.Errors);
    }

    [Fact]
    public void Concat_SpecLoop_IsLinear()
    {
        // The spec's own loop (100 x 20,000 adds), then ten times more adds in one Concat: linear
        // time gives about 10x, a copy per add (quadratic) about 100x. The best of a few runs each,
        // so a busy machine does not decide; the bound is generous.
        using var host = new LuaTestHost("""
            for j = 1, 100 do
              local c = core.concat()
              for i = 1, 20000 do c:add("#####") end
              assert(#c:dump() == 100000)
            end
            -- Wall-clock time (os.clock would count the other tests' threads of this process too).
            local function clock() local t = core.now() return t.sec + t.usec / 1e6 end
            local function best(n, runs)
              local b = math.huge
              for _ = 1, runs do
                local t0 = clock()
                local c = core.concat()
                for i = 1, n do c:add("#####") end
                assert(#c:dump() == 5 * n)
                b = math.min(b, clock() - t0)
              end
              return b
            end
            local small, large = best(20000, 7), best(200000, 3)
            ratio = large / small
            assert(ratio < 40, string.format("20,000 adds: %.4f s, 200,000 adds: %.4f s (x%.1f)", small, large, ratio))
            """);
        Assert.Empty(host.Errors);
    }

    [Fact]
    public void MaxMem_Exceeded_IsOutOfMemoryNotCrash()
    {
        using var host = new LuaTestHost("""
            local t = {}
            for i = 1, 1e7 do t[i] = string.rep("x", 100) .. i end
            """, maxMemory: 16 * 1024 * 1024);
        Assert.Contains("out of memory (tune.lua.maxmem)", Assert.Single(host.Errors));
    }
}

/// <summary>Tests that bound how long a runaway script runs; they run alone (after the parallel
/// ones), so that the rest of the suite does not stretch the wall-clock budgets they check.</summary>
[CollectionDefinition(nameof(TimingSensitive), DisableParallelization = true)]
public sealed class TimingSensitive;

[Collection(nameof(TimingSensitive))]
public class LuaRunawayScriptTests
{
    [Fact]
    public async Task InfiniteLoop_InService_TimesOutWhileOthersServed()
    {
        using var host = new LuaTestHost("""
            core.register_service("spin", "tcp", function(applet) while true do end end)
            core.register_service("hi", "tcp", function(applet) applet:send("hi") end)
            """, serviceTimeout: TimeSpan.FromSeconds(2), forcedYield: 1000);
        var sw = Stopwatch.StartNew();
        var (spinClient, spin) = await host.ConnectServiceAsync("spin");
        await Task.Delay(50);
        for (int i = 0; i < 5; i++)
        {
            var (hiClient, _) = await host.ConnectServiceAsync("hi");
            Assert.Equal("hi", await LuaTestHost.ReadAllAsync(hiClient));
        }

        // Served while the runaway script still ran (it is stopped only at its 2 s budget).
        Assert.False(spin.IsCompleted, $"the other services were served only after the runaway one ended ({sw.Elapsed})");
        Assert.Equal(LuaOutcome.Timeout, await spin);
        Assert.InRange(sw.Elapsed, TimeSpan.FromSeconds(1.9), TimeSpan.FromSeconds(5));
        spinClient.Dispose();
    }

    [Theory]
    [InlineData("coroutine.wrap(function() while true do end end)()")]
    [InlineData("local co = coroutine.create(function() while true do end end) coroutine.resume(co)")]
    [InlineData("coroutine.wrap(function() coroutine.wrap(function() while true do end end)() end)()")]
    public async Task InfiniteLoop_InsideUserCoroutine_StillTimesOut(string body)
    {
        using var host = new LuaTestHost($$"""
            core.register_service("spin", "tcp", function(applet) {{body}} end)
            core.register_service("hi", "tcp", function(applet) applet:send("hi") end)
            """, serviceTimeout: TimeSpan.FromMilliseconds(500), forcedYield: 1000);
        var sw = Stopwatch.StartNew();
        var (spinClient, spin) = await host.ConnectServiceAsync("spin");
        Assert.Equal(LuaOutcome.Timeout, await spin.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(3));
        spinClient.Dispose();

        // The state is usable afterwards.
        var (hiClient, _) = await host.ConnectServiceAsync("hi");
        Assert.Equal("hi", await LuaTestHost.ReadAllAsync(hiClient));
    }
}
