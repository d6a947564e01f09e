using System.Net;
using System.Text;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Tests.Samples;

public sealed class AclTests
{
    private static readonly SampleRegistry Registry = SampleRegistry.CreateDefault();

    /// <summary>Parses <c>acl t BODY</c> as a config line (tokenizer and flags included) and compiles it.</summary>
    private static Acl Compile(string body)
    {
        var result = ConfigParser.Parse($"backend be\n    acl t {body}\n", "acl.cfg", _ => null);
        Assert.Empty(result.Errors.Select(e => e.ToString()));
        return Acl.Compile(Assert.Single(result.Config!.Proxies[0].Acls), Registry);
    }

    private static bool Matches(string body, TestSampleContext? ctx = null) => Compile(body).Matches(ctx ?? new TestSampleContext());

    [Theory]
    [InlineData("str(abc) abc", true)]
    [InlineData("str(abc) abd", false)]
    [InlineData("str(abc) x y abc", true)]
    [InlineData("str(abc) ab", false)]
    [InlineData("str(ABC) abc", false)]
    [InlineData("str(ABC) -i abc", true)]
    [InlineData("str(ABC) -m str -i abc", true)]
    [InlineData("str(abc) -m str abc", true)]
    public void Match_Str_IsExactEquality(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Theory]
    [InlineData("str(/api/v1/users) -m beg /api", true)]
    [InlineData("str(/api/v1/users) -m beg /static /api/v1", true)]
    [InlineData("str(/api/v1/users) -m beg /v1", false)]
    [InlineData("str(/API/v1) -m beg /api", false)]
    [InlineData("str(/API/v1) -i -m beg /api", true)]
    public void Match_Beg_IsPrefix(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Theory]
    [InlineData("str(logo.PNG) -m end .png", false)]
    [InlineData("str(logo.PNG) -m end -i .png", true)]
    [InlineData("str(logo.png) -m end .jpg .png", true)]
    [InlineData("str(logo.png) -m end logo", false)]
    public void Match_End_IsSuffix(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Theory]
    [InlineData("str(hello_world) -m sub o_w", true)]
    [InlineData("str(hello_world) -m sub \"o w\"", false)]
    [InlineData("str(HELLO) -m sub ell", false)]
    [InlineData("str(HELLO) -i -m sub ell", true)]
    public void Match_Sub_IsSubstring(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Theory]
    [InlineData(@"str(abc123) -m reg ^[a-z]+[0-9]+$", true)]
    [InlineData(@"str(abc123) -m reg ^\d+$", false)]
    [InlineData(@"str(123) -m reg ^\d+$", true)]
    [InlineData(@"str(www.example.com) -m reg ^www\.example\.com$", true)]
    [InlineData(@"str(wwwXexample.com) -m reg ^www\.example\.com$", false)]
    [InlineData(@"str(ABC) -m reg ^abc$", false)]
    [InlineData(@"str(ABC) -i -m reg ^abc$", true)]
    [InlineData(@"str(abc) -m reg '^x' ""c$""", true)]
    public void Match_Reg_IsRegexSearch(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Fact]
    public void Match_Reg_InvalidRegex_FailsToCompile()
    {
        var ex = Assert.Throws<FormatException>(() => Compile("str(a) -m reg (unclosed"));
        Assert.Contains("invalid regex '(unclosed'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("str(/images/logo.png) -m dir images", true)]
    [InlineData("str(/images/logo.png) -m dir /images", true)]
    [InlineData("str(/images/logo.png) -m dir /images/", true)]
    [InlineData("str(/images/logo.png) -m dir logo.png", true)]
    [InlineData("str(/static/images/logo.png) -m dir static/images", true)]
    [InlineData("str(/images/logo.png?v=1) -m dir logo.png", true)]
    [InlineData("str(/myimages/logo.png) -m dir images", false)]
    [InlineData("str(/images2/logo.png) -m dir images", false)]
    [InlineData("str(/images/logo.png) -m dir img", false)]
    [InlineData("str(/IMAGES/x) -m dir images", false)]
    [InlineData("str(/IMAGES/x) -i -m dir images", true)]
    public void Match_Dir_IsSlashDelimitedPart(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Theory]
    [InlineData("str(www.example.com) -m dom example.com", true)]
    [InlineData("str(www.example.com) -m dom com", true)]
    [InlineData("str(www.example.com) -m dom www", true)]
    [InlineData("str(www.example.com) -m dom .example.com", true)]
    [InlineData("str(www.example.com:8080) -m dom example.com", true)]
    [InlineData("str(www.example.com) -m dom ample.com", false)]
    [InlineData("str(www.example.com) -m dom example.co", false)]
    [InlineData("str(www.example.community) -m dom example.com", false)]
    [InlineData("str(WWW.Example.COM) -m dom example.com", false)]
    [InlineData("str(WWW.Example.COM) -i -m dom example.com", true)]
    public void Match_Dom_IsDotDelimitedPart(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Theory]
    [InlineData("str(anything) -m found", true)]
    [InlineData("always_false -m found", true)]
    [InlineData("srv_name -m found", false)]
    [InlineData("env(HALUA_TEST_SURELY_UNSET_VAR) -m found", false)]
    public void Match_Found_IsWhetherASampleExists(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Theory]
    [InlineData("str(abcd) -m len 4", true)]
    [InlineData("str(abcd) -m len 5", false)]
    [InlineData("str(abcd) -m len 1:4", true)]
    [InlineData("str(abcd) -m len 5:", false)]
    [InlineData("str(abcd) -m len :3", false)]
    [InlineData("str(abcd) -m len gt 3", true)]
    [InlineData("str(abcd) -m len lt 4", false)]
    public void Match_Len_IsStringLength(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Theory]
    [InlineData("int(42) 42", true)]
    [InlineData("int(42) 41", false)]
    [InlineData("int(42) 1 2 42", true)]
    [InlineData("int(42) 40:50", true)]
    [InlineData("int(42) 43:50", false)]
    [InlineData("int(42) 42:", true)]
    [InlineData("int(42) 43:", false)]
    [InlineData("int(42) :42", true)]
    [InlineData("int(42) :41", false)]
    [InlineData("int(42) eq 42", true)]
    [InlineData("int(42) eq 41", false)]
    [InlineData("int(42) ge 42", true)]
    [InlineData("int(42) ge 43", false)]
    [InlineData("int(42) gt 41", true)]
    [InlineData("int(42) gt 42", false)]
    [InlineData("int(42) le 42", true)]
    [InlineData("int(42) le 41", false)]
    [InlineData("int(42) lt 43", true)]
    [InlineData("int(42) lt 42", false)]
    [InlineData("int(-5) -5", true)]
    [InlineData("int(-5) -10:-1", true)]
    [InlineData("int(-5) 0:10", false)]
    [InlineData("str(42) -m int 42", true)]
    [InlineData("str(4x) -m int 4", false)]
    public void Match_Int_ValuesRangesAndOperators(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Fact]
    public void Match_IntBadPattern_FailsToCompile()
    {
        Assert.Contains("'x' is not a valid integer", Assert.Throws<FormatException>(() => Compile("int(1) x")).Message, StringComparison.Ordinal);
        Assert.Contains("operator 'gt' expects a number", Assert.Throws<FormatException>(() => Compile("int(1) gt")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.1.2.3", "src 10.1.2.3", true)]
    [InlineData("10.1.2.3", "src 10.1.2.4", false)]
    [InlineData("10.1.2.3", "src 10.0.0.0/8", true)]
    [InlineData("10.1.2.3", "src 10.1.2.0/24", true)]
    [InlineData("10.1.3.3", "src 10.1.2.0/24", false)]
    [InlineData("10.1.2.3", "src 10.1.2.2/31", true)]
    [InlineData("10.1.2.4", "src 10.1.2.2/31", false)]
    [InlineData("10.1.2.3", "src 10.1.0.0/255.255.0.0", true)]
    [InlineData("10.2.2.3", "src 10.1.0.0/255.255.0.0", false)]
    [InlineData("10.1.2.3", "src 192.168.0.0/16 172.16.0.0/12 10.0.0.0/8", true)]
    [InlineData("8.8.8.8", "src 192.168.0.0/16 172.16.0.0/12 10.0.0.0/8", false)]
    [InlineData("8.8.8.8", "src 0.0.0.0/0", true)]
    [InlineData("::ffff:10.1.2.3", "src 10.0.0.0/8", true)]
    [InlineData("2001:db8::1", "src 2001:db8::/32", true)]
    [InlineData("2001:db9::1", "src 2001:db8::/32", false)]
    [InlineData("2001:db8::1", "src 10.0.0.0/8", false)]
    [InlineData("10.1.2.3", "src 2001:db8::/32", false)]
    [InlineData("10.1.2.3", "str(10.1.2.3) -m ip 10.1.2.0/24", true)]
    public void Match_Ip_AddressesAndMasks(string source, string body, bool expected)
    {
        var ctx = new TestSampleContext { Source = new IPEndPoint(IPAddress.Parse(source), 1234) };
        Assert.Equal(expected, Matches(body, ctx));
    }

    [Theory]
    [InlineData("src 10.0.0.300")]
    [InlineData("src 10.0.0.0/33")]
    [InlineData("src 10.0.0.0/255.0.255.0")]
    [InlineData("src 2001:db8::/129")]
    [InlineData("src example.com")]
    public void Match_IpBadPattern_FailsToCompile(string body)
    {
        Assert.Throws<FormatException>(() => Compile(body));
    }

    [Theory]
    [InlineData("str(abcd),length gt 3", "192.0.2.10", true)]
    [InlineData("str(abcd),length 4", "192.0.2.10", true)]
    [InlineData("str(abcd),length 1:3", "192.0.2.10", false)]
    [InlineData("src,ipmask(24) 192.0.2.0/24", "192.0.2.10", true)]
    [InlineData("src,ipmask(24) 192.0.2.0", "192.0.2.10", true)]
    [InlineData("src,ipmask(24) 192.0.3.0/24", "192.0.2.10", false)]
    [InlineData("src,lower 192.0.2.10", "192.0.2.10", true)]
    public void Match_DefaultMethod_FollowsTheLastConverterType(string body, string source, bool expected)
    {
        var ctx = new TestSampleContext { Source = new IPEndPoint(IPAddress.Parse(source), 1) };
        Assert.Equal(expected, Matches(body, ctx));
    }

    [Theory]
    [InlineData("always_true", true)]
    [InlineData("always_false", false)]
    [InlineData("int(1) -m bool", true)]
    [InlineData("int(0) -m bool", false)]
    [InlineData("str(x) -m bool", true)]
    public void Match_Bool_IsTheSampleTruth(string body, bool expected)
    {
        Assert.Equal(expected, Matches(body));
    }

    [Theory]
    [InlineData("str(abc)")]
    [InlineData("src")]
    [InlineData("int(1)")]
    [InlineData("str(abc) -m sub")]
    public void Match_NoPattern_NeverMatches(string body)
    {
        Assert.False(Matches(body));
    }

    [Fact]
    public void Match_MissingSample_NeverMatches()
    {
        var ctx = new TestSampleContext { ServerName = null, Source = null };
        Assert.False(Matches("srv_name -m sub a", ctx));
        Assert.False(Matches("src 0.0.0.0/0", ctx));
    }

    [Fact]
    public void Match_UnknownMethod_FailsToCompile()
    {
        Assert.Contains("unknown match method 'fuzzy'", Assert.Throws<FormatException>(() => Compile("str(a) -m fuzzy a")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Match_ReqLen_ReadsTheRequestBuffer()
    {
        var acl = Compile("req.len ge 4");
        Assert.False(acl.Matches(new TestSampleContext { Content = Encoding.ASCII.GetBytes("abc") }));
        Assert.True(acl.Matches(new TestSampleContext { Content = Encoding.ASCII.GetBytes("abcd") }));
    }

    [Fact]
    public void Match_PatternFile_AddsItsLines()
    {
        string file = Path.Combine(Path.GetTempPath(), $"halua-acl-{Guid.NewGuid():N}.lst");
        File.WriteAllText(file, "# blocked clients\n192.0.2.0/24\n\n  203.0.113.7\r\n");
        try
        {
            var acl = Compile($"src -f {file} 10.9.9.9");
            Assert.True(acl.Matches(new TestSampleContext { Source = new IPEndPoint(IPAddress.Parse("192.0.2.200"), 1) }));
            Assert.True(acl.Matches(new TestSampleContext { Source = new IPEndPoint(IPAddress.Parse("203.0.113.7"), 1) }));
            Assert.True(acl.Matches(new TestSampleContext { Source = new IPEndPoint(IPAddress.Parse("10.9.9.9"), 1) }));
            Assert.False(acl.Matches(new TestSampleContext { Source = new IPEndPoint(IPAddress.Parse("203.0.113.8"), 1) }));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Match_PatternFile_TrailingBlanksArePartOfThePattern()
    {
        // As HAProxy: only leading blanks are skipped ("203.0.113.7  " is refused there too).
        string file = Path.Combine(Path.GetTempPath(), $"halua-acl-{Guid.NewGuid():N}.lst");
        File.WriteAllText(file, "192.0.2.0/24\n203.0.113.7  \n");
        try
        {
            var ex = Assert.Throws<FormatException>(() => Compile($"src -f {file}"));
            Assert.Contains("'203.0.113.7  ' is not a valid IPv4 or IPv6 address at line 2 of file", ex.Message, StringComparison.Ordinal);
            Assert.True(Compile($"str(\"203.0.113.7  \") -f {file}").Matches(new TestSampleContext()));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Match_MissingPatternFile_FailsToCompile()
    {
        var ex = Assert.Throws<FormatException>(() => Compile("src -f /nonexistent/halua/patterns.lst"));
        Assert.Contains("failed to open pattern file", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TRUE", "10.0.0.1", true)]
    [InlineData("FALSE", "10.0.0.1", false)]
    [InlineData("LOCALHOST", "127.0.0.1", true)]
    [InlineData("LOCALHOST", "127.9.9.9", true)]
    [InlineData("LOCALHOST", "::1", true)]
    [InlineData("LOCALHOST", "10.0.0.1", false)]
    [InlineData("WAIT_END", "10.0.0.1", true)]
    public void Predefined_Acls(string name, string source, bool expected)
    {
        var ctx = new TestSampleContext { Source = new IPEndPoint(IPAddress.Parse(source), 1) };
        Assert.Equal(expected, Acl.Predefined(name, Registry).Matches(ctx));
    }

    [Fact]
    public void Predefined_ReqContent_IsWhetherDataIsBuffered()
    {
        var acl = Acl.Predefined("REQ_CONTENT", Registry);
        Assert.False(acl.Matches(new TestSampleContext()));
        Assert.True(acl.Matches(new TestSampleContext { Content = [1] }));
        Assert.Throws<FormatException>(() => Acl.Predefined("NOPE", Registry));
    }
}
