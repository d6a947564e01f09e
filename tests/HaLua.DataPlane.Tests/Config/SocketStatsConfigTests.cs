using static HaLua.DataPlane.Tests.Config.ParsedConfig;

namespace HaLua.DataPlane.Tests.Config;

/// <summary><c>option socket-stats</c>: per-listener stats rows (Lua's Listener.get_stats).</summary>
public class SocketStatsConfigTests
{
    [Fact]
    public void SocketStats_OffByDefault_InheritedAndNegated()
    {
        Assert.False(Proxy("frontend fe\n", "fe").SocketStats);
        const string Text = "defaults\n    option socket-stats\nfrontend a\nfrontend b\n    no option socket-stats\nlisten c\n";
        Assert.True(Proxy(Text, "a").SocketStats);
        Assert.False(Proxy(Text, "b").SocketStats);
        Assert.True(Proxy(Text, "c").SocketStats);
    }

    [Theory]
    [InlineData("backend be", "option socket-stats", "option socket-stats", "not allowed in a 'backend' section")]
    [InlineData("frontend fe", "option socket-stats now", "option socket-stats", "unexpected argument 'now'")]
    public void SocketStats_WrongPlaceOrArgument_IsAnError(string section, string line, string keyword, string message)
        => AssertLineRefused(section, line, keyword, message);
}
