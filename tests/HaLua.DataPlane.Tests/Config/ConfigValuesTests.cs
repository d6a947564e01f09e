using System.Net;
using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Tests.Config;

public sealed class ConfigValuesTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("250", 250)]
    [InlineData("250ms", 250)]
    [InlineData("3s", 3_000)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1d", 86_400_000)]
    [InlineData("24d", 2_073_600_000)]
    [InlineData("5000us", 5)]
    public void TryParseTime_NumberWithUnit_IsMilliseconds(string text, long expectedMs)
    {
        Assert.True(ConfigValues.TryParseTime(text, out var t));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), t);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("ms")]
    [InlineData("10x")]
    [InlineData("10sec")]
    [InlineData("10S")]
    [InlineData("1.5s")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("10 s")]
    [InlineData(" 10")]
    [InlineData("1s500ms")]
    [InlineData("25d")]
    [InlineData("99999999999999999999")]
    public void TryParseTime_Malformed_IsRejected(string text)
    {
        Assert.False(ConfigValues.TryParseTime(text, out _));
    }

    [Theory]
    [InlineData("0", 0, 256, 0)]
    [InlineData("256", 0, 256, 256)]
    [InlineData("-3", -10, 10, -3)]
    public void TryParseInt_InRange_Parses(string text, int min, int max, int expected)
    {
        Assert.True(ConfigValues.TryParseInt(text, min, max, out int v));
        Assert.Equal(expected, v);
    }

    [Theory]
    [InlineData("257", 0, 256)]
    [InlineData("-1", 0, 256)]
    [InlineData("1k", 0, 256)]
    [InlineData("", 0, 256)]
    [InlineData("3000000000", 0, int.MaxValue)]
    public void TryParseInt_OutOfRangeOrMalformed_IsRejected(string text, int min, int max)
    {
        Assert.False(ConfigValues.TryParseInt(text, min, max, out _));
    }

    [Theory]
    [InlineData("1.2.3.4:80", "1.2.3.4", 80)]
    [InlineData("*:8080", "0.0.0.0", 8080)]
    [InlineData(":8080", "0.0.0.0", 8080)]
    [InlineData("[::1]:443", "::1", 443)]
    [InlineData(":::443", "::", 443)]
    [InlineData("ipv4@127.0.0.1:9000", "127.0.0.1", 9000)]
    [InlineData("ipv6@:9000", "::", 9000)]
    public void TryParseBind_ValidAddress_GivesEndpoint(string text, string ip, int port)
    {
        Assert.True(ConfigValues.TryParseBind(text, out var ep, out var error), error);
        Assert.Equal(new IPEndPoint(IPAddress.Parse(ip), port), ep);
    }

    [Theory]
    [InlineData("1.2.3.4", "missing port")]
    [InlineData("1.2.3.4:0", "invalid port '0'")]
    [InlineData("1.2.3.4:65536", "invalid port '65536'")]
    [InlineData("1.2.3.4:http", "invalid port 'http'")]
    [InlineData(":8000-8010", "port ranges")]
    [InlineData("localhost:80", "a bind needs an IP address")]
    [InlineData("/var/run/x.sock", "unsupported address family")]
    [InlineData("unix@/x.sock", "unsupported address family")]
    [InlineData("[::1:80", "invalid address")]
    public void TryParseBind_BadAddress_ExplainsWhy(string text, string expected)
    {
        Assert.False(ConfigValues.TryParseBind(text, out var ep, out var error));
        Assert.Null(ep);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("host:80", "host", "80")]
    [InlineData("host", "host", null)]
    [InlineData("[2001:db8::1]:80", "2001:db8::1", "80")]
    [InlineData("[2001:db8::1]", "2001:db8::1", null)]
    [InlineData("2001:db8::1:80", "2001:db8::1", "80")]
    public void SplitHostPort_Splits(string text, string host, string? port)
    {
        Assert.True(ConfigValues.SplitHostPort(text, out var h, out var p));
        Assert.Equal(host, h);
        Assert.Equal(port, p);
    }
}
