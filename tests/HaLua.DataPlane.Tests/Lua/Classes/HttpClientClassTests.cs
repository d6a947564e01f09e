using HaLua.DataPlane.Lua.Classes;

namespace HaLua.DataPlane.Tests.Lua.Classes;

public class HttpClientClassTests
{
    [Theory]
    [InlineData("http://h.example", false, "h.example", 80, "h.example", "/")]
    [InlineData("http://h.example:8080/p/q?x=1&y", false, "h.example", 8080, "h.example:8080", "/p/q?x=1&y")]
    [InlineData("http://h.example?x=1", false, "h.example", 80, "h.example", "/?x=1")]
    [InlineData("http://h.example/a#frag", false, "h.example", 80, "h.example", "/a")]
    [InlineData("HTTPS://h.example/s", true, "h.example", 443, "h.example", "/s")]
    [InlineData("https://[::1]:8443/x", true, "::1", 8443, "[::1]:8443", "/x")]
    [InlineData("http://user:pw@10.0.0.1/", false, "10.0.0.1", 80, "10.0.0.1", "/")]
    public void TryParseUrl_HttpAndHttps_GiveHostPortAndTarget(string url, bool tls, string host, int port, string authority, string path)
    {
        Assert.True(HttpClientClass.TryParseUrl(url, out bool t, out string h, out int p, out string a, out string target, out bool supported));
        Assert.True(supported);
        Assert.Equal((tls, host, port, authority, path), (t, h, p, a, target));
    }

    [Fact]
    public void TryParseUrl_OtherScheme_StartsButIsNotSupported()
    {
        // HAProxy answers such a request with an empty 503 rather than an error.
        Assert.True(HttpClientClass.TryParseUrl("ftp://h.example/f", out _, out _, out _, out _, out _, out bool supported));
        Assert.False(supported);
    }

    [Theory]
    [InlineData("h.example/x")]
    [InlineData("127.0.0.1:80/")]
    [InlineData("http://")]
    [InlineData("http://:80/")]
    [InlineData("http://h.example:0/")]
    [InlineData("http://h.example:99999/")]
    [InlineData("http://h.example:x/")]
    [InlineData("http://[::1/")]
    public void TryParseUrl_NoUsableUrl_IsRefused(string url)
        => Assert.False(HttpClientClass.TryParseUrl(url, out _, out _, out _, out _, out _, out _));
}
