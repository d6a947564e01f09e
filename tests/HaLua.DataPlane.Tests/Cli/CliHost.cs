using HaLua.DataPlane.Tests.Control;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Cli;

/// <summary>
/// A running halua with stats sockets at each level (unix: admin.sock, oper.sock, user.sock in its
/// directory; TCP admin on {PORT6}), the admin API on {PORT7}, a TCP frontend on {PORT0} over two
/// test servers, an HTTP frontend on {PORT1} routing by a map, and Lua CLI commands.
/// </summary>
internal static class CliHost
{
    public static string Config(TestServer a, TestServer b, string balance = "roundrobin") => $$"""
        global
           stats socket {DIR}/admin.sock mode 600 level admin
           stats socket {DIR}/oper.sock level operator
           stats socket {DIR}/user.sock level user
           stats socket ipv4@127.0.0.1:{PORT6} level admin
           admin-api 127.0.0.1:{PORT7}
           lua-load {DIR}/cli.lua
        defaults
           timeout connect 1s
           timeout client 10s
           timeout server 10s
        frontend fe
           mode tcp
           bind 127.0.0.1:{PORT0}
           default_backend app
        backend app
           mode tcp
           balance {{balance}}
           server a 127.0.0.1:{{a.Port}}
           server b 127.0.0.1:{{b.Port}} check inter 1s
        frontend web
           mode http
           bind 127.0.0.1:{PORT1}
           acl vip req.hdr(x-user) -f {DIR}/vip.acl
           http-request return status 200 content-type text/plain lf-string "vip" if vip
           http-request return status 200 content-type text/plain lf-string "route=%[req.hdr(host),map({DIR}/hosts.map,fallback)]"
        """;

    public const string Lua = """
        core.register_cli({"hello", "world"}, "hello world [args]: says hello", function(applet, a, b, c, d, e)
          applet:send(string.format("hi %s %s %s %s %s\n", tostring(a), tostring(b), tostring(c), tostring(d), tostring(e)))
        end)
        core.register_cli({"fail"}, "fail: raises an error", function(applet)
          applet:send("before\n")
          error("boom")
        end)
        core.register_cli({"echo"}, "echo: reads one line", function(applet)
          local line = applet:getline()
          applet:send("got [" .. tostring(line) .. "]\n")
        end)
        core.register_cli({"count"}, "count <n>: n lines, sleeping between them", function(applet, _, n)
          for i = 1, tonumber(n) do
            applet:send(i .. "\n")
            core.msleep(2)
          end
        end)
        core.register_cli({"lua", "servers"}, "lua servers: the servers of core.backends.app", function(applet)
          local names = {}
          for name in pairs(core.backends.app.servers) do names[#names + 1] = name end
          table.sort(names)
          applet:send(table.concat(names, ",") .. "\n")
        end)
        """;

    public static Dictionary<string, string> Files => new()
    {
        ["cli.lua"] = Lua,
        ["hosts.map"] = "a.example one\nb.example two\n",
        ["vip.acl"] = "alice\n",
    };

    public static async Task<AdminHost> StartAsync(TestServer a, TestServer b, string balance = "roundrobin")
    {
        var h = await AdminHost.StartAsync(Config(a, b, balance), Files);
        await h.Process.WaitForStderrAsync("stats socket listening on 127.0.0.1", TimeSpan.FromSeconds(20));
        return h;
    }

    public static System.Net.EndPoint Admin(AdminHost h) => CliClient.Unix(Path.Combine(h.Process.Directory, "admin.sock"));

    public static System.Net.EndPoint Operator(AdminHost h) => CliClient.Unix(Path.Combine(h.Process.Directory, "oper.sock"));

    public static System.Net.EndPoint User(AdminHost h) => CliClient.Unix(Path.Combine(h.Process.Directory, "user.sock"));

    public static System.Net.EndPoint Tcp(AdminHost h) => CliClient.Tcp(h.Ports[6]);

    /// <summary>One command line on the admin socket, its whole answer.</summary>
    public static Task<string> RunAsync(AdminHost h, string line) => CliClient.RunAsync(Admin(h), line + "\n");
}
