using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Tests.Config;

public sealed class ConfigTokenizerTests
{
    private static readonly Dictionary<string, string> Env = new(StringComparer.Ordinal)
    {
        ["HOST"] = "10.0.0.1",
        ["PORT"] = "8080",
        ["SPACED"] = "a b",
    };

    private static IReadOnlyList<string> Words(string text)
    {
        var (line, error) = ConfigTokenizer.Tokenize(text, new SourceLocation("t.cfg", 7), Env.GetValueOrDefault);
        Assert.Null(error);
        Assert.NotNull(line);
        Assert.Equal(new SourceLocation("t.cfg", 7), line.Location);
        return line.Words;
    }

    private static string Error(string text)
    {
        var (line, error) = ConfigTokenizer.Tokenize(text, new SourceLocation("t.cfg", 1), Env.GetValueOrDefault);
        Assert.Null(line);
        Assert.NotNull(error);
        return error;
    }

    [Fact]
    public void Tokenize_SpacesAndTabs_SeparateWords()
    {
        Assert.Equal(["server", "s1", "1.2.3.4:80", "check"], Words("  server \t s1\t1.2.3.4:80   check  "));
    }

    [Fact]
    public void Tokenize_EmptyOrBlankLine_HasNoWords()
    {
        Assert.Empty(Words(""));
        Assert.Empty(Words(" \t "));
    }

    [Theory]
    [InlineData("# a whole comment line")]
    [InlineData("    # indented comment")]
    public void Tokenize_CommentLine_HasNoWords(string text)
    {
        Assert.Empty(Words(text));
    }

    [Fact]
    public void Tokenize_HashOutsideQuotes_EndsTheLine()
    {
        Assert.Equal(["bind", ":80"], Words("bind :80 # listen here"));
        Assert.Equal(["bind", ":80"], Words("bind :80#glued comment"));
    }

    [Fact]
    public void Tokenize_HashInsideQuotes_IsLiteral()
    {
        Assert.Equal(["a#b", "c#d", "e"], Words("\"a#b\" 'c#d' e"));
    }

    [Fact]
    public void Tokenize_UnquotedBackslashSpace_KeepsOneWord()
    {
        Assert.Equal(["a b", "c"], Words(@"a\ b c"));
    }

    [Fact]
    public void Tokenize_UnquotedBackslashHash_IsLiteralHash()
    {
        Assert.Equal(["a#b", "c"], Words(@"a\#b c # comment"));
    }

    [Theory]
    [InlineData(@"x\ty", "x\ty")]
    [InlineData(@"x\ny", "x\ny")]
    [InlineData(@"x\ry", "x\ry")]
    [InlineData(@"x\\y", @"x\y")]
    [InlineData(@"x\x41y", "xAy")]
    [InlineData(@"x\x7ey", "x~y")]
    [InlineData(@"x\""y", "x\"y")]
    [InlineData(@"x\'y", "x'y")]
    public void Tokenize_UnquotedEscape_GivesCharacter(string text, string expected)
    {
        Assert.Equal([expected], Words(text));
    }

    [Theory]
    [InlineData(@"^\d+\.example\.com$")]
    [InlineData(@"\1")]
    [InlineData(@"\w+\s\S")]
    public void Tokenize_BackslashNotAnEscape_KeepsBackslash(string text)
    {
        // HAProxy leaves other combinations unchanged: regexes keep their meaning.
        Assert.Equal([text], Words(text));
    }

    [Fact]
    public void Tokenize_TrailingBackslash_IsLiteral()
    {
        Assert.Equal(["a", @"b\"], Words(@"a b\"));
    }

    [Fact]
    public void Tokenize_SingleQuotes_KeepEverythingLiterally()
    {
        Assert.Equal([@"a  b\t\ $HOST ${HOST} ""x"" #"], Words(@"'a  b\t\ $HOST ${HOST} ""x"" #'"));
    }

    [Fact]
    public void Tokenize_DoubleQuotes_KeepBlanksAndHash()
    {
        Assert.Equal(["log-tag", "a  b\tc # d"], Words("log-tag \"a  b\tc # d\""));
    }

    [Theory]
    [InlineData(@"""a\""b""", "a\"b")]
    [InlineData(@"""a\\b""", @"a\b")]
    [InlineData(@"""a\tb""", "a\tb")]
    [InlineData(@"""a\x42c""", "aBc")]
    [InlineData(@"""a\$HOST""", "a$HOST")]
    [InlineData(@"""a\'b""", "a'b")]
    [InlineData(@"""\d\.""", @"\d\.")]
    public void Tokenize_DoubleQuotes_HonourBackslashEscapes(string text, string expected)
    {
        Assert.Equal([expected], Words(text));
    }

    [Theory]
    [InlineData("\"${HOST}:${PORT}\"", "10.0.0.1:8080")]
    [InlineData("\"$HOST:$PORT\"", "10.0.0.1:8080")]
    [InlineData("\"${HOST}\"x", "10.0.0.1x")]
    [InlineData("\"${MISSING}\"", "")]
    [InlineData("\"<${MISSING}>\"", "<>")]
    [InlineData("\"${MISSING-fallback}\"", "fallback")]
    [InlineData("\"${HOST-fallback}\"", "10.0.0.1")]
    [InlineData("\"${SPACED}\"", "a b")]
    [InlineData("\"cost: $\"", "cost: $")]
    public void Tokenize_DoubleQuotes_ExpandEnvironment(string text, string expected)
    {
        Assert.Equal([expected], Words(text));
    }

    [Theory]
    [InlineData("${HOST}:${PORT}", "${HOST}:${PORT}")]
    [InlineData("$HOST", "$HOST")]
    [InlineData("a${MISSING-b}c", "a${MISSING-b}c")]
    public void Tokenize_UnquotedVariable_IsLiteral(string text, string expected)
    {
        // As in HAProxy: environment variables are expanded only inside double quotes.
        Assert.Equal([expected], Words(text));
    }

    [Theory]
    [InlineData(@"a\$HOST", "a$HOST")]
    [InlineData(@"""a\${HOST}""", "a${HOST}")]
    public void Tokenize_BackslashDollar_IsALiteralDollar(string text, string expected)
    {
        Assert.Equal([expected], Words(text));
    }

    [Fact]
    public void Tokenize_SingleQuotedVariable_IsNotExpanded()
    {
        Assert.Equal(["${HOST}", "$PORT"], Words("'${HOST}' '$PORT'"));
    }

    [Fact]
    public void Tokenize_WordOfQuotedAndUnquotedParts_IsOneWord()
    {
        Assert.Equal(["abc de f${HOST}g h10.0.0.1", "next"], Words(@"ab""c d""'e f${HOST}'g\ h""${HOST}"" next"));
    }

    [Fact]
    public void Tokenize_EmptyQuotes_AreAnEmptyWord()
    {
        Assert.Equal(["a", "", "b", ""], Words("a \"\" b ''"));
    }

    [Theory]
    [InlineData("a 'b c", "unmatched single quote")]
    [InlineData("a \"b c", "unmatched double quote")]
    [InlineData("a \"${HOST\"", "missing '}'")]
    [InlineData("a \"${A.B}\"", "invalid environment variable name 'A.B'")]
    [InlineData(@"a \x4", "hexadecimal")]
    [InlineData(@"a \xZZ", "hexadecimal")]
    public void Tokenize_Malformed_ReturnsError(string text, string expected)
    {
        Assert.Contains(expected, Error(text), StringComparison.Ordinal);
    }
}
