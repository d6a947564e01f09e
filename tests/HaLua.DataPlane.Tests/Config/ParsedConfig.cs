using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Tests.Config;

/// <summary>Parses a test configuration (file name <c>c.cfg</c>, no environment) and picks what a test looks at.</summary>
internal static class ParsedConfig
{
    public static ConfigParser.Result Parse(string text) => ConfigParser.Parse(text, "c.cfg", _ => null);

    /// <summary>The proxy <paramref name="name"/> of a configuration that must parse without error.</summary>
    public static ProxyConfig Proxy(string text, string name)
    {
        var result = Parse(text);
        Assert.Empty(result.Errors.Select(e => e.ToString()));
        return Assert.Single(result.Config!.Proxies, p => p.Name == name);
    }

    /// <summary>The one error of a configuration that must not parse.</summary>
    public static ConfigError SingleError(string text)
    {
        var result = Parse(text);
        Assert.Null(result.Config);
        return Assert.Single(result.Errors);
    }

    /// <summary>A section with one bad line (line 2): its one error names that line and <paramref name="keyword"/>.</summary>
    public static void AssertLineRefused(string section, string line, string keyword, string message)
    {
        var e = SingleError($"{section}\n    {line}\n");

        Assert.Equal(new SourceLocation("c.cfg", 2), e.Location);
        Assert.Equal(keyword, e.Keyword);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
