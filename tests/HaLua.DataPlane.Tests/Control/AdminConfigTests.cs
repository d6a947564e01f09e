using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Control;

/// <summary>The <c>admin-api</c> keyword: every mistake is a config error naming file:line and the keyword.</summary>
public class AdminConfigTests
{
    [Theory]
    [InlineData("admin-api", "expects an address")]
    [InlineData("admin-api 127.0.0.1", "missing port")]
    [InlineData("admin-api 127.0.0.1:9400 token", "unknown option 'token'")]
    [InlineData("admin-api 127.0.0.1:9400 token-file", "'token-file' expects a value")]
    [InlineData("admin-api 127.0.0.1:9400 token-file a token-env B", "cannot both be set")]
    [InlineData("admin-api 127.0.0.1:9400 ca-file ca.pem", "need 'crt'")]
    [InlineData("admin-api host.example:9400", "invalid address")]
    public async Task BadAdminApi_IsConfigErrorNamingLine(string line, string message)
    {
        var (code, _, stderr) = await HaluaProcess.CheckAsync($"global\n   {line}\n");
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:2", stderr);
        Assert.Contains("admin-api", stderr);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public async Task AdminApi_Twice_IsConfigError()
    {
        var (code, _, stderr) = await HaluaProcess.CheckAsync("global\n   admin-api :9400\n   admin-api :9401\n");
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:3", stderr);
        Assert.Contains("already set", stderr);
    }

    [Fact]
    public async Task AdminApi_PortOnly_ListensOnLoopback()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               admin-api :{PORT7}
            frontend fe
               bind 127.0.0.1:{PORT0}
               mode tcp
               timeout client 1s
               tcp-request content reject
            """);
        await h.WaitForStderrAsync("admin API listening on 127.0.0.1:", TimeSpan.FromSeconds(20));
    }
}
