namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>
/// Every core function called in every context through a running halua: allowed where the spec
/// lists the context (services and cli commands count as actions), a Lua error naming the context
/// elsewhere.
/// </summary>
public class LuaContextTests
{
    private const string Body = "body", Init = "init", Task = "task", Action = "action", Fetch = "sample-fetch", Converter = "converter", Service = "service";

    private static readonly string[] AllContexts = [Body, Init, Task, Action, Fetch, Converter, Service];

    /// <summary>The contexts each function is allowed in (the spec's list, plus service where it lists action).</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["log"] = AllContexts,
        ["Debug"] = AllContexts,
        ["Info"] = AllContexts,
        ["Warning"] = AllContexts,
        ["Alert"] = AllContexts,
        ["concat"] = AllContexts,
        ["parse_addr"] = AllContexts,
        ["match_addr"] = AllContexts,
        ["tokenize"] = AllContexts,
        ["add_acl"] = [Init, Task, Action, Fetch, Converter, Service],
        ["del_acl"] = [Init, Task, Action, Fetch, Converter, Service],
        ["set_map"] = [Init, Task, Action, Fetch, Converter, Service],
        ["del_map"] = [Init, Task, Action, Fetch, Converter, Service],
        ["now"] = [Body, Init, Task, Action, Service],
        ["http_date"] = [Body, Init, Task, Action, Service],
        ["imf_date"] = [Body, Init, Task, Action, Service],
        ["rfc850_date"] = [Body, Init, Task, Action, Service],
        ["asctime_date"] = [Body, Init, Task, Action, Service],
        ["msleep"] = [Body, Init, Task, Action, Service],
        ["sleep"] = [Body, Init, Task, Action, Service],
        ["yield"] = [Task, Action, Fetch, Converter, Service],
        ["set_nice"] = [Task, Action, Fetch, Converter, Service],
        ["register_action"] = [Body],
        ["register_fetches"] = [Body],
        ["register_converters"] = [Body],
        ["register_service"] = [Body],
        ["register_init"] = [Body],
        ["register_cli"] = [Body],
        ["register_task"] = [Body, Init, Task, Action, Fetch, Converter],
        ["act.wake_time"] = [Action],
    };

    private const string Script = """
        local n = 0
        local function uniq() n = n + 1 return "ctx_zz" .. n end
        local calls = {
          log = function() core.log(core.info, "x") end,
          Debug = function() core.Debug("x") end,
          Info = function() core.Info("x") end,
          Warning = function() core.Warning("x") end,
          Alert = function() core.Alert("x") end,
          concat = function() core.concat():add("x") end,
          parse_addr = function() core.parse_addr("10.0.0.1") end,
          match_addr = function() core.match_addr(core.parse_addr("10.0.0.1"), core.parse_addr("10.0.0.0/8")) end,
          tokenize = function() core.tokenize("a b", " ") end,
          add_acl = function() core.add_acl("ips.lst", "10.9.9.9") end,
          del_acl = function() core.del_acl("ips.lst", "10.9.9.9") end,
          set_map = function() core.set_map("keys.map", "k", "v") end,
          del_map = function() core.del_map("keys.map", "k") end,
          now = function() core.now() end,
          http_date = function() core.http_date("Sun, 06 Nov 1994 08:49:37 GMT") end,
          imf_date = function() core.imf_date("Sun, 06 Nov 1994 08:49:37 GMT") end,
          rfc850_date = function() core.rfc850_date("Sunday, 06-Nov-94 08:49:37 GMT") end,
          asctime_date = function() core.asctime_date("Sun Nov  6 08:49:37 1994") end,
          msleep = function() core.msleep(1) end,
          sleep = function() core.sleep(0) end,
          yield = function() core.yield() end,
          set_nice = function() core.set_nice(0) end,
          register_action = function() core.register_action(uniq(), { "http-req" }, function() end) end,
          register_fetches = function() core.register_fetches(uniq(), function() end) end,
          register_converters = function() core.register_converters(uniq(), function() end) end,
          register_service = function() core.register_service(uniq(), "http", function() end) end,
          register_init = function() core.register_init(function() end) end,
          register_cli = function() core.register_cli({ uniq() }, "usage", function() end) end,
          register_task = function() core.register_task(function() end) end,
          ["act.wake_time"] = function() act.wake_time(1) end,
        }
        local names = {}
        for k in pairs(calls) do names[#names + 1] = k end
        table.sort(names)
        results = {}
        local function run(ctx)
          local out = {}
          for _, name in ipairs(names) do
            local ok, e = pcall(calls[name])
            if ok then
              out[#out + 1] = name .. "=ok"
            elseif tostring(e):find("not available in the " .. ctx .. " context", 1, true) then
              out[#out + 1] = name .. "=refused"
            else
              out[#out + 1] = name .. "=error(" .. tostring(e):gsub("[\r\n,=]", " ") .. ")"
            end
          end
          results[ctx] = table.concat(out, ",")
        end
        run("body")
        core.register_init(function() run("init") end)
        core.register_task(function() run("task") end)
        core.register_action("act", { "http-req" }, function(txn) run("action") end)
        core.register_fetches("fetch", function(txn) run("sample-fetch") return "f" end)
        core.register_converters("conv", function(v) run("converter") return v end)
        core.register_service("report", "http", function(applet)
          run("service")
          local lines = {}
          for ctx, r in pairs(results) do lines[#lines + 1] = ctx .. ":" .. r end
          local body = table.concat(lines, "\n")
          applet:set_status(200)
          applet:add_header("content-length", #body)
          applet:start_response()
          applet:send(body)
        end)
        """;

    [Fact]
    public async System.Threading.Tasks.Task CoreFunctions_EveryContext_AllowedOnlyWhereTheSpecSays()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load ctx.lua
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               acl known src -f ips.lst
               http-request set-header x-map %[str(k),map_str(keys.map)]
               http-request lua.act
               http-request set-header x-f %[lua.fetch]
               http-request set-header x-c %[str(a),lua.conv]
               http-request use-service lua.report
            """, new Dictionary<string, string>
        {
            ["ctx.lua"] = Script,
            ["ips.lst"] = "10.0.0.1\n",
            ["keys.map"] = "k v\n",
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        var seen = new Dictionary<string, Dictionary<string, string>>();
        for (int attempt = 0; attempt < 50 && seen.Count < AllContexts.Length; attempt++)
        {
            var (status, _, body) = await c.AskAsync("/");
            Assert.Equal(200, status);
            seen = body.Split('\n').Select(l => l.Split(':', 2)).ToDictionary(
                p => p[0],
                p => p[1].Split(',').Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]));
            await System.Threading.Tasks.Task.Delay(100);
        }

        var mismatches = new List<string>();
        foreach (var ctx in AllContexts)
        {
            Assert.True(seen.ContainsKey(ctx), $"no report from the {ctx} context");
            foreach (var (fn, contexts) in Allowed)
            {
                string expected = contexts.Contains(ctx) ? "ok" : "refused";
                string got = seen[ctx].GetValueOrDefault(fn, "missing");
                if (got != expected)
                {
                    mismatches.Add($"{fn} in {ctx}: expected {expected}, got {got}");
                }
            }
        }

        Assert.Empty(mismatches);
        Assert.Equal(Allowed.Count, seen[Body].Count);
    }
}
