using System.Net;
using System.Text;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Tests.Samples;

public sealed class SampleExpressionTests
{
    private static readonly SampleRegistry Registry = SampleRegistry.CreateDefault();

    private static Sample Eval(string expression, TestSampleContext? ctx = null)
    {
        Assert.True(TryEval(expression, out var v, ctx), $"'{expression}' gave no value");
        return v;
    }

    private static bool TryEval(string expression, out Sample value, TestSampleContext? ctx = null) =>
        SampleExpression.Parse(expression, Registry).TryEvaluate(ctx ?? new TestSampleContext(), out value);

    private static void AssertStr(string expected, Sample v)
    {
        Assert.Equal(SampleType.Str, v.Type);
        Assert.Equal(expected, v.AsString);
    }

    private static void AssertInt(long expected, Sample v)
    {
        Assert.Equal(SampleType.Int, v.Type);
        Assert.Equal(expected, v.Int);
    }

    [Fact]
    public void Fetch_SrcAndDst_AreAddressesAndPorts()
    {
        var v = Eval("src");
        Assert.Equal(SampleType.Ip, v.Type);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), v.Ip);
        Assert.Equal(IPAddress.Parse("198.51.100.1"), Eval("dst").Ip);
        AssertInt(40000, Eval("src_port"));
        AssertInt(8443, Eval("dst_port"));
    }

    [Fact]
    public void Fetch_Src_IPv4MappedIPv6_IsSeenAsIPv4()
    {
        var ctx = new TestSampleContext { Source = new IPEndPoint(IPAddress.Parse("::ffff:10.9.8.7"), 1) };
        Assert.Equal(IPAddress.Parse("10.9.8.7"), Eval("src", ctx).Ip);
        Assert.Equal("10.9.8.7", Eval("src", ctx).AsString);
    }

    [Fact]
    public void Fetch_NoSourceAddress_GivesNoValue()
    {
        var ctx = new TestSampleContext { Source = null };
        Assert.False(TryEval("src", out _, ctx));
        Assert.False(TryEval("src_port", out _, ctx));
    }

    [Fact]
    public void Fetch_ProxyAndServerNames()
    {
        var ctx = new TestSampleContext { FrontendName = "front", BackendName = "pool", ServerName = "web1" };
        AssertStr("front", Eval("fe_name", ctx));
        AssertStr("pool", Eval("be_name", ctx));
        AssertStr("web1", Eval("srv_name", ctx));
        Assert.False(TryEval("srv_name", out _, new TestSampleContext { ServerName = null }));
        Assert.False(TryEval("be_name", out _, new TestSampleContext { BackendName = null }));
    }

    [Fact]
    public void Fetch_Env_ReadsProcessEnvironment()
    {
        string name = "HALUA_TEST_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, "from-env");
        try
        {
            AssertStr("from-env", Eval($"env({name})"));
            Assert.False(TryEval($"env({name}_UNSET)", out _));
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Theory]
    [InlineData("int(42)", 42)]
    [InlineData("int(-7)", -7)]
    [InlineData("int(0)", 0)]
    public void Fetch_Int_IsConstant(string expression, long expected)
    {
        AssertInt(expected, Eval(expression));
    }

    [Fact]
    public void Fetch_IntNotANumber_GivesNoValue()
    {
        Assert.False(TryEval("int(abc)", out _));
    }

    [Theory]
    [InlineData("str(hello)", "hello")]
    [InlineData("str(\"a,b\")", "a,b")]
    [InlineData("str('x y')", "x y")]
    [InlineData(@"str(a\,b\))", "a,b)")]
    public void Fetch_Str_IsConstant(string expression, string expected)
    {
        AssertStr(expected, Eval(expression));
    }

    [Fact]
    public void Fetch_AlwaysTrueAlwaysFalse_AreBooleans()
    {
        Assert.Equal(SampleType.Bool, Eval("always_true").Type);
        Assert.True(Eval("always_true").AsBool);
        Assert.False(Eval("always_false").AsBool);
    }

    [Fact]
    public void Fetch_ReqLen_IsBufferedRequestLength()
    {
        var ctx = new TestSampleContext { Content = Encoding.ASCII.GetBytes("HELO x\r\n") };
        AssertInt(8, Eval("req.len", ctx));
        AssertInt(8, Eval("req_len", ctx));
        AssertInt(0, Eval("req.len"));
    }

    [Fact]
    public void Fetch_Nbsrv_CountsUsableServersOfABackend()
    {
        var ctx = new TestSampleContext { BackendName = "be", Backends = new(StringComparer.Ordinal) { ["be"] = 3, ["other"] = 0 } };
        AssertInt(3, Eval("nbsrv", ctx));
        AssertInt(0, Eval("nbsrv(other)", ctx));
        Assert.False(TryEval("nbsrv(nosuch)", out _, ctx));
    }

    [Fact]
    public void Fetch_Rand_StaysInRange()
    {
        var seen = new HashSet<long>();
        for (int i = 0; i < 200; i++)
        {
            var v = Eval("rand(4)");
            Assert.InRange(v.Int, 0, 3);
            seen.Add(v.Int);
        }

        Assert.Equal(4, seen.Count);
    }

    [Fact]
    public void Fetch_Date_IsUnixTimeWithOffset()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.InRange(Eval("date").Int, now - 1, now + 2);
        Assert.InRange(Eval("date(3600)").Int, now + 3599, now + 3602);
        Assert.InRange(Eval("date(-60)").Int, now - 61, now - 58);
    }

    [Theory]
    [InlineData("str(HeLLo),lower", "hello")]
    [InlineData("str(HeLLo),upper", "HELLO")]
    [InlineData("fe_name,upper", "FE")]
    [InlineData("str(MiXeD),lower,upper", "MIXED")]
    public void Converter_LowerUpper(string expression, string expected)
    {
        AssertStr(expected, Eval(expression));
    }

    [Theory]
    [InlineData("str(hello),length", 5)]
    [InlineData("int(12345),length", 5)]
    [InlineData("src,length", 10)]
    public void Converter_Length(string expression, long expected)
    {
        AssertInt(expected, Eval(expression));
    }

    [Theory]
    [InlineData("src,ipmask(24)", "192.0.2.0")]
    [InlineData("src,ipmask(16)", "192.0.0.0")]
    [InlineData("src,ipmask(32)", "192.0.2.10")]
    [InlineData("src,ipmask(0)", "0.0.0.0")]
    [InlineData("src,ipmask(255.255.255.0)", "192.0.2.0")]
    [InlineData("src,ipmask(255.255.255.252)", "192.0.2.8")]
    [InlineData("str(10.1.2.3),ipmask(8)", "10.0.0.0")]
    public void Converter_IpMask_IPv4(string expression, string expected)
    {
        var v = Eval(expression);
        Assert.Equal(SampleType.Ip, v.Type);
        Assert.Equal(IPAddress.Parse(expected), v.Ip);
    }

    [Fact]
    public void Converter_IpMask_IPv6UsesSecondMask()
    {
        var ctx = new TestSampleContext { Source = new IPEndPoint(IPAddress.Parse("2001:db8:1:2:3:4:5:6"), 1) };
        Assert.Equal(IPAddress.Parse("2001:db8:1::"), Eval("src,ipmask(24,48)", ctx).Ip);
        Assert.Equal(IPAddress.Parse("2001:db8:1:2:3:4:5:6"), Eval("src,ipmask(24)", ctx).Ip);
    }

    [Theory]
    [InlineData("str(not-an-ip),ipmask(24)")]
    [InlineData("src,ipmask(33)")]
    [InlineData("src,ipmask(x)")]
    public void Converter_IpMask_BadInputOrMask_GivesNoValue(string expression)
    {
        Assert.False(TryEval(expression, out _));
    }

    [Fact]
    public void OutputType_IsTheTypeOfTheLastStep()
    {
        Assert.Equal(SampleType.Ip, SampleExpression.Parse("src", Registry).OutputType);
        Assert.Equal(SampleType.Int, SampleExpression.Parse("req.len", Registry).OutputType);
        Assert.Equal(SampleType.Bool, SampleExpression.Parse("always_true", Registry).OutputType);
        Assert.Equal(SampleType.Str, SampleExpression.Parse("src,lower", Registry).OutputType);
        Assert.Equal(SampleType.Int, SampleExpression.Parse("str(abc),length", Registry).OutputType);
        Assert.Equal(SampleType.Ip, SampleExpression.Parse("src,ipmask(24)", Registry).OutputType);
        Assert.Equal(SampleType.Str, SampleExpression.Parse("src,ipmask(24),upper", Registry).OutputType);
        Assert.Equal("src", SampleExpression.Parse(" src , lower", Registry).FetchName);
    }

    [Theory]
    [InlineData("nosuch", "unknown fetch method 'nosuch'")]
    [InlineData("src,nosuch", "unknown converter 'nosuch'")]
    [InlineData("src(1)", "'src' expects 0 argument(s), got 1")]
    [InlineData("int", "'int' expects 1 argument(s), got 0")]
    [InlineData("nbsrv(a,b)", "'nbsrv' expects 0 to 1 arguments, got 2")]
    [InlineData("src,ipmask", "'ipmask' expects 1 to 2 arguments, got 0")]
    [InlineData("str(abc", "missing ')'")]
    [InlineData("str(\"abc)", "unterminated quote")]
    [InlineData("str(a)x", "unexpected 'x'")]
    [InlineData(",lower", "missing name")]
    [InlineData("", "empty expression")]
    public void Parse_Malformed_ThrowsWithReason(string expression, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => SampleExpression.Parse(expression, Registry));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registry_LuaEntries_AreFoundButNotListedAsBuiltins()
    {
        var registry = SampleRegistry.CreateDefault();
        registry.Add(new FetchDescriptor("lua.answer", 0, 0, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            v = Sample.FromInt(42);
            return true;
        }));
        registry.Add(new ConverterDescriptor("lua.twice", 0, 0, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) =>
        {
            v = Sample.FromString(v.AsString + v.AsString);
            return true;
        }));

        Assert.True(SampleExpression.Parse("lua.answer,lua.twice", registry).TryEvaluate(new TestSampleContext(), out var v));
        Assert.Equal("4242", v.AsString);
        Assert.DoesNotContain("lua.answer", registry.FetchNames);
        Assert.DoesNotContain("lua.twice", registry.ConverterNames);
        Assert.Contains("src", registry.FetchNames);
        Assert.Contains("ipmask", registry.ConverterNames);
    }
}
