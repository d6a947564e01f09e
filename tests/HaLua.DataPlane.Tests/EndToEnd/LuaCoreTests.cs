namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>core.thread, lua-prepend-path and the Regex class through a running halua.</summary>
public class LuaCoreTests
{
    [Fact]
    public async Task CoreThread_SharedStateZero_PerThreadStatesFromOne_PrependPathAndLoadArgumentsSeenByTheBody()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               nbthread 2
               lua-prepend-path {DIR}/m_?.lua
               lua-prepend-path {DIR}/first_?.lua
               lua-prepend-path /opt/halua-test/?.so cpath
               lua-load shared.lua first "second arg"
               lua-load-per-thread perthread.lua
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request use-service lua.shared if { path /shared }
               http-request use-service lua.perthread
            """, new Dictionary<string, string>
        {
            ["m_greeting.lua"] = "return { text = 'hello from a module' }",
            ["shared.lua"] = """
                local greeting = require("greeting")
                local load_args = table.concat({ ... }, "+")
                local body_thread = core.thread
                local function answer(applet, body)
                  applet:set_status(200)
                  applet:add_header("content-length", #body)
                  applet:start_response()
                  applet:send(body)
                end
                core.register_service("shared", "http", function(applet)
                  -- The private data works in a service even when no action ran before (REALITY.md).
                  applet:set_priv("p")
                  answer(applet, table.concat({ body_thread, core.thread, greeting.text, applet:get_priv(), load_args,
                    package.path:sub(1, #"{DIR}/first_?.lua;{DIR}/m_?.lua;") == "{DIR}/first_?.lua;{DIR}/m_?.lua;" and "path-ok" or package.path,
                    package.cpath:sub(1, #"/opt/halua-test/?.so;") == "/opt/halua-test/?.so;" and "cpath-ok" or package.cpath }, " "))
                end)
                _G.answer = answer
                """,
            ["perthread.lua"] = """
                local body_thread = core.thread
                core.register_service("perthread", "http", function(applet)
                  local body = body_thread .. " " .. core.thread
                  applet:set_status(200)
                  applet:add_header("content-length", #body)
                  applet:start_response()
                  applet:send(body)
                end)
                """,
        });

        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        var (status, _, body) = await c.AskAsync("/shared");
        Assert.Equal((200, "0 0 hello from a module p first+second arg path-ok cpath-ok"), (status, body));

        // A per-thread state knows its worker, from 1, in the body as at runtime.
        for (int i = 0; i < 6; i++)
        {
            using var pc = await RawHttpClient.ConnectAsync(h.Ports[0]);
            var (_, _, thread) = await pc.AskAsync("/");
            Assert.Contains(thread, new[] { "1 1", "2 2" });
        }
    }

    [Fact]
    public async Task LuaPrependPath_BadArguments_ConfigErrorNamesFileAndLine()
    {
        var (code, _, stderr) = await HaluaProcess.CheckAsync("""
            global
               lua-prepend-path
               lua-prepend-path /a/?.lua path extra
               lua-prepend-path /a/?.lua other
            """);
        Assert.Equal(1, code);
        foreach (int line in new[] { 2, 3, 4 })
        {
            Assert.Contains($"haproxy.cfg:{line} : 'lua-prepend-path' in section 'global': 'lua-prepend-path' expects a path, optionally followed by 'path' or 'cpath'", stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Regex_MadeInTheBody_UsedByAnAction_TimeoutIsAnErrorThatLetsTheRulesGoOn()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load re.lua
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request lua.route
               http-request lua.slow if { path_beg /slow }
               http-request return status 200 content-type text/plain lf-string "%[var(txn.user)]/%[var(txn.name)]/%[var(txn.ci)]/%[var(txn.bad)]"
            """, new Dictionary<string, string>
        {
            ["re.lua"] = """
                local ok, user = Regex.new("^/users?/(\\d+)(?:/([[:alpha:]]+))?", true)
                assert(ok, user)
                local _, ci = Regex.new("^/USER/", false)
                local bad_ok, why = Regex.new("(unclosed", true)
                local _, slow = Regex.new("^(a+)+$", true)
                core.register_action("route", { "http-req" }, function(txn)
                  local path = txn.f:path()
                  local matched, m = user:match(path)
                  if matched then
                    txn:set_var("txn.user", m[2])
                    txn:set_var("txn.name", m[3] or "-")
                  end
                  txn:set_var("txn.ci", tostring(ci:exec(path)))
                  txn:set_var("txn.bad", tostring(bad_ok) .. ":" .. why:sub(1, 17))
                end)
                core.register_action("slow", { "http-req" }, function(txn)
                  slow:exec(string.rep("a", 40) .. "!")
                  txn:set_var("txn.user", "not reached")
                end)
                """,
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        Assert.Equal("42/bob/true/false:regex '(unclosed'", (await c.AskAsync("/user/42/bob")).Body);
        Assert.Equal("7/-/false/false:regex '(unclosed'", (await c.AskAsync("/users/7")).Body);

        // A regex that runs away is stopped: a Lua error in that action; the next rules run.
        var (status, _, body) = await c.AskAsync("/slow");
        Assert.Equal((200, "//false/false:regex '(unclosed'"), (status, body));
        await h.WaitForStderrAsync("Regex.exec: the match took longer than 100 ms and was stopped", TimeSpan.FromSeconds(5));
    }
}
