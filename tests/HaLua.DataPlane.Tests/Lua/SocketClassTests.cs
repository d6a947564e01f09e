using System.Net.Sockets;
using System.Text;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Lua;

/// <summary>The Socket class inside one Lua engine: patterns, timeouts, sends, and sockets closed when nobody uses them.</summary>
public class SocketClassTests
{
    /// <summary>show(...) renders results on one line: strings quoted with \r and \n visible, then nil, numbers, booleans.</summary>
    internal const string Show = """
        local function show(...)
          local t = {}
          for i = 1, select("#", ...) do
            local v = select(i, ...)
            if type(v) == "string" then
              v = (v:gsub("\r", "\\r"):gsub("\n", "\\n"))
              t[#t + 1] = '"' .. v .. '"'
            else
              t[#t + 1] = tostring(v)
            end
          end
          return table.concat(t, ",")
        end

        """;

    private static async Task<string> RunServiceAsync(LuaTestHost host, string name)
    {
        Assert.Empty(host.Errors);
        var (client, service) = await host.ConnectServiceAsync(name);
        using (client)
        {
            string report = await LuaTestHost.ReadAllAsync(client);
            Assert.Equal(LuaOutcome.Ok, await service);
            return report;
        }
    }

    private static async Task SendSlowlyAsync(Socket s, params string[] segments)
    {
        foreach (var segment in segments)
        {
            await s.SendAsync(Encoding.Latin1.GetBytes(segment));
            await Task.Delay(30);
        }
    }

    [Fact]
    public async Task Receive_PatternsOverSegments_AsLuaSocket()
    {
        await using var server = new TestServer("segments", s => SendSlowlyAsync(s, "hel", "lo\r\nwo", "rld\n", "a\rb\r\n12", "345678", "9tail"));
        using var host = new LuaTestHost(Show + $$"""
            core.register_service("rx", "tcp", function(applet)
              local s = core.tcp()
              s:settimeout(5)
              local out = {}
              local function P(...) out[#out + 1] = show(...) end
              P(s:connect("127.0.0.1", {{server.Port}}))
              P(s:receive("*l"))
              P(s:receive())
              P(s:receive("*l", "> "))
              P(s:receive(5))
              P(s:receive(5, "ab"))
              P(s:receive(2, "xyz"))
              P(s:receive("*a"))
              P(s:receive("*l", "p"))
              P(s:receive(3))
              P(s:receive("*a"))
              s:close()
              applet:send(table.concat(out, "\n") .. "\n")
            end)
            """);
        Assert.Equal("""
            1
            "hello"
            "world"
            "> ab"
            "12345"
            "ab678"
            "xyz"
            "9tail"
            nil,"closed","p"
            nil,"closed",""
            nil,"closed",""

            """.ReplaceLineEndings("\n"), await RunServiceAsync(host, "rx"));
    }

    [Fact]
    public async Task Receive_Timeout_ReturnsPartialData_AndTheSocketGoesOn()
    {
        var release = new TaskCompletionSource();
        await using var server = new TestServer("slow", async s =>
        {
            await s.SendAsync("part"u8.ToArray());
            await release.Task.WaitAsync(TimeSpan.FromSeconds(20));
            await s.SendAsync("ial\n"u8.ToArray());
            var buf = new byte[16];
            await s.ReceiveAsync(buf);
        });
        using var host = new LuaTestHost(Show + $$"""
            local function elapsed(t0)
              local t1 = core.now()
              return (t1.sec - t0.sec) + (t1.usec - t0.usec) / 1e6
            end
            core.register_service("slow", "tcp", function(applet)
              local s = core.tcp()
              local out = {}
              local function P(...) out[#out + 1] = show(...) end
              P(s:settimeout(0.3))
              P(s:connect("127.0.0.1", {{server.Port}}))
              local t0 = core.now()
              P(s:receive("*l"))
              P(elapsed(t0) >= 0.25)
              P(s:receive(3))
              s:settimeout(0)
              t0 = core.now()
              P(s:receive("*a"))
              P(elapsed(t0) < 2)
              applet:send("waiting\n")
              applet:receive(1)
              s:settimeout(10)
              P(s:receive("*l", "part"))
              P(s:send("x"))
              s:close()
              applet:send(table.concat(out, "\n") .. "\n")
            end)
            """);
        Assert.Empty(host.Errors);
        var (client, service) = await host.ConnectServiceAsync("slow");
        using (client)
        {
            var buf = new byte[8];
            Assert.Equal(8, await client.ReceiveAsync(buf));
            Assert.Equal("waiting\n", Encoding.ASCII.GetString(buf));

            // The timed-out receives gave "part"; the rest of the line comes after them.
            release.SetResult();
            await client.SendAsync("g"u8.ToArray());
            Assert.Equal("""
                1
                1
                nil,"timeout","part"
                true
                nil,"timeout",""
                nil,"timeout",""
                true
                "partial"
                1

                """.ReplaceLineEndings("\n"), await LuaTestHost.ReadAllAsync(client));
            Assert.Equal(LuaOutcome.Ok, await service);
        }
    }

    [Fact]
    public async Task Send_RangesAndClosedSocket_ReturnBytesSent()
    {
        await using var server = new TestServer("echo", async s =>
        {
            var buf = new byte[4096];
            int n;
            while ((n = await s.ReceiveAsync(buf)) > 0)
            {
                await s.SendAsync(buf.AsMemory(0, n));
            }
        });
        using var host = new LuaTestHost(Show + $$"""
            core.register_service("tx", "tcp", function(applet)
              local s = core.tcp()
              s:settimeout(5)
              local out = {}
              local function P(...) out[#out + 1] = show(...) end
              P(s:send("early"))
              P(s:connect("127.0.0.1:{{server.Port}}"))
              P(s:send("abcdef"))
              P(s:send("abcdef", 2))
              P(s:send("abcdef", 2, 4))
              P(s:send("abcdef", -2))
              P(s:send("abcdef", 5, 2))
              P(s:send(""))
              P(s:send(12))
              P(s:send(string.rep("z", 100000), 99999))
              P(s:receive(6 + 5 + 3 + 2 + 2 + 2))
              P(s:getpeername() == "127.0.0.1:{{server.Port}}", s:getsockname():match("^127%.0%.0%.1:%d+$") ~= nil)
              P(s:setoption("tcp-nodelay", true))
              P(pcall(s.send, s, {}))
              P(pcall(s.send, s, "x", "one"))
              P(pcall(s.receive, s, "*x"))
              P(pcall(s.receive, s, -1))
              s:close()
              P(s:send("x"))
              P(s:send("abc", 2))
              P(s:receive())
              P(s:close())
              applet:send(table.concat(out, "\n") .. "\n")
            end)
            """);
        Assert.Equal("""
            nil,"closed",0
            1
            6
            5
            3
            2
            0
            0
            2
            2
            "abcdefbcdefbcdef12zz"
            true,true

            false,"Socket.send: bad argument #1 (string expected, got table)"
            false,"Socket.send: bad argument #2 (number expected, got string)"
            false,"Socket.receive: bad argument #1 (invalid pattern '*x': use '*l', '*a' or a number)"
            false,"Socket.receive: bad argument #1 (the byte count must not be negative)"
            nil,"closed",0
            nil,"closed",0
            nil,"closed",""


            """.ReplaceLineEndings("\n"), await RunServiceAsync(host, "tx"));
    }

    [Fact]
    public async Task Close_LeftOpenByTheScript_ClosedWhenTheExecutionEnds()
    {
        var closed = new TaskCompletionSource<string>();
        await using var server = new TestServer("sink", async s =>
        {
            var all = new MemoryStream();
            var buf = new byte[256];
            int n;
            while ((n = await s.ReceiveAsync(buf)) > 0)
            {
                all.Write(buf, 0, n);
            }

            closed.TrySetResult(Encoding.ASCII.GetString(all.ToArray()));
        });
        using var host = new LuaTestHost($$"""
            core.register_service("leak", "tcp", function(applet)
              local s = core.tcp()
              assert(s:connect("127.0.0.1", {{server.Port}}))
              s:send("left open\n")
              keep = s
              applet:send("bye\n")
            end)
            """);
        Assert.Equal("bye\n", await RunServiceAsync(host, "leak"));

        // A global still refers to it, yet it belonged to the service's execution.
        Assert.Equal("left open\n", await closed.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Gc_UnreferencedSocket_ClosedWhileTheExecutionGoesOn()
    {
        var closed = new TaskCompletionSource<string>();
        await using var server = new TestServer("sink", async s =>
        {
            var buf = new byte[256];
            int n, total = 0;
            while ((n = await s.ReceiveAsync(buf.AsMemory(total))) > 0)
            {
                total += n;
            }

            closed.TrySetResult(Encoding.ASCII.GetString(buf, 0, total));
        });
        using var host = new LuaTestHost($$"""
            local function open()
              local s = core.tcp()
              assert(s:connect("127.0.0.1", {{server.Port}}))
              s:send("forgotten\n")
            end
            core.register_service("gc", "tcp", function(applet)
              open()
              collectgarbage()
              collectgarbage()
              applet:send("collected\n")
              applet:receive(1)
            end)
            """);
        Assert.Empty(host.Errors);
        var (client, service) = await host.ConnectServiceAsync("gc");
        using (client)
        {
            var buf = new byte[10];
            Assert.Equal(10, await client.ReceiveAsync(buf));

            // The service still waits for its client: only the collector can have closed the socket.
            Assert.Equal("forgotten\n", await closed.Task.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.False(service.IsCompleted);
            await client.SendAsync("x"u8.ToArray());
            Assert.Equal(LuaOutcome.Ok, await service);
        }
    }

    [Fact]
    public void CoreTcp_InTheBody_IsLuaErrorNamingTheContext()
    {
        using var host = new LuaTestHost("""
            local ok, err = pcall(core.tcp)
            assert(not ok)
            assert(err:find("core.tcp: not available in the body context", 1, true), err)
            ok, err = pcall(core.httpclient)
            assert(not ok)
            assert(err:find("core.httpclient: not available in the body context", 1, true), err)
            """);
        Assert.Empty(host.Errors);
    }
}
