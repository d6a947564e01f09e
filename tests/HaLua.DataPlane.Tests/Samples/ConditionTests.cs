using System.Net;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Tests.Samples;

public sealed class ConditionTests
{
    private static readonly SampleRegistry Registry = SampleRegistry.CreateDefault();

    /// <summary>Compiles <c>use_backend be COND</c> against a frontend with ACLs yes, no, local and multi.</summary>
    private static Condition Compile(string condition)
    {
        var result = ConfigParser.Parse($"""
            frontend fe
                bind :8000
                acl yes always_true
                acl no always_false
                acl local src 127.0.0.0/8
                acl multi str(b) a
                acl multi str(b) b
                use_backend be {condition}
            backend be
            """, "cond.cfg", _ => null);
        Assert.Empty(result.Errors.Select(e => e.ToString()));
        var fe = result.Config!.Proxies[0];
        return Condition.Compile(Assert.Single(fe.UseBackends).Condition!, fe.Acls, Registry);
    }

    private static bool Eval(string condition, string source = "10.0.0.1") =>
        Compile(condition).Evaluate(new TestSampleContext { Source = new IPEndPoint(IPAddress.Parse(source), 1) });

    [Theory]
    [InlineData("if yes", true)]
    [InlineData("if no", false)]
    [InlineData("unless yes", false)]
    [InlineData("unless no", true)]
    public void Evaluate_IfUnless(string condition, bool expected)
    {
        Assert.Equal(expected, Eval(condition));
    }

    [Theory]
    [InlineData("if !no", true)]
    [InlineData("if !yes", false)]
    [InlineData("if ! no", true)]
    [InlineData("if ! yes", false)]
    [InlineData("unless !yes", true)]
    public void Evaluate_Negation(string condition, bool expected)
    {
        Assert.Equal(expected, Eval(condition));
    }

    [Theory]
    [InlineData("if yes yes", true)]
    [InlineData("if yes no", false)]
    [InlineData("if no yes", false)]
    [InlineData("if yes !no yes", true)]
    [InlineData("unless yes no", true)]
    public void Evaluate_ImplicitAnd(string condition, bool expected)
    {
        Assert.Equal(expected, Eval(condition));
    }

    [Theory]
    [InlineData("if no || yes", true)]
    [InlineData("if yes || no", true)]
    [InlineData("if no || no", false)]
    [InlineData("if no or yes", true)]
    [InlineData("if no || no || yes", true)]
    [InlineData("unless no || yes", false)]
    public void Evaluate_Or(string condition, bool expected)
    {
        Assert.Equal(expected, Eval(condition));
    }

    [Theory]
    [InlineData("if yes no || yes", true)]
    [InlineData("if yes no || no", false)]
    [InlineData("if no || yes no", false)]
    [InlineData("if no || yes !no", true)]
    [InlineData("if !yes || !no yes", true)]
    public void Evaluate_AndBindsTighterThanOr(string condition, bool expected)
    {
        Assert.Equal(expected, Eval(condition));
    }

    [Theory]
    [InlineData("if local", "127.0.0.1", true)]
    [InlineData("if local", "10.0.0.1", false)]
    [InlineData("if !local", "10.0.0.1", true)]
    [InlineData("if local yes", "127.0.0.1", true)]
    [InlineData("if LOCALHOST", "127.0.0.1", true)]
    [InlineData("if TRUE !FALSE", "10.0.0.1", true)]
    public void Evaluate_UsesStreamValues(string condition, string source, bool expected)
    {
        Assert.Equal(expected, Eval(condition, source));
    }

    [Theory]
    [InlineData("if { src 10.0.0.0/8 }", true)]
    [InlineData("if { src 192.168.0.0/16 }", false)]
    [InlineData("if !{ src 192.168.0.0/16 }", true)]
    [InlineData("if ! { src 10.0.0.0/8 }", false)]
    [InlineData("if { str(abc) -m beg ab } { int(3) gt 2 }", true)]
    [InlineData("if { str(abc) -m beg x } || { int(3) gt 2 }", true)]
    [InlineData("if { str(ABC) -i abc } yes", true)]
    public void Evaluate_AnonymousAcls(string condition, bool expected)
    {
        Assert.Equal(expected, Eval(condition));
    }

    [Fact]
    public void Evaluate_SameAclNameOnSeveralLines_IsOr()
    {
        // multi: str(b) matches 'a' (no) or 'b' (yes).
        Assert.True(Eval("if multi"));
        Assert.False(Eval("if !multi"));
    }

    [Fact]
    public void Compile_AnonymousAclWithBadFetch_Throws()
    {
        var ex = Assert.Throws<FormatException>(() => Compile("if { nosuch_fetch x }"));
        Assert.Contains("unknown fetch method 'nosuch_fetch'", ex.Message, StringComparison.Ordinal);
    }
}
