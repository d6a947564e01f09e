using HaLua.DataPlane.Config;
using static HaLua.DataPlane.Tests.Config.ParsedConfig;

namespace HaLua.DataPlane.Tests.Config;

/// <summary>option httpchk, http-check and the server check options.</summary>
public sealed class HttpCheckConfigTests
{
    [Fact]
    public void HttpChk_InheritedFromDefaults_OwnRulesReplaceInheritedOnes_NoOptionGoesBackToTcp()
    {
        const string Text = """
            defaults
                option httpchk GET /health
                http-check expect status 200
            backend inherits
                server s 127.0.0.1:80 check
            backend own
                http-check expect ! string down
                http-check send hdr Host www
            backend tcp
                no option httpchk
            backend plain
            """;

        var inherits = Proxy(Text, "inherits").HttpCheck!;
        Assert.Equal(("GET", "/health", "HTTP/1.0"), (inherits.Method, inherits.Uri, inherits.Version));
        var expect = Assert.Single(inherits.Expects);
        Assert.Equal((HttpCheckMatch.Status, false, "200"), (expect.Match, expect.Negate, expect.Pattern));

        var own = Proxy(Text, "own").HttpCheck!;
        var ownExpect = Assert.Single(own.Expects);
        Assert.Equal((HttpCheckMatch.String, true, "down"), (ownExpect.Match, ownExpect.Negate, ownExpect.Pattern));
        Assert.Equal([new KeyValuePair<string, string>("Host", "www")], own.Headers.AsEnumerable());

        Assert.Null(Proxy(Text, "tcp").HttpCheck);
        Assert.Null(Proxy("backend plain\n", "plain").HttpCheck);
    }

    [Fact]
    public void HttpChk_VersionWithHeaders_OldStyle()
    {
        var check = Proxy(@"backend be
    option httpchk HEAD /h HTTP/1.1\r\nHost:\ www\r\nX-A:\ b\ c", "be").HttpCheck!;

        Assert.Equal(("HEAD", "/h", "HTTP/1.1"), (check.Method, check.Uri, check.Version));
        Assert.Equal([new("Host", "www"), new KeyValuePair<string, string>("X-A", "b c")], check.Headers.AsEnumerable());
    }

    [Fact]
    public void HttpCheckRules_WithoutOptionHttpChk_Warned()
    {
        var result = Parse("backend be\n    http-check expect status 200\n");

        Assert.Empty(result.Errors);
        Assert.Contains(result.Warnings, w => w.Contains("uses http-check rules without 'option httpchk'", StringComparison.Ordinal));
    }

    [Fact]
    public void ServerOptions_CheckPortAddrAndPool()
    {
        var s = Assert.Single(Proxy("backend be\n    server s 127.0.0.1:80 check port 8080 addr 10.0.0.9\n", "be").Servers);

        Assert.Equal(8080, s.CheckPort);
        Assert.Equal(System.Net.IPAddress.Parse("10.0.0.9"), s.CheckAddress);

        var d = Assert.Single(Proxy("backend be\n    server s 127.0.0.1:80\n", "be").Servers);
        Assert.Equal((null, null), (d.CheckPort, d.CheckAddress));
    }

    [Theory]
    [InlineData("frontend fe", "option httpchk", "option httpchk", "'option httpchk' is not allowed in a 'frontend' section")]
    [InlineData("frontend fe", "http-check expect status 200", "http-check", "'http-check' is not allowed in a 'frontend' section")]
    [InlineData("backend be", "option httpchk GET / HTTP/2", "option httpchk", "unsupported HTTP version 'HTTP/2'")]
    [InlineData("backend be", "option httpchk GET / HTTP/1.1 extra", "option httpchk", "unexpected argument 'extra'")]
    [InlineData("backend be", @"option httpchk GET / HTTP/1.1\r\nnocolon", "option httpchk", "invalid header line 'nocolon'")]
    [InlineData("backend be", "http-check expect status abc", "http-check expect", "invalid status code list 'abc'")]
    [InlineData("backend be", "http-check expect foo bar", "http-check expect", "unknown match 'foo'")]
    [InlineData("backend be", "http-check expect min-recv 10 string x", "http-check expect", "'min-recv' is not supported yet")]
    [InlineData("backend be", "http-check expect rstring (", "http-check expect", "invalid regex '('")]
    [InlineData("backend be", "http-check expect string", "http-check expect", "'string' expects a pattern")]
    [InlineData("backend be", "http-check expect string a b", "http-check expect", "unexpected argument 'b'")]
    [InlineData("backend be", "http-check send meth GET uri", "http-check send", "'uri' expects a value")]
    [InlineData("backend be", "http-check send hdr Host", "http-check send", "'hdr' expects a name and a value")]
    [InlineData("backend be", "http-check send body-lf x", "http-check send", "'body-lf' is not supported yet")]
    [InlineData("backend be", "http-check disable-on-404", "http-check disable-on-404", "not supported yet")]
    [InlineData("backend be", "http-check frob", "http-check frob", "unknown 'http-check' action 'frob'")]
    [InlineData("backend be", "server s 127.0.0.1:80 port 0", "server", "invalid 'port' value '0'")]
    [InlineData("backend be", "server s 127.0.0.1:80 addr example.com", "server", "invalid 'addr' 'example.com'")]
    public void BadLine_IsAnErrorNamingFileLineAndKeyword(string section, string line, string keyword, string message)
        => AssertLineRefused(section, line, keyword, message);
}
