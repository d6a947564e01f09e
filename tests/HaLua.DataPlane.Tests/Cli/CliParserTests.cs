using HaLua.DataPlane.Cli;

namespace HaLua.DataPlane.Tests.Cli;

public class CliParserTests
{
    [Theory]
    [InlineData("a;b", new[] { "a", "b" })]
    [InlineData("a;;b", new[] { "a", "", "b" })]
    [InlineData("a\\;b;c", new[] { "a\\;b", "c" })]
    [InlineData("", new[] { "" })]
    public void SplitCommands_UnescapedSemicolons_SeparateCommands(string line, string[] expected)
        => Assert.Equal(expected, CliParser.SplitCommands(line));

    [Theory]
    [InlineData("  get   weight\tapp/a ", new[] { "get", "weight", "app/a" })]
    [InlineData("get\\ weight x", new[] { "get weight", "x" })]
    [InlineData("a\\;b c\\\\d", new[] { "a;b", "c\\d" })]
    [InlineData("'quoted words'", new[] { "'quoted", "words'" })]
    [InlineData("", new string[0])]
    public void Words_BlanksSeparate_BackslashEscapesTheNextCharacter(string command, string[] expected)
        => Assert.Equal(expected, CliParser.Words(command));

    [Fact]
    public void Words_MoreThanHaproxysLimit_AreCut()
        => Assert.Equal(CliParser.MaxWords, CliParser.Words(string.Join(' ', Enumerable.Range(0, 100))).Length);

    [Theory]
    [InlineData("add map m <<", true, "add map m ")]
    [InlineData("add map m <<  ", true, "add map m ")]
    [InlineData("<<", true, "")]
    [InlineData("add map m a<<", false, "add map m a<<")]
    [InlineData("show map", false, "show map")]
    public void HasPayloadMarker_OnlyAsTheLastWord(string line, bool expected, string head)
    {
        Assert.Equal(expected, CliParser.HasPayloadMarker(line, out string h));
        Assert.Equal(head, h);
    }

    [Fact]
    public void Fingerprint_CloseWordsAreCloserThanOthers()
    {
        int Distance(string x, string y)
        {
            var a = new byte[1024];
            var b = new byte[1024];
            CliHelp.Fingerprint(a, x);
            CliHelp.Fingerprint(b, y);
            return CliHelp.Distance(a, b);
        }

        Assert.Equal(0, Distance("weight", "weight"));
        Assert.True(Distance("wieght", "weight") < Distance("wieght", "frontend"));
        Assert.True(Distance("sever", "server") < Distance("sever", "map"));
    }
}
