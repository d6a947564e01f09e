using HaLua.DataPlane.Config;
using static HaLua.DataPlane.Tests.Config.ParsedConfig;

namespace HaLua.DataPlane.Tests.Config;

/// <summary>http-reuse and the server pool options.</summary>
public sealed class HttpReuseConfigTests
{
    [Fact]
    public void HttpReuse_SafeByDefault_InheritedAndOverridden()
    {
        Assert.Equal(HttpReuseMode.Safe, Proxy("backend be\n", "be").HttpReuse);
        const string Text = "defaults\n    http-reuse always\nbackend a\nbackend b\n    http-reuse never\nlisten c\n    http-reuse aggressive\n";
        Assert.Equal(HttpReuseMode.Always, Proxy(Text, "a").HttpReuse);
        Assert.Equal(HttpReuseMode.Never, Proxy(Text, "b").HttpReuse);
        Assert.Equal(HttpReuseMode.Aggressive, Proxy(Text, "c").HttpReuse);
    }

    [Fact]
    public void ServerPoolOptions_ParsedWithHaproxyDefaults()
    {
        var s = Assert.Single(Proxy("backend be\n    server s 127.0.0.1:80 pool-max-conn 5 pool-purge-delay 10s\n", "be").Servers);
        Assert.Equal((5, TimeSpan.FromSeconds(10)), (s.PoolMaxConn, s.PoolPurgeDelay));

        var d = Assert.Single(Proxy("backend be\n    server s 127.0.0.1:80\n", "be").Servers);
        Assert.Equal((-1, TimeSpan.FromSeconds(5)), (d.PoolMaxConn, d.PoolPurgeDelay));
    }

    [Theory]
    [InlineData("backend be", "http-reuse sometimes", "http-reuse", "unknown mode 'sometimes'")]
    [InlineData("backend be", "http-reuse", "http-reuse", "'http-reuse' expects 1 argument(s)")]
    [InlineData("frontend fe", "http-reuse safe", "http-reuse", "'http-reuse' is not allowed in a 'frontend' section")]
    [InlineData("backend be", "server s 127.0.0.1:80 pool-max-conn -2", "server", "invalid 'pool-max-conn' value '-2'")]
    [InlineData("backend be", "server s 127.0.0.1:80 pool-purge-delay soon", "server", "invalid 'pool-purge-delay' time 'soon'")]
    public void BadLine_IsAnErrorNamingFileLineAndKeyword(string section, string line, string keyword, string message)
        => AssertLineRefused(section, line, keyword, message);
}
