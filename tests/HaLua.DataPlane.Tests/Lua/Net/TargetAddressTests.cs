using System.Net;
using System.Net.Sockets;
using HaLua.DataPlane.Lua.Net;

namespace HaLua.DataPlane.Tests.Lua.Net;

public class TargetAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:80", null, "127.0.0.1:80")]
    [InlineData("127.0.0.1", 8080L, "127.0.0.1:8080")]
    [InlineData("127.0.0.1:09101", null, "127.0.0.1:9101")]
    [InlineData("ipv4@10.1.2.3:443", null, "10.1.2.3:443")]
    [InlineData("ipv4@10.1.2.3", 443L, "10.1.2.3:443")]
    [InlineData("ipv4@[10.1.2.3]:443", null, "10.1.2.3:443")]
    [InlineData("tcp@127.0.0.1:80", null, "127.0.0.1:80")]
    [InlineData("tcp4@127.0.0.1:80", null, "127.0.0.1:80")]
    [InlineData("ipv6@[::1]:80", null, "[::1]:80")]
    [InlineData("ipv6@::1", 80L, "[::1]:80")]
    [InlineData("tcp6@[2001:db8::1]:80", null, "[2001:db8::1]:80")]
    [InlineData("::1", 80L, "[::1]:80")]
    [InlineData("[::1]:80", null, "[::1]:80")]
    [InlineData("[::1]", 80L, "[::1]:80")]
    [InlineData("[::ffff:127.0.0.1]:80", null, "127.0.0.1:80")]
    [InlineData("*:80", null, "0.0.0.0:80")]
    [InlineData(":80", null, "0.0.0.0:80")]
    [InlineData("127.0.0.1:80 ", null, "127.0.0.1:80")]
    public void TryParse_IpForms_GiveTheEndpoint(string text, long? port, string expected)
    {
        Assert.Equal(AddressError.None, TargetAddress.TryParse(text, port, out var endpoint));
        Assert.Equal(expected, Assert.IsType<IPEndPoint>(endpoint).ToString());
    }

    [Theory]
    [InlineData("unix@/run/app.sock", "/run/app.sock")]
    [InlineData("/run/app.sock", "/run/app.sock")]
    public void TryParse_UnixForms_GiveTheSocketPath(string text, string path)
    {
        Assert.Equal(AddressError.None, TargetAddress.TryParse(text, null, out var endpoint));
        Assert.Equal(path, Assert.IsType<UnixDomainSocketEndPoint>(endpoint).ToString());
        Assert.Equal("unix", TargetAddress.Display(endpoint));
    }

    [Theory]
    [InlineData("localhost:80", null)]
    [InlineData("localhost", 80L)]
    [InlineData("example.com:80", null)]
    [InlineData("127.1:80", null)]
    [InlineData("0x7f000001:80", null)]
    [InlineData("127.000.0.1:80", null)]
    [InlineData("256.0.0.1:80", null)]
    [InlineData(" 127.0.0.1:80", null)]
    [InlineData("127.0.0.1:+80", null)]
    [InlineData("127.0.0.1:80-81", null)]
    [InlineData("127.0.0.1:65536", null)]
    [InlineData("127.0.0.1:80", 81L)]
    [InlineData("udp@127.0.0.1:80", null)]
    [InlineData("fd@3", null)]
    [InlineData("sockpair@3", null)]
    [InlineData("unix@", null)]
    [InlineData("ipv6@127.0.0.1:80", null)]
    [InlineData("ipv4@[::1]:80", null)]
    [InlineData("[::1:80", null)]
    public void TryParse_NotAnAddressHaproxyTakes_IsSyntaxError(string text, long? port)
        => Assert.Equal(AddressError.Syntax, TargetAddress.TryParse(text, port, out _));

    [Theory]
    [InlineData("127.0.0.1", null)]
    [InlineData("127.0.0.1:", null)]
    [InlineData("127.0.0.1:0", null)]
    [InlineData("[::1]", null)]
    [InlineData("127.0.0.1", -1L)]
    public void TryParse_NoPort_IsPortMissing(string text, long? port)
        => Assert.Equal(AddressError.PortMissing, TargetAddress.TryParse(text, port, out _));

    [Theory]
    [InlineData(0L)]
    [InlineData(65536L)]
    public void TryParse_PortArgumentOutOfRange_IsBadPort(long port)
        => Assert.Equal(AddressError.BadPort, TargetAddress.TryParse("127.0.0.1", port, out _));
}
