using System.Diagnostics;

namespace HaLua.DataPlane.Tests.Lua;

/// <summary>
/// The Regex class against what HAProxy 2.6.12 (PCRE2 10.42, JIT) answers for the same calls:
/// every expected value here was observed there.
/// </summary>
public class RegexClassTests
{
    private const string Show = """
        local function show(ok, t)
          if t == nil then return tostring(ok) end
          local parts = {}
          for i, v in ipairs(t) do parts[i] = v end
          return tostring(ok) .. " {" .. table.concat(parts, "|") .. "}"
        end
        """;

    [Fact]
    public void Regex_SpecExample_ReturnsWhatTheSpecPrints()
    {
        using var host = new LuaTestHost("""
            local st, regex = Regex.new("needle (..) (...)", true)
            assert(st == true and type(regex) == "table" and type(regex[0]) == "userdata")
            assert(regex:exec("Looking for a needle in the haystack") == true)
            assert(regex:exec("Lokking for a cat in the haystack") == false)
            local ok, list = regex:match("Looking for a needle in the haystack")
            assert(ok == true and list[1] == "needle in the" and list[2] == "in" and list[3] == "the" and list[4] == nil)
            ok, list = regex:match("Lokking for a cat in the haystack")
            assert(ok == false and next(list) == nil)
            -- The spec's Regex.exec(regex, str) form.
            assert(Regex.exec(regex, "a needle in the x") == true)
            assert(Regex.match(regex, "no") == false)
            """);
        Assert.Empty(host.Errors);
    }

    [Theory]
    [InlineData("a(b", "regex 'a(b' is invalid (error=")]
    [InlineData("[z-a]", "regex '[z-a]' is invalid (error=")]
    [InlineData("(?R)", "is invalid")]
    [InlineData("[[:nope:]]", "unknown POSIX class name 'nope'")]
    [InlineData(@"\x{100}", "too large")]
    public void New_InvalidPattern_ReturnsFalseAndTheReason(string pattern, string reason)
    {
        using var host = new LuaTestHost($$"""
            local st, why = Regex.new([==[{{pattern}}]==], true)
            assert(st == false, "compiled")
            assert(type(why) == "string")
            assert(why:find([==[{{reason}}]==], 1, true), why)
            """);
        Assert.Empty(host.Errors);
    }

    [Theory]
    [InlineData("nil")]
    [InlineData("1")]
    [InlineData("'true'")]
    public void New_CaseSensitiveNotBoolean_IsLuaError(string argument)
    {
        using var host = new LuaTestHost($"""
            local ok, e = pcall(Regex.new, "a", {argument})
            assert(not ok)
            assert(e:find("Regex.new: bad argument #2 (boolean expected", 1, true), e)
            """);
        Assert.Empty(host.Errors);
    }

    /// <summary>PCRE syntax and semantics that .NET reads differently, each observed on HAProxy 2.6.</summary>
    [Theory]
    [InlineData("AbC", false, "xxABcxx", "true {ABc}")]
    [InlineData("AbC", true, "xxabcxx", "false {}")]
    [InlineData("(a)|(b)", true, "b", "true {b}")] // the list stops at the first group that did not match
    [InlineData("(a)|(b)", true, "a", "true {a|a}")]
    [InlineData("(a)?(b)", true, "b", "true {b}")]
    [InlineData("^abc$", true, "abc\n", "true {abc}")]
    [InlineData("a.c", true, "a\nc", "false {}")]
    [InlineData("^b", true, "a\nb", "false {}")]
    [InlineData("(?<y>\\d{4})-(?<m>\\d\\d)", true, "on 2024-05-01", "true {2024-05|2024|05}")]
    [InlineData("(?<n>x)(y)", true, "xy", "true {xy|x|y}")] // named groups keep PCRE's numbering
    [InlineData("(?P<n>a)(?P=n)", true, "aa", "true {aa|a}")]
    [InlineData("(?<n>a)\\k{n}\\g{-1}\\g1", true, "aaaa", "true {aaaa|a}")]
    [InlineData("(?<n>x)(y)\\2", true, "xyy", "true {xyy|x|y}")]
    [InlineData("a.*?b", true, "aXbYb", "true {aXb}")]
    [InlineData("\\bfoo\\b", true, "a foo b", "true {foo}")]
    [InlineData("\\bfoo\\b", true, "afoob", "false {}")]
    [InlineData("[[:digit:]]+", true, "ab123c", "true {123}")]
    [InlineData("[[:alpha:][:digit:]]+", true, "-ab12-", "true {ab12}")]
    [InlineData("[[:^alpha:]]+", true, "ab12-cd", "true {12-}")]
    [InlineData("\\w+", true, "\u00e9a", "true {a}")] // \w is ASCII: not the bytes of "é"
    [InlineData("\\d+", true, "\u0663 42", "true {42}")]
    [InlineData("\\s", true, "a\u00a0b", "false {}")]
    [InlineData("\\x41", true, "A", "true {A}")]
    [InlineData("\\x{41}\\o{102}", true, "AB", "true {AB}")]
    [InlineData("\\Qa.b\\E", true, "axb a.b", "true {a.b}")]
    [InlineData("[\\Q]\\E-]+", true, "x]-]x", "true {]-]}")]
    [InlineData("foo(?=bar)", true, "foobar", "true {foo}")]
    [InlineData("(a)\\1", true, "aa", "true {aa|a}")]
    [InlineData("a++b", true, "aab", "true {aab}")]
    [InlineData("a*+a", true, "aaa", "false {}")] // possessive: gives nothing back
    [InlineData("(?:ab){1,2}+b", true, "ababb", "true {ababb}")]
    [InlineData("(x|y)?+z", true, "yz", "true {yz|y}")]
    [InlineData("", true, "abc", "true {}")]
    public void Match_PcreSyntax_AsHaproxy(string pattern, bool caseSensitive, string subject, string expected)
    {
        using var host = new LuaTestHost($$"""
            {{Show}}
            local st, re = Regex.new([==[{{pattern}}]==], {{(caseSensitive ? "true" : "false")}})
            assert(st, re)
            local got = show(re:match([==[{{subject}}]==]))
            assert(got == [==[{{expected}}]==], got)
            assert(re:exec([==[{{subject}}]==]) == {{(expected.StartsWith("true", StringComparison.Ordinal) ? "true" : "false")}})
            """);
        Assert.Empty(host.Errors);
    }

    [Fact]
    public void Match_TwentyTwoGroups_ReturnsTwentyStrings()
    {
        using var host = new LuaTestHost("""
            local _, re = Regex.new("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)(n)(o)(p)(q)(r)(s)(t)(u)(v)", true)
            local ok, t = re:match("abcdefghijklmnopqrstuv")
            assert(ok and #t == 20 and t[1] == "abcdefghijklmnopqrstuv" and t[20] == "s" and t[21] == nil, #t)
            """);
        Assert.Empty(host.Errors);
    }

    [Fact]
    public void Exec_BytesAndLengthLimit_AsHaproxy()
    {
        using var host = new LuaTestHost("""
            local _, re = Regex.new("a.c", true)
            -- NUL and bytes over 127 are matched and returned as they are.
            local ok, t = re:match("xa\0cx")
            assert(ok and t[1] == "a\0c")
            local _, hi = Regex.new("\xff(.)\xfe", true)
            ok, t = hi:match("-\xff\x80\xfe-")
            assert(ok and t[1] == "\xff\x80\xfe" and t[2] == "\x80")
            -- A subject of tune.bufsize (16384) bytes or more never matches; one byte less does.
            assert(re:exec(string.rep("x", 16380) .. "abc") == true)
            assert(re:exec(string.rep("x", 16381) .. "abc") == false)
            assert(re:match(string.rep("x", 16381) .. "abc") == false)
            -- A number is matched as its string; anything else is an error.
            local _, num = Regex.new("^12$", true)
            assert(num:exec(12) == true)
            local e1 = select(2, pcall(re.exec, re, nil))
            assert(e1:find("Regex.exec: bad argument #2 (string expected, got nil)", 1, true), e1)
            local e2 = select(2, pcall(re.exec, "x", "abc"))
            assert(e2:find("Regex.exec: bad argument #1", 1, true), e2)
            """);
        Assert.Empty(host.Errors);
    }

    [Fact]
    public void Exec_CatastrophicBacktracking_IsLuaErrorAfterTheTimeout()
    {
        var sw = Stopwatch.StartNew();
        using var host = new LuaTestHost("""
            local _, re = Regex.new("^(a+)+$", true)
            local subject = string.rep("a", 40) .. "!"
            local ok, e = pcall(re.exec, re, subject)
            assert(not ok and e:find("Regex.exec: the match took longer than 100 ms and was stopped", 1, true), tostring(e))
            ok, e = pcall(re.match, re, subject)
            assert(not ok and e:find("Regex.match: the match took longer than 100 ms", 1, true), tostring(e))
            """);
        Assert.Empty(host.Errors);

        // Exponential without the timeout: 2^40 steps would take hours.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
    }
}
