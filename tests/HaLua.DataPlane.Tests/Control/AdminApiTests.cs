using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using HaLua.Admin.V1;
using HaLua.DataPlane.Tests.EndToEnd;
using HaLua.Sdk;

namespace HaLua.DataPlane.Tests.Control;

/// <summary>The gRPC admin API end to end: a real halua, the SDK, and the effect of each change on real traffic.</summary>
public class AdminApiTests
{
    private static string TcpConfig(TestServer a, TestServer b, string adminOptions = "") => $$"""
        global
           admin-api 127.0.0.1:{PORT7} {{adminOptions}}
        defaults
           mode tcp
           timeout connect 1s
           timeout client 5s
           timeout server 5s
        frontend fe
           bind 127.0.0.1:{PORT0}
           default_backend app
        backend app
           balance roundrobin
           server a 127.0.0.1:{{a.Port}}
           server b 127.0.0.1:{{b.Port}}
        """;

    private static async Task<Dictionary<string, int>> SplitAsync(int port, int requests)
    {
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < requests; i++)
        {
            string name = await HaluaProcess.ExchangeAsync(port);
            counts[name] = counts.GetValueOrDefault(name) + 1;
        }

        return counts;
    }

    [Fact]
    public async Task Reflection_ListsEveryAdminServiceAndHealth()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await AdminHost.StartAsync(TcpConfig(a, b));
        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(h.Client.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var names = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToHashSet();
        foreach (var service in new[] { "halua.admin.v1.ProxyService", "halua.admin.v1.ServerService", "halua.admin.v1.MapService", "halua.admin.v1.AclService", "halua.admin.v1.LuaService", "halua.admin.v1.CliService", "halua.admin.v1.StatsService", "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection" })
        {
            Assert.Contains(service, names);
        }

        var health = new Grpc.Health.V1.Health.HealthClient(h.Client.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "halua.admin.v1.ServerService" })).Status);
    }

    [Fact]
    public async Task SetWeight_ShiftsTheSplitOfTheNextConnections()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await AdminHost.StartAsync(TcpConfig(a, b));
        var before = await SplitAsync(h.Ports[0], 10);
        Assert.Equal(5, before["A"]);
        Assert.Equal(5, before["B"]);

        var server = await h.Client.SetWeightAsync("app", "a", "3");
        Assert.Equal(3, server.Weight);
        Assert.Equal(1, server.InitialWeight);
        var after = await SplitAsync(h.Ports[0], 40);
        Assert.Equal(30, after["A"]);
        Assert.Equal(10, after["B"]);

        server = await h.Client.SetWeightAsync("app", "a", "0");
        Assert.Equal(0, server.Weight);
        var none = await SplitAsync(h.Ports[0], 6);
        Assert.Equal(6, none["B"]);
        Assert.False(none.ContainsKey("A"));

        // "N%" is relative to the configured weight (1): 100% restores it.
        server = await h.Client.SetWeightAsync("app", "a", "100%");
        Assert.Equal(1, server.Weight);
    }

    [Fact]
    public async Task SetAdminState_MaintStopsNewConnections_ReadyRestores()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await AdminHost.StartAsync(TcpConfig(a, b));
        var server = await h.Client.SetAdminStateAsync("app", "b", AdminState.Maint);
        Assert.Equal(AdminState.Maint, server.AdminState);
        Assert.Equal("MAINT", server.Status);
        int bBefore = b.Connections;
        var split = await SplitAsync(h.Ports[0], 6);
        Assert.Equal(6, split["A"]);
        Assert.Equal(bBefore, b.Connections);

        server = await h.Client.SetAdminStateAsync("app", "b", AdminState.Ready);
        Assert.Equal("no check", server.Status); // HAProxy's status of an up server without checks
        split = await SplitAsync(h.Ports[0], 6);
        Assert.Equal(3, split["B"]);
    }

    [Fact]
    public async Task SetAddress_RetargetsNewConnections()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var c = new TestServer("C");
        await using var h = await AdminHost.StartAsync(TcpConfig(a, b));
        await h.Client.SetAdminStateAsync("app", "b", AdminState.Maint);
        var server = await h.Client.SetAddressAsync("app", "a", "127.0.0.1", c.Port);
        Assert.Equal(c.Port, server.Port);
        Assert.Equal("C", await HaluaProcess.ExchangeAsync(h.Ports[0]));
    }

    [Fact]
    public async Task Errors_HaveTheirStatusCodeAndNameWhatWasWrong()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await AdminHost.StartAsync(TcpConfig(a, b));
        var e = await Assert.ThrowsAsync<RpcException>(() => h.Client.SetWeightAsync("app", "nope", "10"));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Contains("'nope'", e.Status.Detail);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.SetWeightAsync("app", "a", "300"));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("between 0 and 256", e.Status.Detail);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.GetServerAsync("nobackend", "a"));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.SetAddressAsync("app", "a", "not-an-ip"));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.SetAdminStateAsync("app", "a", AdminState.Unspecified));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public async Task ListAndGet_DescribeProxiesAndServers()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await AdminHost.StartAsync(TcpConfig(a, b));
        var proxies = await h.Client.ListProxiesAsync();
        Assert.Equal(["fe", "app"], proxies.Select(p => p.Name));
        Assert.True(proxies[0].Frontend);
        Assert.False(proxies[0].Backend);
        Assert.Equal("tcp", proxies[0].Mode);
        Assert.Equal($"127.0.0.1:{h.Ports[0]}", Assert.Single(proxies[0].Listeners));
        Assert.Equal(["a", "b"], proxies[1].Servers);
        var servers = await h.Client.ListServersAsync("app");
        Assert.Equal(["a", "b"], servers.Select(s => s.Name));
        Assert.Equal(a.Port, servers[0].Port);
        Assert.Equal("127.0.0.1", servers[0].Address);
        Assert.Equal(1, servers[0].Id);
        Assert.Equal(2, servers[1].Id);
        Assert.Equal(OperState.Up, servers[1].OperState);
        Assert.Equal(2, (await h.Client.ListServersAsync()).Count);
    }

    [Fact]
    public async Task PauseAndResume_StopAndRestartAccepting()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await AdminHost.StartAsync(TcpConfig(a, b));
        var proxy = await h.Client.PauseProxyAsync("fe");
        Assert.Equal(ProxyState.Paused, proxy.State);
        // Paused: the listeners stop listening and connections are refused, as HAProxy pauses a
        // frontend (the same operation as Lua's Proxy.pause); resume listens again.
        Assert.True(await HaLua.DataPlane.Tests.EndToEnd.LuaControl.RefusedAsync(h.Ports[0]));
        proxy = await h.Client.ResumeProxyAsync("fe");
        Assert.Equal(ProxyState.Running, proxy.State);
        Assert.Contains(await HaluaProcess.ExchangeAsync(h.Ports[0]), new[] { "A", "B" });

        proxy = await h.Client.StopProxyAsync("fe");
        Assert.Equal(ProxyState.Stopped, proxy.State);
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => HaluaProcess.ExchangeAsync(h.Ports[0]));
        var e = await Assert.ThrowsAsync<RpcException>(() => h.Client.ResumeProxyAsync("fe"));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.PauseProxyAsync("app"));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
    }

    [Fact]
    public async Task Watch_StreamsServerChangesAsTheyHappen()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await AdminHost.StartAsync(TcpConfig(a, b));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var events = await h.Client.WatchAsync(cts.Token);
        await h.Client.SetWeightAsync("app", "a", "7");
        await h.Client.SetAdminStateAsync("app", "b", AdminState.Drain);
        await h.Client.PauseProxyAsync("fe");
        var seen = new List<Event>();
        await foreach (var e in events)
        {
            seen.Add(e);
            if (seen.Count == 3)
            {
                break;
            }
        }

        Assert.Equal(("proxy", "fe", "state", "RUNNING", "PAUSED", "changed by admin API"), (seen[2].Kind, seen[2].Subject, seen[2].What, seen[2].OldValue, seen[2].NewValue, seen[2].Reason));

        Assert.Equal(("server", "app/a", "weight", "1", "7"), (seen[0].Kind, seen[0].Subject, seen[0].What, seen[0].OldValue, seen[0].NewValue));
        Assert.Equal(("server", "app/b", "admin", "READY", "DRAIN"), (seen[1].Kind, seen[1].Subject, seen[1].What, seen[1].OldValue, seen[1].NewValue));
    }

    [Fact]
    public async Task Token_RequiredForEveryCallButHealth()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        var files = new Dictionary<string, string> { ["admin.token"] = "s3cret-token\n" };
        await using var h = await AdminHost.StartAsync(TcpConfig(a, b, "token-file {DIR}/admin.token"), files);
        var e = await Assert.ThrowsAsync<RpcException>(() => h.Client.ListProxiesAsync());
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        var health = new Grpc.Health.V1.Health.HealthClient(h.Client.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        var reflection = new Grpc.Reflection.V1Alpha.ServerReflection.ServerReflectionClient(h.Client.Channel);
        using (var call = reflection.ServerReflectionInfo())
        {
            await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
            await call.RequestStream.CompleteAsync();
            var re = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.Unauthenticated, re.StatusCode);
        }

        using var wrong = new HaLuaAdminClient(new HaLuaAdminClientOptions { Address = h.AdminAddress, Token = "guess" });
        e = await Assert.ThrowsAsync<RpcException>(() => wrong.SetWeightAsync("app", "a", "0"));
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);

        using var right = new HaLuaAdminClient(new HaLuaAdminClientOptions { Address = h.AdminAddress, Token = "s3cret-token" });
        Assert.Equal(2, (await right.ListProxiesAsync()).Count);
        Assert.Equal(0, (await right.SetWeightAsync("app", "a", "0")).Weight);
    }

    [Fact]
    public async Task TokenEnv_Unset_IsAStartupErrorNamingTheVariable()
    {
        var (code, _, stderr) = await RunAsync("""
            global
               admin-api 127.0.0.1:{PORT7} token-env HALUA_TEST_TOKEN_THAT_IS_NOT_SET
            frontend fe
               bind 127.0.0.1:{PORT0}
               mode tcp
               timeout client 1s
               tcp-request content reject
            """);
        Assert.Equal(1, code);
        Assert.Contains("HALUA_TEST_TOKEN_THAT_IS_NOT_SET", stderr);
        Assert.Contains("admin-api", stderr);
    }

    private static async Task<(int, string, string)> RunAsync(string config)
    {
        var (dir, cfg, _) = HaluaProcess.Prepare(config);
        return await HaluaProcess.RunToEndAsync(dir, "-f", cfg);
    }
}
