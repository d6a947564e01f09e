using System.Net;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Maps;
using HaLua.DataPlane.Samples;
using HaLua.DataPlane.Tests.Samples;

namespace HaLua.DataPlane.Tests.Maps;

public sealed class MapConverterTests : IDisposable
{
    private readonly TempFiles _files = new();
    private readonly SampleRegistry _registry = SampleRegistry.CreateDefault();

    public MapConverterTests()
    {
        _files.Write("paths.map", "/api api\n/api/v2 v2\n/static static\n");
        _files.Write("hosts.map", "example.com be_example\nwww.example.org be_org\n");
        _files.Write("nets.map", "10.0.0.0/8 10\n192.0.2.0/24 192\n2001:db8::/32 6\n");
        _files.Write("addrs.map", "a 192.0.2.1\nb 2001:db8::1\n");
        _files.Write("ports.map", "80 http\n443 https\n1024:65535 high\n");
        _files.Write("mixed.map", "a 1\nb x\n");
        _files.Write("hosts.lst", "example.com\n");
    }

    public void Dispose() => _files.Dispose();

    private string F(string name) => _files[name];

    private Sample? Eval(string expression, TestSampleContext? ctx = null)
        => SampleExpression.Parse(expression.Replace("{DIR}", _files.Dir, StringComparison.Ordinal), _registry).TryEvaluate(ctx ?? new TestSampleContext(), out var v) ? v : null;

    [Theory]
    [InlineData("str(/api/v2/users),map_beg({DIR}/paths.map)", "v2")]
    [InlineData("str(/api/v1),map_beg({DIR}/paths.map,none)", "api")]
    [InlineData("str(/other),map_beg({DIR}/paths.map,none)", "none")]
    [InlineData("str(example.com),map({DIR}/hosts.map,default)", "be_example")]
    [InlineData("str(EXAMPLE.com),lower,map({DIR}/hosts.map,default)", "be_example")]
    [InlineData("str(www.example.com),map_str({DIR}/hosts.map,default)", "default")]
    [InlineData("str(www.example.com),map_dom({DIR}/hosts.map,default)", "be_example")]
    [InlineData("str(/x/static/y),map_dir({DIR}/paths.map)", "static")]
    [InlineData("str(/x/static),map_end({DIR}/paths.map)", "static")]
    [InlineData("str(a/api/v2),map_sub({DIR}/paths.map)", "api")]
    [InlineData("str(/static/x),map_reg({DIR}/paths.map)", "static")]
    [InlineData("str(10.1.2.3),map_ip({DIR}/nets.map)", "10")]
    [InlineData("src,map_ip({DIR}/nets.map)", "192")]
    [InlineData("dst_port,map_int({DIR}/ports.map,low)", "high")]
    [InlineData("int(80),map_int({DIR}/ports.map,low)", "http")]
    [InlineData("str(443),map_int({DIR}/ports.map,low)", "https")]
    [InlineData("int(22),map_int({DIR}/ports.map,low)", "low")]
    public void Map_AsString(string expression, string expected)
    {
        var v = Eval(expression);
        Assert.NotNull(v);
        Assert.Equal(SampleType.Str, v.Value.Type);
        Assert.Equal(expected, v.Value.AsString);
    }

    [Theory]
    [InlineData("str(/other),map_beg({DIR}/paths.map)")]
    [InlineData("str(not-an-ip),map_ip({DIR}/nets.map,default)")]
    [InlineData("str(nan),map_int({DIR}/ports.map,default)")]
    public void Map_NoMatchWithoutDefault_OrInputThatDoesNotCast_GivesNoSample(string expression)
    {
        Assert.Null(Eval(expression));
    }

    [Fact]
    public void Map_TypedOutputs()
    {
        var i = Eval("str(10.9.9.9),map_ip_int({DIR}/nets.map,0)");
        Assert.Equal(Sample.FromInt(10), i);
        Assert.Equal(Sample.FromInt(-1), Eval("str(8.8.8.8),map_ip_int({DIR}/nets.map,-1)"));
        Assert.Equal(Sample.FromIp(IPAddress.Parse("2001:db8::1")), Eval("str(b),map_str_ip({DIR}/addrs.map)"));
        Assert.Equal(Sample.FromIp(IPAddress.Parse("127.0.0.1")), Eval("str(zz),map_ip({DIR}/addrs.map,127.0.0.1)".Replace("map_ip", "map_str_ip", StringComparison.Ordinal)));
        Assert.Equal(SampleType.Int, _registry.FindConverter("map_beg_int")!.Output);
        Assert.Equal(SampleType.Ip, _registry.FindConverter("map_int_ip")!.Output);
        Assert.Null(_registry.FindConverter("map_str_str"));
    }

    [Theory]
    [InlineData("str(a),map_str_int({DIR}/mixed.map)", "unable to parse 'x' at line 2 of file")]
    [InlineData("str(a),map_str_int({DIR}/ports.map,zero)", "unable to parse 'http' at line 1 of file")]
    [InlineData("str(a),map_str_int({DIR}/paths.map,zero)", "unable to parse 'api' at line 1")]
    [InlineData("str(a),map_beg_int({DIR}/nets.map,zero)", "default value 'zero' of 'map_beg_int' is not a valid integer")]
    [InlineData("str(a),map_str_ip({DIR}/nets.map,nowhere)", "unable to parse '10'")]
    [InlineData("str(a),map_ip({DIR}/hosts.map)", "'example.com' is not a valid IPv4 or IPv6 address at line 1 of file")]
    [InlineData("str(a),map_int({DIR}/hosts.map)", "'example.com' is not a valid integer at line 1 of file")]
    [InlineData("str(a),map_str({DIR}/missing.map)", "failed to open pattern file")]
    [InlineData("str(a),map_str({DIR}/hosts.lst)", "already used as a pattern file")]
    public void Map_BadFileValueOrDefault_IsACompileErrorNamingTheConverter(string expression, string message)
    {
        _ = Acl.Compile(new AclConfig("x", "str(a)", ["-f", F("hosts.lst")], [], default), _registry);
        var ex = Assert.Throws<FormatException>(() => Eval(expression));
        Assert.StartsWith("converter 'map_", ex.Message, StringComparison.Ordinal);
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Map_SharedReference_RuntimeChangesSeenByEveryUser()
    {
        var beg = SampleExpression.Parse($"str(/new/x),map_beg({F("paths.map")},none)", _registry);
        var str = SampleExpression.Parse($"str(/new),map({F("paths.map")},none)", _registry);
        var ctx = new TestSampleContext();
        Assert.True(beg.TryEvaluate(ctx, out var v) && v.AsString == "none");
        Assert.Equal(PatternEditResult.Done(1), _registry.Patterns.Add(F("paths.map"), "/new", "fresh"));
        Assert.True(beg.TryEvaluate(ctx, out v) && v.AsString == "fresh");
        Assert.True(str.TryEvaluate(ctx, out v) && v.AsString == "fresh");
        Assert.Single(_registry.Patterns.List());
    }

    [Fact]
    public void Map_Unbound_AsLuaCallsIt_OnlyALoadedMap()
    {
        var conv = _registry.FindConverter("map_beg")!;
        var v = Sample.FromString("/api/v2/x");
        Assert.False(conv.Convert(new TestSampleContext(), ref v, [F("paths.map"), "d"]));
        _ = SampleExpression.Parse($"str(x),map_str({F("paths.map")})", _registry);
        Assert.True(conv.Convert(new TestSampleContext(), ref v, [F("paths.map"), "d"]));
        Assert.Equal("v2", v.AsString);
    }

    [Fact]
    public void Acl_FileAndMapFile_ShareTheStore_AndSeeRuntimeChanges()
    {
        var acl = Acl.Compile(new AclConfig("x", "req.hdr(host)", ["-i", "-m", "dom", "-f", F("hosts.lst")], [], default), _registry);
        var byKey = Acl.Compile(new AclConfig("y", "str(www.example.org)", ["-M", "-f", F("hosts.map")], [], default), _registry);
        Assert.True(byKey.Matches(new TestSampleContext()));
        var sample = Acl.Compile(new AclConfig("z", "str(WWW.Example.COM)", ["-i", "-m", "dom", "-f", F("hosts.lst")], [], default), _registry);
        Assert.True(sample.Matches(new TestSampleContext()));
        Assert.Equal(PatternEditResult.Done(1), _registry.Patterns.Delete(F("hosts.lst"), "example.com"));
        Assert.False(sample.Matches(new TestSampleContext()));
        Assert.Equal(PatternEditResult.Done(1), _registry.Patterns.Add(F("hosts.lst"), "COM", null));
        Assert.True(sample.Matches(new TestSampleContext()));
        Assert.NotNull(acl);
    }
}
