using HaLua.DataPlane.Tests.EndToEnd;
using HaLua.Sdk;
using Microsoft.Extensions.DependencyInjection;

namespace HaLua.DataPlane.Tests.Control;

/// <summary>The SDK's dependency-injection registration and fleet, against real data planes.</summary>
public class SdkTests
{
    private const string Config = """
        global
           admin-api 127.0.0.1:{PORT7} token-env HALUA_SDK_TEST_TOKEN
        frontend fe
           bind 127.0.0.1:{PORT0}
           mode tcp
           timeout client 1s
           tcp-request content reject
        """;

    [Fact]
    public async Task AddHaLuaAdminClient_RegistersOneConfiguredClient()
    {
        Environment.SetEnvironmentVariable("HALUA_SDK_TEST_TOKEN", "t0ken");
        await using var h = await AdminHost.StartAsync(Config, options: a => new HaLuaAdminClientOptions { Address = a, Token = "t0ken" });
        var services = new ServiceCollection();
        services.AddHaLuaAdminClient(o =>
        {
            o.Address = h.AdminAddress;
            o.Token = "t0ken";
            o.Timeout = TimeSpan.FromSeconds(5);
        });
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<HaLuaAdminClient>();
        Assert.Same(client, provider.GetRequiredService<HaLuaAdminClient>());
        Assert.Equal(h.AdminAddress, client.Address);
        Assert.Equal("fe", Assert.Single(await client.ListProxiesAsync()).Name);
    }

    [Fact]
    public async Task Fleet_RunsOnEveryInstance_AndReportsEachResultOrError()
    {
        Environment.SetEnvironmentVariable("HALUA_SDK_TEST_TOKEN", "t0ken");
        await using var h1 = await AdminHost.StartAsync(Config, options: a => new HaLuaAdminClientOptions { Address = a, Token = "t0ken" });
        await using var h2 = await AdminHost.StartAsync(Config, options: a => new HaLuaAdminClientOptions { Address = a, Token = "t0ken" });
        string dead = $"127.0.0.1:{HaluaProcess.FreePort()}";
        using var fleet = new HaLuaAdminFleet([h1.AdminAddress, dead, h2.AdminAddress], token: "t0ken");
        var results = await fleet.RunAsync((c, ct) => c.ListProxiesAsync(ct));
        Assert.Equal([h1.AdminAddress, dead, h2.AdminAddress], results.Select(r => r.Address));
        Assert.True(results[0].Succeeded);
        Assert.Equal("fe", Assert.Single(results[0].Value!).Name);
        Assert.False(results[1].Succeeded);
        Assert.IsType<Grpc.Core.RpcException>(results[1].Error);
        Assert.True(results[2].Succeeded);
    }
}
