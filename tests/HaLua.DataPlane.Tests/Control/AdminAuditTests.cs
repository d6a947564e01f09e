using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using HaLua.Admin.V1;
using HaLua.ControlPlane;
using HaLua.DataPlane.Tests.EndToEnd;
using HaLua.Sdk;

namespace HaLua.DataPlane.Tests.Control;

/// <summary>Admin actions are logged: who (peer, authentication) changed what (method, request), and the outcome; as text or JSON lines.</summary>
public class AdminAuditTests
{
    private static string Config(TestServer a, string extraGlobal = "") => $$"""
        global
           admin-api 127.0.0.1:{PORT7} token-file {DIR}/token
           lua-load {DIR}/hello.lua
           {{extraGlobal}}
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
           server a 127.0.0.1:{{a.Port}}
        """;

    private static Dictionary<string, string> Files => new() { ["token"] = "s3cret\n", ["hello.lua"] = "core.register_fetches('one', function() return 1 end)\ncore.register_init(function() core.Warning('init says hi') end)\n" };

    private static Task<AdminHost> StartAsync(TestServer a, string extraGlobal = "")
        => AdminHost.StartAsync(Config(a, extraGlobal), Files, address => new HaLuaAdminClientOptions { Address = address, Token = "s3cret" });

    [Fact]
    public async Task ChangingCalls_AreLoggedWithPeerAuthRequestAndOutcome_ReadsAreNot()
    {
        await using var a = new TestServer("A");
        await using var h = await StartAsync(a);
        await h.Client.SetAdminStateAsync("app", "a", AdminState.Maint);
        await h.Client.GetServerAsync("app", "a");
        await Assert.ThrowsAsync<RpcException>(() => h.Client.SetWeightAsync("app", "nope", "5"));
        var lua = new LuaService.LuaServiceClient(h.Client.Channel);
        const string next = "core.register_fetches('one', function() return 2 end)\n";
        await lua.ReloadAsync(new ReloadRequest { Sources = { ["hello.lua"] = ByteString.CopyFromUtf8(next) } });

        await h.Process.WaitForStderrAsync("LuaService/Reload", TimeSpan.FromSeconds(10));
        var lines = h.Process.Stderr.Split('\n').Where(l => l.Contains("admin: ", StringComparison.Ordinal)).ToList();
        Assert.Contains(lines, l => l.Contains("[NOTICE]", StringComparison.Ordinal)
            && l.Contains("admin: peer=ipv4:127.0.0.1:", StringComparison.Ordinal)
            && l.Contains(" auth=token /halua.admin.v1.ServerService/SetAdminState backend=app server=a state=Maint -> OK", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("/halua.admin.v1.ServerService/SetWeight backend=app server=nope weight=5 -> NotFound (", StringComparison.Ordinal));
        // A Lua file's content is not logged, only its size.
        var reload = Assert.Single(lines, l => l.Contains("LuaService/Reload", StringComparison.Ordinal));
        Assert.Contains($"sources={{hello.lua:<{next.Length} bytes>}} -> OK", reload, StringComparison.Ordinal);
        Assert.DoesNotContain("return 2", reload, StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("GetServer", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RefusedCall_WrongToken_IsLoggedUnauthenticated()
    {
        await using var a = new TestServer("A");
        await using var h = await StartAsync(a);
        using var intruder = new HaLuaAdminClient(new HaLuaAdminClientOptions { Address = h.AdminAddress, Token = "guess" });
        var e = await Assert.ThrowsAsync<RpcException>(() => intruder.SetWeightAsync("app", "a", "0"));
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        await h.Process.WaitForStderrAsync("SetWeight", TimeSpan.FromSeconds(10));
        Assert.Contains("/halua.admin.v1.ServerService/SetWeight backend=app server=a weight=0 -> Unauthenticated (invalid bearer token)", h.Process.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("guess", h.Process.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonProcessLog_MessagesAndAudit_AreJsonObjects()
    {
        await using var a = new TestServer("A");
        await using var h = await StartAsync(a, "process-log-format json");
        await h.Client.SetWeightAsync("app", "a", "3");
        await h.Process.WaitForStderrAsync("SetWeight", TimeSpan.FromSeconds(10));
        var objects = h.Process.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var started = Assert.Single(objects, o => o.GetProperty("message").GetString()!.StartsWith("HaLua ", StringComparison.Ordinal));
        Assert.Equal("notice", started.GetProperty("level").GetString());
        Assert.Equal("process", started.GetProperty("source").GetString());
        Assert.Equal(h.Process.Pid, started.GetProperty("pid").GetInt32());
        Assert.True(DateTime.TryParse(started.GetProperty("time").GetString(), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal, out _));

        var lua = Assert.Single(objects, o => o.GetProperty("source").GetString() == "lua");
        Assert.Equal("warning", lua.GetProperty("level").GetString());
        Assert.Equal("init says hi", lua.GetProperty("message").GetString());

        var audit = Assert.Single(objects, o => o.GetProperty("source").GetString() == "admin");
        Assert.Equal("/halua.admin.v1.ServerService/SetWeight", audit.GetProperty("method").GetString());
        Assert.StartsWith("ipv4:127.0.0.1:", audit.GetProperty("peer").GetString(), StringComparison.Ordinal);
        Assert.Equal("token", audit.GetProperty("auth").GetString());
        Assert.Equal("backend=app server=a weight=3", audit.GetProperty("request").GetString());
        Assert.Equal("OK", audit.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("/halua.admin.v1.ServerService/SetWeight", true)]
    [InlineData("/halua.admin.v1.ProxyService/PauseProxy", true)]
    [InlineData("/halua.admin.v1.CliService/Execute", true)]
    [InlineData("/halua.admin.v1.MapService/CommitMap", true)]
    [InlineData("/halua.admin.v1.ServerService/GetServer", false)]
    [InlineData("/halua.admin.v1.ServerService/ListServers", false)]
    [InlineData("/halua.admin.v1.StatsService/ShowStat", false)]
    [InlineData("/halua.admin.v1.StatsService/Watch", false)]
    [InlineData("/halua.admin.v1.MapService/LookupMap", false)]
    [InlineData("/halua.admin.v1.LuaService/Status", false)]
    [InlineData("/grpc.health.v1.Health/Check", false)]
    public void IsChange_ByMethodName(string method, bool change) => Assert.Equal(change, AdminAudit.IsChange(method));

    [Fact]
    public void Describe_QuotesTextWithSpacesAndHidesBytes()
    {
        Assert.Equal("command=\"set weight app/a 5\"", AdminAudit.Describe(new CliRequest { Command = "set weight app/a 5" }));
        Assert.Equal("backend=app server=a", AdminAudit.Describe(new ServerRef { Backend = "app", Server = "a" }));
        Assert.Equal("sources={x.lua:<3 bytes>}", AdminAudit.Describe(new ReloadRequest { Sources = { ["x.lua"] = ByteString.CopyFromUtf8("abc") } }));
        Assert.Equal("(stream)", AdminAudit.Describe(null));
    }
}
