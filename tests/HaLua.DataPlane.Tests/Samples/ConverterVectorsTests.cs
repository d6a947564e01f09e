using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Tests.Samples;

/// <summary>
/// Converters against values HAProxy 2.6.12 itself printed for the same expressions
/// (http-request return lf-string "%[str(hello),crc32]"...), so the hashes match HAProxy's bit for bit.
/// </summary>
public class ConverterVectorsTests
{
    private static readonly SampleRegistry Registry = SampleRegistry.CreateDefault();

    private static string Eval(string expression)
    {
        var expr = SampleExpression.Parse(expression, Registry);
        Assert.True(expr.TryEvaluate(new TestSampleContext(), out var v), $"no sample for {expression}");
        return v.AsString;
    }

    [Theory]
    [InlineData("str(hello),crc32", "907060870")]
    [InlineData("int(1700000000),utime(%Y-%m-%d %H:%M:%S %a %A %b %B %j %e %y %p %I %u %w %z %Z %s %T %D %F %R %%)", "2023-11-14 22:13:20 Tue Tuesday Nov November 318 14 23 PM 10 2 2 +0000 GMT 1700000000 22:13:20 11/14/23 2023-11-14 22:13 %")]
    [InlineData("int(1700000000),utime(%d/%b/%Y:%H:%M:%S,3600)", "14/Nov/2023:23:13:20")]
    [InlineData("int(5),utime(%C %g %G %V %U %W %n %t %k %l %h %c %x %X %r)", "19 70 1970 01 00 00 \n \t  0 12 Jan Thu Jan  1 00:00:05 1970 01/01/70 00:00:05 12:00:05 AM")]
    [InlineData("str(hello),crc32(1)", "3902247103")]
    [InlineData("str(hello),djb2", "261238937")]
    [InlineData("str(hello),djb2(1)", "1119739105")]
    [InlineData("str(hello),sdbm", "684824882")]
    [InlineData("str(hello),sdbm(1)", "2061535398")]
    [InlineData("str(hello),wt6", "3538347703")]
    [InlineData("str(hello),wt6(1)", "140457739")]
    [InlineData("str(hi),hex", "6869")]
    [InlineData("str(hello!),base64", "aGVsbG8h")]
    [InlineData("str(aGVsbG8h),b64dec", "hello!")]
    [InlineData("str(abcdef),bytes(2,3)", "cde")]
    [InlineData("str(a;b;;c),field(3,;)", "")]
    [InlineData("str(a;b;c),field(-1,;)", "c")]
    [InlineData("str(a;;b;c),word(2,;)", "b")]
    [InlineData("int(7),add(5)", "12")]
    [InlineData("int(7),sub(10)", "-3")]
    [InlineData("int(7),mul(3)", "21")]
    [InlineData("int(7),div(2)", "3")]
    [InlineData("int(7),div(0)", "9223372036854775807")]
    [InlineData("int(7),mod(4)", "3")]
    [InlineData("int(7),mod(0)", "0")]
    [InlineData("int(-7),div(2)", "-3")]
    [InlineData("str(a%2Bb%20c+d),url_dec", "a+b c+d")]
    [InlineData("str(aXbXc),regsub(X,-,g)", "a-b-c")]
    [InlineData("str(aXbXc),regsub(x,-,i)", "a-bXc")]
    public void MatchesHAProxy(string expression, string expected) => Assert.Equal(expected, Eval(expression));

    [Fact]
    public void Json_EscapesQuotesBackslashesAndControls()
    {
        Assert.Equal("a\\\"b\\\\c\\n\\u0001", JsonOf("a\"b\\c\n\u0001"));
    }

    private static string JsonOf(string s)
    {
        var v = Sample.FromString(s);
        var conv = Registry.FindConverter("json")!;
        Assert.True(conv.Convert(new TestSampleContext(), ref v, []));
        return v.AsString;
    }

    [Fact]
    public void Arith_WithAVariable_AndBadInputs()
    {
        var ctx = new TestSampleContext();
        var expr = SampleExpression.Parse("int(10),add(txn.x)", Registry);
        Assert.False(expr.TryEvaluate(ctx, out _));
        ctx.Variables.Set(VariableScope.Txn, "x", Sample.FromInt(5));
        Assert.True(expr.TryEvaluate(ctx, out var v));
        Assert.Equal(15, v.Int);
        Assert.False(SampleExpression.Parse("str(zz),b64dec", Registry).TryEvaluate(ctx, out _));
        Assert.False(SampleExpression.Parse("str(a%zz),url_dec", Registry).TryEvaluate(ctx, out _));
    }
}
