using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>Maps and ACL files through a running halua: converters, ACL -f, and Lua changing them.</summary>
public class MapTests
{
    private const string Defaults = """
        defaults
           mode http
           timeout connect 1s
           timeout client 5s
           timeout server 5s
        """;

    /// <summary>One request on a connection of its own (so requests spread over the workers).</summary>
    private static async Task<(int Status, string Head, string Body)> GetAsync(int port, string path, string headers = "", string host = "test.example.com")
    {
        using var c = await RawHttpClient.ConnectAsync(port);
        await c.SendAsync($"GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}\r\n");
        var (status, head, body) = await c.ReadResponseAsync();
        return (status, head, Encoding.Latin1.GetString(body));
    }

    [Fact]
    public async Task MapRegm_ReplacesBackreferences_AsHaproxy26()
    {
        await using var h = await HaluaProcess.StartAsync(Defaults + """

            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request return status 200 content-type text/plain lf-string "%[path,map_regm(r.map,none)]"
            """, new Dictionary<string, string> { ["r.map"] = "^/img/(.*)\\.(png|gif)$ /images/\\1.webp-\\2-\\3\n^/a(b)?c$ x\\1y\n" });
        // What haproxy 2.6 answers for the same map: absent groups are empty.
        foreach (var (path, expected) in new[] { ("/img/cat.png", "/images/cat.webp-png-"), ("/img/a/b.gif", "/images/a/b.webp-gif-"), ("/ac", "xy"), ("/abc", "xby"), ("/zz", "none") })
        {
            Assert.Equal(expected, (await GetAsync(h.Ports[0], path)).Body);
        }
    }

    [Fact]
    public async Task MapConverters_InSetHeaderAndReturn_ReachTheOrigin()
    {
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync(Defaults + $$"""

            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request return status 200 content-type text/plain lf-string "ip=%[req.hdr(x-ip),map_ip(nets.map,unknown)] port=%[req.hdr(x-port),map_int_int(ports.map,0)] dom=%[req.hdr(host),map_dom(hosts.map,none)]" if { path /info }
               http-request set-header X-Route %[path,map_beg(routes.map,default)]
               http-request set-header X-Backend %[req.hdr(host),lower,map(hosts.map,none)]
               http-request set-header X-Ext %[path,map_end(ext.map,other)]
               default_backend be
            backend be
               server o 127.0.0.1:{{origin.Port}}
            """, new Dictionary<string, string>
        {
            ["routes.map"] = "# prefix -> route\n/api api\n/api/v2 api-v2\n/static static\n",
            ["hosts.map"] = "www.example.org org\ntest.example.com test\nexample.com com\n",
            ["ext.map"] = ".png image\n.css style\n",
            ["nets.map"] = "10.0.0.0/8 ten\n10.1.0.0/16 ten-one\n2001:db8::/32 doc6\n",
            ["ports.map"] = "80 1\n443 2\n1024:65535 3\n",
        });

        await GetAsync(h.Ports[0], "/api/v2/users");
        await GetAsync(h.Ports[0], "/api/v1/x.png", "Host: WWW.Example.ORG\r\n");
        await GetAsync(h.Ports[0], "/other.css");
        var heads = origin.Requests.Select(r => r.Head).ToArray();
        Assert.Equal(3, heads.Length);
        Assert.Contains("X-Route: api-v2\r\n", heads[0]);
        Assert.Contains("X-Backend: test\r\n", heads[0]);
        Assert.Contains("X-Ext: other\r\n", heads[0]);
        Assert.Contains("X-Route: api\r\n", heads[1]);
        Assert.Contains("X-Ext: image\r\n", heads[1]);
        Assert.Contains("X-Route: default\r\n", heads[2]);
        Assert.Contains("X-Ext: style\r\n", heads[2]);

        var (status, _, body) = await GetAsync(h.Ports[0], "/info", "X-Ip: 10.1.2.3\r\nX-Port: 8080\r\n");
        Assert.Equal(200, status);
        Assert.Equal("ip=ten-one port=3 dom=test", body);
        (_, _, body) = await GetAsync(h.Ports[0], "/info", "X-Ip: 192.0.2.1\r\nX-Port: 22\r\n");
        Assert.Equal("ip=unknown port=0 dom=test", body);
    }

    [Fact]
    public async Task AclFiles_SeveralMethods_DecideTheRules()
    {
        await using var h = await HaluaProcess.StartAsync(Defaults + """

            frontend fe
               bind 127.0.0.1:{PORT0}
               acl blocked req.hdr(x-client-ip) -m ip -f blocked.lst
               acl admin_path path_beg -f admin.lst
               acl image path -m end -i -f images.lst
               acl trusted_domain req.hdr(x-origin) -m dom -i -f domains.lst
               acl level req.hdr(x-level) -m int -f levels.lst
               acl reserved req.hdr(x-user) -m str -f users.lst -f more-users.lst
               acl spam req.hdr(x-text) -m reg -i -f spam.lst
               http-request deny deny_status 403 if blocked
               http-request return status 200 content-type text/plain string admin if admin_path
               http-request return status 200 content-type text/plain string image if image
               http-request return status 200 content-type text/plain string trusted if trusted_domain
               http-request return status 200 content-type text/plain string level if level
               http-request return status 200 content-type text/plain string reserved if reserved
               http-request return status 200 content-type text/plain string spam if spam
               http-request return status 200 content-type text/plain string none
            """, new Dictionary<string, string>
        {
            ["blocked.lst"] = "# bad networks\n192.0.2.0/24\n2001:db8::/32\n",
            ["admin.lst"] = "/admin\n/internal/\n",
            ["images.lst"] = ".png\n.JPG\n",
            ["domains.lst"] = "example.com\n",
            ["levels.lst"] = "0:9\n42\n100:\n",
            ["users.lst"] = "root\n",
            ["more-users.lst"] = "admin\n",
            ["spam.lst"] = "^buy now\nviagra\n",
        });

        async Task<string> Body(string path, string headers = "")
        {
            var (status, _, body) = await GetAsync(h.Ports[0], path, headers);
            return status == 403 ? "403" : body;
        }

        Assert.Equal("403", await Body("/admin", "X-Client-Ip: 192.0.2.55\r\n"));
        Assert.Equal("403", await Body("/", "X-Client-Ip: 2001:db8::5\r\n"));
        Assert.Equal("admin", await Body("/admin/users", "X-Client-Ip: 192.0.3.1\r\n"));
        Assert.Equal("admin", await Body("/internal/x"));
        Assert.Equal("none", await Body("/internalx"));
        Assert.Equal("image", await Body("/a/b/logo.PNG"));
        Assert.Equal("image", await Body("/photo.jpg"));
        Assert.Equal("trusted", await Body("/", "X-Origin: WWW.EXAMPLE.COM:443\r\n"));
        Assert.Equal("none", await Body("/", "X-Origin: notexample.com\r\n"));
        Assert.Equal("level", await Body("/", "X-Level: 5\r\n"));
        Assert.Equal("level", await Body("/", "X-Level: 42\r\n"));
        Assert.Equal("level", await Body("/", "X-Level: 1000\r\n"));
        Assert.Equal("none", await Body("/", "X-Level: 50\r\n"));
        Assert.Equal("reserved", await Body("/", "X-User: admin\r\n"));
        Assert.Equal("none", await Body("/", "X-User: Admin\r\n"));
        Assert.Equal("spam", await Body("/", "X-Text: BUY NOW cheap\r\n"));
        Assert.Equal("none", await Body("/", "X-Text: please buy now\r\n"));
    }

    private static readonly Dictionary<string, string> LuaFiles = new()
    {
        ["routes.map"] = "/api api\n",
        ["users.lst"] = "# users refused\n",
        // The shared state: an HTTP service and a TCP service that change the maps.
        ["admin.lua"] = """
            core.register_service("admin", "http", function(applet)
              local op, key, value = applet.path:match("^/admin/(%w+)/([^/]+)/?(.*)$")
              if op == "set" then core.set_map("routes.map", "/" .. key, value)
              elseif op == "del" then core.del_map("routes.map", "/" .. key)
              elseif op == "block" then core.add_acl("users.lst", key)
              elseif op == "unblock" then core.del_acl("users.lst", key)
              end
              applet:set_status(200)
              applet:add_header("content-length", "2")
              applet:start_response()
              applet:send("ok")
            end)

            core.register_service("tcp_admin", "tcp", function(applet)
              local key, value = applet:getline():match("^set (%S+) (%S+)")
              core.set_map("routes.map", key, value)
              applet:send("done\n")
            end)
            """,
        // One state per worker, each with its own Map object over the same reference.
        ["route.lua"] = """
            local routes = Map.new("routes.map", Map._beg)
            core.register_converters("route", function(path) return routes:slookup(path) end)
            """,
    };

    [Fact]
    public async Task LuaSetMapDelMapAddAclDelAcl_SeenByConfigAndEveryLuaStateOnTheNextRequest()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               nbthread 2
               lua-load admin.lua
               lua-load-per-thread route.lua

            """ + Defaults + """

            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request use-service lua.admin if { path_beg /admin/ }
               http-request deny deny_status 403 if { req.hdr(x-user) -f users.lst }
               http-request return status 200 content-type text/plain lf-string "conf=%[path,map_beg(routes.map,none)] lua=%[path,lua.route]"
            listen tcp_admin
               mode tcp
               bind 127.0.0.1:{PORT1}
               tcp-request content use-service lua.tcp_admin
            """, LuaFiles);
        int port = h.Ports[0];

        // Each request on a new connection: the two workers (and their Lua states) both answer.
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal("conf=api lua=api", (await GetAsync(port, "/api/x")).Body);
            Assert.Equal("conf=none lua=", (await GetAsync(port, "/new/page")).Body);
        }

        Assert.Equal("ok", (await GetAsync(port, "/admin/set/new/from-http")).Body);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal("conf=from-http lua=from-http", (await GetAsync(port, "/new/page")).Body);
        }

        Assert.Equal("done\n", await HaluaProcess.ExchangeAsync(h.Ports[1], "set /tcp from-tcp\n"));
        Assert.Equal("ok", (await GetAsync(port, "/admin/set/new/changed")).Body);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal("conf=from-tcp lua=from-tcp", (await GetAsync(port, "/tcp/1")).Body);
            Assert.Equal("conf=changed lua=changed", (await GetAsync(port, "/new/page")).Body);
        }

        Assert.Equal("ok", (await GetAsync(port, "/admin/del/api")).Body);
        Assert.Equal("conf=none lua=", (await GetAsync(port, "/api/x")).Body);

        Assert.Equal(200, (await GetAsync(port, "/api/x", "X-User: mallory\r\n")).Status);
        Assert.Equal("ok", (await GetAsync(port, "/admin/block/mallory")).Body);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(403, (await GetAsync(port, "/api/x", "X-User: mallory\r\n")).Status);
            Assert.Equal(200, (await GetAsync(port, "/api/x", "X-User: alice\r\n")).Status);
        }

        Assert.Equal("ok", (await GetAsync(port, "/admin/unblock/mallory")).Body);
        Assert.Equal(200, (await GetAsync(port, "/api/x", "X-User: mallory\r\n")).Status);
    }

    [Fact]
    public async Task UseBackendByMap_LuaHttpActionRemaps_NextRequestGoesToTheNewBackend()
    {
        static HttpOrigin Origin(string name) => new(r => Task.FromResult<byte[]?>(HttpOrigin.Ok(name)));
        await using var a = Origin("A");
        await using var b = Origin("B");
        await using var d = Origin("D");
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load remap.lua

            """ + Defaults + $$"""

            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request lua.remap if { path_beg /remap/ }
               http-request lua.unmap if { path_beg /unmap/ }
               use_backend %[req.hdr(host),lower,map(hosts.map,be_default)]
               default_backend be_default
            backend be_a
               server a 127.0.0.1:{{a.Port}}
            backend be_b
               server b 127.0.0.1:{{b.Port}}
            backend be_default
               server d 127.0.0.1:{{d.Port}}
            """, new Dictionary<string, string>
        {
            ["hosts.map"] = "a.example be_a\nb.example be_b\n",
            // An http-req action: the path says which host goes to which backend from now on.
            ["remap.lua"] = """
                core.register_action("remap", { "http-req" }, function(txn)
                  local host, backend = txn.sf:path():match("^/remap/([^/]+)/(.+)$")
                  core.set_map("hosts.map", host, backend)
                end)
                core.register_action("unmap", { "http-req" }, function(txn)
                  core.del_map("hosts.map", txn.sf:path():match("^/unmap/(.+)$"))
                end)
                """,
        });
        int port = h.Ports[0];

        async Task<string> Via(string host, string path = "/") => (await GetAsync(port, path, host: host)).Body;

        Assert.Equal("A", await Via("a.example"));
        Assert.Equal("B", await Via("B.Example"));
        Assert.Equal("D", await Via("c.example"));
        Assert.Equal("D", await Via("x", "/remap/c.example/be_b"));
        Assert.Equal("B", await Via("c.example"));
        Assert.Equal("D", await Via("x", "/remap/a.example/be_b"));
        Assert.Equal("B", await Via("a.example"));
        Assert.Equal("D", await Via("x", "/unmap/c.example"));
        Assert.Equal("D", await Via("c.example"));
    }

    [Theory]
    [InlineData("http-request set-header X %[path,map_beg(missing.map,d)]", "'http-request set-header'", "converter 'map_beg': failed to open pattern file 'missing.map'")]
    [InlineData("acl bad path -f missing.lst", "'acl'", "failed to open pattern file 'missing.lst'")]
    [InlineData("http-request deny if { src -f hosts.lst }", "'http-request deny'", "'example.com' is not a valid IPv4 or IPv6 address at line 2 of file 'hosts.lst'")]
    [InlineData("http-request set-header X %[path,map_str_int(hosts.lst)]", "'http-request set-header'", "already used as a pattern file")]
    public async Task BadMapOrAclFile_IsAConfigErrorNamingTheLineAndKeyword(string line, string keyword, string message)
    {
        var (code, _, stderr) = await HaluaProcess.CheckAsync(Defaults + $$"""

            frontend fe
               bind 127.0.0.1:{PORT0}
               acl local req.hdr(host) -f hosts.lst
               {{line}}
               http-request return status 200 if local
            """, new Dictionary<string, string> { ["hosts.lst"] = "# hosts\nexample.com\n" });
        Assert.True(code == 1, stderr);
        Assert.True(stderr.Contains($"haproxy.cfg:9 : {keyword} in section 'frontend fe'", StringComparison.Ordinal), stderr);
        Assert.True(stderr.Contains(message, StringComparison.Ordinal), stderr);
    }
}
