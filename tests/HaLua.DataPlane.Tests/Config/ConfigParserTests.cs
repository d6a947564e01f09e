using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Tests.Config;

public sealed class ConfigParserTests
{
    private static HaLuaConfig ParseOk(string text, Func<string, string?>? env = null)
    {
        var result = ConfigParser.Parse(text, "test.cfg", env ?? (_ => null));
        Assert.Empty(result.Errors.Select(e => e.ToString()));
        Assert.NotNull(result.Config);
        return result.Config;
    }

    private static ProxyConfig Proxy(HaLuaConfig config, string name) => Assert.Single(config.Proxies, p => p.Name == name);

    [Fact]
    public void Parse_FullConfig_BuildsProxiesServersAndRules()
    {
        var config = ParseOk("""
            global
                nbthread 2
                maxconn 5000
                tune.lua.session-timeout 2s
                tune.lua.maxmem 64

            frontend fe
                mode tcp
                bind 127.0.0.1:8000,127.0.0.1:8001 name main
                maxconn 100
                acl local src 127.0.0.1
                use_backend be if local
                default_backend be

            backend be
                balance leastconn
                retries 1
                option redispatch
                server s1 10.0.0.1:80 weight 10 check inter 500ms rise 4 fall 5 maxconn 7
                server s2 [2001:db8::1]:8080 backup
                server s3 app.example.com:81 disabled
            """);

        Assert.Equal(2, config.Global.NbThread);
        Assert.Equal(5000, config.Global.MaxConn);
        Assert.Equal(TimeSpan.FromSeconds(2), config.Global.LuaSessionTimeout);
        Assert.Equal(64L * 1024 * 1024, config.Global.LuaMaxMem);

        var fe = Proxy(config, "fe");
        Assert.Equal(ProxyCapabilities.Frontend, fe.Capabilities);
        Assert.Equal(new SourceLocation("test.cfg", 7), fe.Location);
        Assert.Equal([8000, 8001], fe.Binds.Select(b => b.Endpoint.Port));
        Assert.All(fe.Binds, b => Assert.Equal("main", b.Name));
        Assert.Equal(100, fe.MaxConn);
        Assert.Equal("be", fe.DefaultBackend);
        var acl = Assert.Single(fe.Acls);
        Assert.Equal(("local", "src"), (acl.Name, acl.Fetch));
        Assert.Equal(["127.0.0.1"], acl.Patterns.AsEnumerable());
        var rule = Assert.Single(fe.UseBackends);
        Assert.Equal("be", rule.Backend);
        Assert.NotNull(rule.Condition);
        Assert.False(rule.Condition.Unless);
        Assert.Equal("local", Assert.Single(Assert.Single(rule.Condition.AnyOf)).Name);

        var be = Proxy(config, "be");
        Assert.Equal(ProxyCapabilities.Backend, be.Capabilities);
        Assert.Equal(BalanceAlgorithm.LeastConn, be.Balance);
        Assert.Equal(1, be.Retries);
        Assert.True(be.Redispatch);
        Assert.Null(be.DefaultBackend);
        Assert.Equal(["s1", "s2", "s3"], be.Servers.Select(s => s.Name));

        var s1 = be.Servers[0];
        Assert.Equal(("10.0.0.1", 80, 10, true), (s1.Host, s1.Port, s1.Weight, s1.Check));
        Assert.Equal(TimeSpan.FromMilliseconds(500), s1.Inter);
        Assert.Equal((4, 5, 7), (s1.Rise, s1.Fall, s1.MaxConn));
        Assert.Equal(new SourceLocation("test.cfg", 19), s1.Location);

        var s2 = be.Servers[1];
        Assert.Equal(("2001:db8::1", 8080, true, 1), (s2.Host, s2.Port, s2.Backup, s2.Weight));
        Assert.False(s2.Check);

        var s3 = be.Servers[2];
        Assert.Equal(("app.example.com", 81, true), (s3.Host, s3.Port, s3.Disabled));
        Assert.Equal((2, 3), (s3.Rise, s3.Fall));
        Assert.Equal(TimeSpan.FromSeconds(2), s3.Inter);

        Assert.Equal([2, 3], config.Proxies.Select(p => p.Uuid));
    }

    [Fact]
    public void Parse_ProxyAfterDefaults_InheritsModeTimeoutsBalanceRetriesRedispatch()
    {
        var config = ParseOk("""
            defaults
                mode http
                timeout connect 5s
                timeout client 30s
                timeout server 40s
                timeout queue 2s
                timeout check 1s
                balance first
                retries 7
                option redispatch
                maxconn 300

            listen app
                bind :8000
                server s1 127.0.0.1:9000
            """);

        var app = Proxy(config, "app");
        Assert.Equal(ProxyMode.Http, app.Mode);
        Assert.Equal(TimeSpan.FromSeconds(5), app.Timeouts.Connect);
        Assert.Equal(TimeSpan.FromSeconds(30), app.Timeouts.Client);
        Assert.Equal(TimeSpan.FromSeconds(40), app.Timeouts.Server);
        Assert.Equal(TimeSpan.FromSeconds(2), app.Timeouts.Queue);
        Assert.Equal(TimeSpan.FromSeconds(1), app.Timeouts.Check);
        Assert.Equal(BalanceAlgorithm.First, app.Balance);
        Assert.Equal(7, app.Retries);
        Assert.True(app.Redispatch);
        Assert.Equal(300, app.MaxConn);
    }

    [Fact]
    public void Parse_LaterDefaultsSection_ResetsWhatTheFirstSet()
    {
        var config = ParseOk("""
            defaults
                mode http
                timeout connect 5s
                timeout server 30s
                balance leastconn
                retries 9
                option redispatch

            backend early
                server s1 127.0.0.1:9000

            defaults
                timeout connect 1s

            backend late
                server s1 127.0.0.1:9000
            """);

        var early = Proxy(config, "early");
        Assert.Equal(ProxyMode.Http, early.Mode);
        Assert.Equal(TimeSpan.FromSeconds(5), early.Timeouts.Connect);
        Assert.Equal(TimeSpan.FromSeconds(30), early.Timeouts.Server);
        Assert.Equal(BalanceAlgorithm.LeastConn, early.Balance);
        Assert.Equal(9, early.Retries);
        Assert.True(early.Redispatch);

        var late = Proxy(config, "late");
        Assert.Equal(ProxyMode.Tcp, late.Mode);
        Assert.Equal(TimeSpan.FromSeconds(1), late.Timeouts.Connect);
        Assert.Null(late.Timeouts.Server);
        Assert.Equal(BalanceAlgorithm.RoundRobin, late.Balance);
        Assert.Equal(3, late.Retries);
        Assert.False(late.Redispatch);
    }

    [Fact]
    public void Parse_ProxySetting_OverridesDefaultsForThatProxyOnly()
    {
        var config = ParseOk("""
            defaults
                balance leastconn
                timeout server 30s

            backend custom
                balance source
                timeout server 5s
                no option redispatch
                server s1 127.0.0.1:9000

            backend plain
                server s1 127.0.0.1:9000
            """);

        Assert.Equal(BalanceAlgorithm.Source, Proxy(config, "custom").Balance);
        Assert.Equal(TimeSpan.FromSeconds(5), Proxy(config, "custom").Timeouts.Server);
        Assert.Equal(BalanceAlgorithm.LeastConn, Proxy(config, "plain").Balance);
        Assert.Equal(TimeSpan.FromSeconds(30), Proxy(config, "plain").Timeouts.Server);
    }

    [Fact]
    public void Parse_NamedDefaultsWithFrom_InheritsThatSection()
    {
        var config = ParseOk("""
            defaults fast
                timeout connect 100ms
                balance static-rr

            defaults slow
                timeout connect 10s

            backend a from fast
                server s1 127.0.0.1:9000

            backend b
                server s1 127.0.0.1:9000

            defaults derived from fast
                retries 1

            backend c
                server s1 127.0.0.1:9000
            """);

        Assert.Equal(TimeSpan.FromMilliseconds(100), Proxy(config, "a").Timeouts.Connect);
        Assert.Equal(BalanceAlgorithm.StaticRoundRobin, Proxy(config, "a").Balance);
        Assert.Equal(TimeSpan.FromSeconds(10), Proxy(config, "b").Timeouts.Connect);
        Assert.Equal(BalanceAlgorithm.RoundRobin, Proxy(config, "b").Balance);
        var c = Proxy(config, "c");
        Assert.Equal(TimeSpan.FromMilliseconds(100), c.Timeouts.Connect);
        Assert.Equal(BalanceAlgorithm.StaticRoundRobin, c.Balance);
        Assert.Equal(1, c.Retries);
    }

    [Fact]
    public void Parse_DefaultBackendInDefaults_GoesToFrontendsNotBackends()
    {
        var config = ParseOk("""
            defaults
                default_backend pool

            frontend fe
                bind :8000

            backend pool
                server s1 127.0.0.1:9000
            """);

        Assert.Equal("pool", Proxy(config, "fe").DefaultBackend);
        Assert.Null(Proxy(config, "pool").DefaultBackend);
    }

    [Fact]
    public void Parse_TcpRules_KeepActionsArgumentsAndConditions()
    {
        var config = ParseOk("""
            frontend fe
                bind :8000
                tcp-request inspect-delay 2s
                tcp-request content reject if { src 10.0.0.0/8 }
                tcp-request content lua.tag "a b" c unless !{ req.len gt 0 } || TRUE
                tcp-request content use-service lua.hello
                tcp-request content accept
            """);

        var fe = Proxy(config, "fe");
        Assert.Equal(TimeSpan.FromSeconds(2), fe.InspectDelay);
        Assert.Equal([TcpRuleKind.Reject, TcpRuleKind.LuaAction, TcpRuleKind.UseService, TcpRuleKind.Accept], fe.TcpRequestContent.Select(r => r.Kind));

        var reject = fe.TcpRequestContent[0];
        var anon = Assert.Single(Assert.Single(reject.Condition!.AnyOf)).Anonymous;
        Assert.NotNull(anon);
        Assert.Equal("src", anon.Fetch);
        Assert.Equal(["10.0.0.0/8"], anon.Patterns.AsEnumerable());

        var lua = fe.TcpRequestContent[1];
        Assert.Equal("tag", lua.LuaName);
        Assert.Equal(["a b", "c"], lua.Args.AsEnumerable());
        Assert.True(lua.Condition!.Unless);
        Assert.Equal(2, lua.Condition.AnyOf.Length);
        var negated = Assert.Single(lua.Condition.AnyOf[0]);
        Assert.True(negated.Negate);
        Assert.Equal("req.len", negated.Anonymous!.Fetch);
        Assert.Equal(["gt", "0"], negated.Anonymous.Patterns.AsEnumerable());
        Assert.Equal("TRUE", Assert.Single(lua.Condition.AnyOf[1]).Name);

        Assert.Equal("hello", fe.TcpRequestContent[2].LuaName);
        Assert.Null(fe.TcpRequestContent[3].Condition);
    }

    [Fact]
    public void Parse_AclFlags_AreKeptApartFromPatterns()
    {
        var config = ParseOk("""
            backend be
                acl a str(x) -i -m beg -- -abc def
                acl b int(1) -5 7
                server s1 127.0.0.1:9000
            """);

        var a = Proxy(config, "be").Acls[0];
        Assert.Equal(["-i", "-m", "beg"], a.Flags.AsEnumerable());
        Assert.Equal(["-abc", "def"], a.Patterns.AsEnumerable());
        var b = Proxy(config, "be").Acls[1];
        Assert.Empty(b.Flags);
        Assert.Equal(["-5", "7"], b.Patterns.AsEnumerable());
    }

    [Fact]
    public void Parse_EnvironmentInDoubleQuotes_ReachesTheConfig()
    {
        var env = new Dictionary<string, string> { ["BE_ADDR"] = "10.1.2.3", ["BE_PORT"] = "8443" };
        var config = ParseOk("""
            backend be
                server s1 "${BE_ADDR}:${BE_PORT}"
                server s2 "${NOT_SET-127.0.0.1}:80"
            """, env.GetValueOrDefault);

        var be = Proxy(config, "be");
        Assert.Equal(("10.1.2.3", 8443), (be.Servers[0].Host, be.Servers[0].Port));
        Assert.Equal(("127.0.0.1", 80), (be.Servers[1].Host, be.Servers[1].Port));
    }

    [Fact]
    public void Parse_GlobalLogAndLuaLoad_AreRecorded()
    {
        var config = ParseOk("""
            global
                lua-load /etc/halua/a.lua arg1 'arg 2'
                lua-load-per-thread b.lua
                lua-prepend-path /usr/share/lua/?.lua
                log 127.0.0.1:5514 format rfc5424 local0 info
                log stdout format raw daemon
            """);

        var g = config.Global;
        Assert.Equal(["/etc/halua/a.lua", "b.lua"], g.LuaLoads.Select(l => l.Path));
        Assert.Equal(["arg1", "arg 2"], g.LuaLoads[0].Args.AsEnumerable());
        Assert.False(g.LuaLoads[0].PerThread);
        Assert.True(g.LuaLoads[1].PerThread);
        Assert.Equal("/usr/share/lua/?.lua", Assert.Single(g.LuaPrependPaths).Path);
        Assert.Equal([LogTargetKind.Udp, LogTargetKind.Stdout], g.Logs.Select(l => l.Kind));
        Assert.Equal(("rfc5424", "local0", "info"), (g.Logs[0].Format, g.Logs[0].Facility, g.Logs[0].MaxLevel));
        Assert.Equal("127.0.0.1:5514", g.Logs[0].Address!.ToString());
    }

    [Fact]
    public void Parse_HttpClientSslVerify_NoneOrRequired_OtherwiseRefused()
    {
        Assert.True(ParseOk("global\n").Global.HttpClientSslVerify);
        Assert.False(ParseOk("global\n    httpclient.ssl.verify none\n").Global.HttpClientSslVerify);
        Assert.True(ParseOk("global\n    httpclient.ssl.verify required\n").Global.HttpClientSslVerify);
        ParsedConfig.AssertLineRefused("global", "httpclient.ssl.verify optional", "httpclient.ssl.verify", "expects 'none' or 'required'");
    }

    [Fact]
    public void Parse_FrontendWithoutBind_IsAWarningNotAnError()
    {
        var result = ConfigParser.Parse("frontend lonely\n", "w.cfg", _ => null);
        Assert.NotNull(result.Config);
        Assert.Empty(result.Errors);
        var warning = Assert.Single(result.Warnings);
        Assert.Contains("w.cfg:1", warning, StringComparison.Ordinal);
        Assert.Contains("'lonely'", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseFiles_SeveralFiles_ReadInOrderWithDefaultsCarriedOver()
    {
        string dir = Directory.CreateTempSubdirectory("halua-cfg-").FullName;
        try
        {
            string first = Path.Combine(dir, "a.cfg");
            string second = Path.Combine(dir, "b.cfg");
            File.WriteAllText(first, "defaults\n    timeout connect 3s\n");
            File.WriteAllText(second, "backend be\n    server s1 127.0.0.1:80\n");

            var result = ConfigParser.ParseFiles([first, second], _ => null);

            Assert.Empty(result.Errors);
            var be = Assert.Single(result.Config!.Proxies);
            Assert.Equal(TimeSpan.FromSeconds(3), be.Timeouts.Connect);
            Assert.Equal(new SourceLocation(second, 1), be.Location);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
