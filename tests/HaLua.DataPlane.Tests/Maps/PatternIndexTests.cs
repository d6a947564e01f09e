using System.Net;
using HaLua.DataPlane.Maps;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Tests.Maps;

public sealed class PatternIndexTests
{
    /// <summary>A shared map reference with these "key value" entries, indexed for the method.</summary>
    private static PatternIndex Index(MatchMethod method, bool ignoreCase, params string[] lines)
    {
        var r = new PatternReference("test.map", isMap: true, shared: true);
        foreach (var line in lines)
        {
            int sp = line.IndexOf(' ', StringComparison.Ordinal);
            Assert.True(r.Add(sp < 0 ? line : line[..sp], sp < 0 ? "" : line[(sp + 1)..], out var error), error);
        }

        return r.GetIndex(method, ignoreCase);
    }

    private static string? Lookup(PatternIndex index, string text) => index.Match(Sample.FromString(text))?.Value;

    [Theory]
    [InlineData("/a/b", "AB")]
    [InlineData("/a", "A")]
    [InlineData("/a/", null)]
    [InlineData("/A/B", null)]
    [InlineData("x", "X1")]
    public void Str_ExactKey_FirstOfDuplicates(string text, string? expected)
    {
        var index = Index(MatchMethod.Str, false, "/a A", "/a/b AB", "x X1", "x X2");
        Assert.Equal(expected, Lookup(index, text));
    }

    [Fact]
    public void Str_IgnoreCase_LowersAsciiOnly()
    {
        var index = Index(MatchMethod.Str, true, "Example.COM ex", "\u00e9t\u00e9 summer");
        Assert.Equal("ex", Lookup(index, "EXAMPLE.com"));
        Assert.Equal("summer", Lookup(index, "\u00e9T\u00e9"));
        Assert.Null(Lookup(index, "\u00c9T\u00c9"));
    }

    [Theory]
    [InlineData("/a/b/c/d", "ABC")]
    [InlineData("/a/b", "AB")]
    [InlineData("/a/bb", "AB")]
    [InlineData("/a", "A")]
    [InlineData("/x", null)]
    [InlineData("", null)]
    public void Beg_LongestPrefixWins_WhateverTheFileOrder(string text, string? expected)
    {
        // HAProxy 2.6 prints the same for these paths with map_beg on this file.
        var index = Index(MatchMethod.Beg, false, "/a A", "/a/b AB", "/a/b/c ABC", "/a/b AB2");
        Assert.Equal(expected, Lookup(index, text));
    }

    [Fact]
    public void Beg_EmptyKeyMatchesEverything_IgnoreCase()
    {
        var index = Index(MatchMethod.Beg, true, " root", "/API api");
        Assert.Equal("api", Lookup(index, "/api/v1"));
        Assert.Equal("root", Lookup(index, "/static"));
    }

    [Theory]
    [InlineData("/zzab", "b1")]
    [InlineData("/zzAB", null)]
    [InlineData("/x.png", "png")]
    [InlineData("/x", null)]
    public void End_FirstInFileOrder(string text, string? expected)
    {
        var index = Index(MatchMethod.End, false, "b b1", "ab ab1", ".png png");
        Assert.Equal(expected, Lookup(index, text));
    }

    [Fact]
    public void End_IgnoreCase_AndLongSamples()
    {
        var index = Index(MatchMethod.End, true, ".PNG png");
        Assert.Equal("png", Lookup(index, "/logo.png"));
        Assert.Equal("png", Lookup(index, new string('x', 5000) + ".Png"));
    }

    [Theory]
    [InlineData("/a/b", "b1")]
    [InlineData("xaby", "b1")]
    [InlineData("xay", null)]
    public void Sub_FirstInFileOrder(string text, string? expected)
    {
        var index = Index(MatchMethod.Sub, false, "b b1", "ab ab1");
        Assert.Equal(expected, Lookup(index, text));
    }

    [Theory]
    [InlineData("www.example.com", "c")]
    [InlineData("example.com:80", "c")]
    [InlineData("example.org", "ex")]
    [InlineData("ample.org", null)]
    [InlineData("example.orgs", null)]
    public void Dom_WholeLabels_FirstInFileOrder(string text, string? expected)
    {
        // HAProxy 2.6 answers "c" for www.example.com with this order (not the longer key).
        var index = Index(MatchMethod.Dom, false, "com c", "example.com ex2", ".example.org. ex");
        Assert.Equal(expected, Lookup(index, text));
    }

    [Theory]
    [InlineData("/static/images/x", "i")]
    [InlineData("/a/images", "i")]
    [InlineData("/static/images2/x", "s")]
    [InlineData("/images?x=1", "i")]
    [InlineData("/myimages/x", null)]
    public void Dir_WholeSegments_FirstInFileOrder(string text, string? expected)
    {
        var index = Index(MatchMethod.Dir, false, "images i", "/static/ s", "/static/images si", "// never");
        Assert.Equal(expected, Lookup(index, text));
    }

    [Theory]
    [InlineData("abc123", "first")]
    [InlineData("123", "digits")]
    [InlineData("ABC", "upper")]
    [InlineData("-", null)]
    public void Reg_FirstMatchingExpressionInFileOrder(string text, string? expected)
    {
        var index = Index(MatchMethod.Reg, false, "^[a-z]+ first", "[0-9]+$ digits", "^ABC$ upper");
        Assert.Equal(expected, Lookup(index, text));
    }

    [Fact]
    public void Reg_InvalidExpression_RefusedWithItsLine()
    {
        var r = new PatternReference("bad.map", isMap: true, shared: true);
        r.Add("(unclosed", "x", line: 3, out _);
        var ex = Assert.Throws<FormatException>(() => r.GetIndex(MatchMethod.Reg, false));
        Assert.Contains("invalid regex '(unclosed'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("at line 3 of file 'bad.map'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("15", "r")]
    [InlineData("12", "r")]
    [InlineData("5", "five")]
    [InlineData("30", "high")]
    [InlineData("-7", "neg")]
    [InlineData("21", null)]
    [InlineData("x", null)]
    public void Int_ValuesAndRanges_FirstInFileOrder(string text, string? expected)
    {
        // 15 is both in 12:20 and a key of its own: the range comes first in the file, as HAProxy answers.
        var index = Index(MatchMethod.Int, false, "12:20 r", "15 e", "5 five", "30: high", ":-5 neg");
        Assert.Equal(expected, Lookup(index, text));
    }

    [Fact]
    public void Len_MatchesTheSampleLength()
    {
        var index = Index(MatchMethod.Len, false, "0:3 short", "4 four");
        Assert.Equal("short", Lookup(index, "abc"));
        Assert.Equal("four", Lookup(index, "abcd"));
        Assert.Null(Lookup(index, "abcde"));
    }

    [Theory]
    [InlineData("10.1.2.3", "small")]
    [InlineData("10.1.9.9", "mid")]
    [InlineData("10.9.9.9", "big")]
    [InlineData("11.0.0.1", "any")]
    [InlineData("::ffff:10.1.2.3", "small")]
    [InlineData("2001:db8::1", "v6-48")]
    [InlineData("2001:db8:1::1", "v6-32")]
    [InlineData("::1", null)]
    [InlineData("not an address", null)]
    public void Ip_LongestPrefixWins_FirstOfDuplicates(string text, string? expected)
    {
        var index = Index(MatchMethod.Ip, false,
            "0.0.0.0/0 any", "10.0.0.0/8 big", "10.1.0.0/16 mid", "10.1.2.0/24 small", "10.0.0.0/255.0.0.0 big2",
            "2001:db8::/32 v6-32", "2001:db8::/48 v6-48");
        Assert.Equal(expected, Lookup(index, text));
        if (IPAddress.TryParse(text, out var ip))
        {
            Assert.Equal(expected, index.Match(Sample.FromIp(ip))?.Value);
        }
    }

    [Fact]
    public void Ip_BadKey_RefusedAndNothingAdded()
    {
        var r = new PatternReference("ip.map", isMap: true, shared: true);
        var index = r.GetIndex(MatchMethod.Ip, false);
        var str = r.GetIndex(MatchMethod.Str, false);
        Assert.False(r.Add("example.com", "x", out var error));
        Assert.Contains("'example.com' is not a valid IPv4 or IPv6 address", error, StringComparison.Ordinal);
        Assert.Equal(0, r.Count);
        Assert.Null(str.Match(Sample.FromString("example.com")));
        Assert.True(r.Add("192.0.2.1", "x", out _));
        Assert.Equal("x", index.Match(Sample.FromString("192.0.2.1"))?.Value);
    }

    /// <summary>100,000 entries: a lookup costs what the index promises, not a pass over the entries.</summary>
    [Fact]
    public void LargeMaps_LookupsAreIndexed_NotScanned()
    {
        var r = new PatternReference("big.map", isMap: true, shared: true);
        var r2 = new PatternReference("big-ip.map", isMap: true, shared: true);
        for (int i = 0; i < 100_000; i++)
        {
            Assert.True(r.Add($"/p{i}/", "v" + i, out _));
            Assert.True(r2.Add($"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}", "ip" + i, out _));
        }

        var str = (StrIndex)r.GetIndex(MatchMethod.Str, false);
        Assert.Equal(100_000, str.KeyCount);
        Assert.Equal("v99999", str.Match(Sample.FromString("/p99999/"), out int work)?.Value);
        Assert.Equal(1, work);

        var beg = (PrefixIndex)r.GetIndex(MatchMethod.Beg, false);
        Assert.InRange(beg.NodeCount, 1, 2 * 100_000);
        string path = "/p54321/some/longer/path";
        Assert.Equal("v54321", beg.Match(Sample.FromString(path), out work)?.Value);
        Assert.InRange(work, 1, path.Length);

        var ip = (IpIndex)r2.GetIndex(MatchMethod.Ip, false);
        Assert.Equal(1, ip.PrefixLengths);
        Assert.Equal("ip70000", ip.Match(Sample.FromIp(IPAddress.Parse("10.1.17.112")), out work)?.Value);
        Assert.Equal(1, work);

        var dom = r.GetIndex(MatchMethod.Dom, false);
        Assert.Equal("v777", dom.Match(Sample.FromString("www.x/p777/y"), out work)?.Value);
        Assert.InRange(work, 1, 3 * "www.x/p777/y".Length);
    }

    [Fact]
    public void Changes_ReachEveryIndexOfTheReference()
    {
        var r = new PatternReference("m.map", isMap: true, shared: true);
        r.Add("/api", "old", out _);
        var str = r.GetIndex(MatchMethod.Str, false);
        var beg = r.GetIndex(MatchMethod.Beg, false);
        var sub = r.GetIndex(MatchMethod.Sub, true);
        Assert.Equal(1, r.Set("/api", "new", out _));
        Assert.Equal("new", str.Match(Sample.FromString("/api"))?.Value);
        Assert.Equal("new", beg.Match(Sample.FromString("/api/x"))?.Value);
        Assert.True(r.Add("/api/v2", "v2", out _));
        Assert.Equal("v2", beg.Match(Sample.FromString("/api/v2/x"))?.Value);
        Assert.Equal("new", sub.Match(Sample.FromString("/API/v2"))?.Value);
        Assert.Equal(1, r.Delete("/api"));
        Assert.Null(str.Match(Sample.FromString("/api")));
        Assert.Equal("v2", sub.Match(Sample.FromString("x/api/v2"))?.Value);
        Assert.Null(beg.Match(Sample.FromString("/api/x")));
        r.Clear();
        Assert.Null(beg.Match(Sample.FromString("/api/v2/x")));
        Assert.Equal(0, r.Count);
    }

    [Fact]
    public void PrefixTree_RemovingEveryKey_LeavesOnlyTheRoot()
    {
        var tree = new PrefixTree();
        string[] keys = ["/a", "/ab", "/abc", "/b", "/abd", "", "/a"];
        var entries = keys.Select((k, i) => new PatternEntry(i, k, null, 0)).ToArray();
        foreach (var e in entries)
        {
            tree.Add(e.Key, e);
        }

        int work = 0;
        Assert.Same(entries[4], tree.Find("/abd/x", longest: true, null, ref work));
        Assert.Same(entries[0], tree.Find("/abd/x", longest: false, null, ref work));
        foreach (var e in entries.Reverse())
        {
            tree.Remove(e.Key, e);
        }

        Assert.Equal(1, tree.NodeCount);
        Assert.Null(tree.Find("/abc", longest: true, null, ref work));
    }

    [Fact]
    public async Task ConcurrentLookupsAndChanges_StayConsistent()
    {
        var r = new PatternReference("live.map", isMap: true, shared: true);
        var beg = r.GetIndex(MatchMethod.Beg, false);
        var str = r.GetIndex(MatchMethod.Str, false);
        r.Add("/stable", "s", out _);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var readers = Enumerable.Range(0, 3).Select(reader => Task.Run(() =>
        {
            long n = 0;
            while (!stop.IsCancellationRequested)
            {
                Assert.Equal("s", beg.Match(Sample.FromString("/stable/x"))?.Value);
                _ = str.Match(Sample.FromString("/k" + (n++ % 100)));
            }
        })).ToArray();
        var writer = Task.Run(() =>
        {
            int i = 0;
            while (!stop.IsCancellationRequested)
            {
                string key = "/k" + (i++ % 100);
                r.Add(key, "v", out _);
                r.Set(key, "w", out _);
                r.Delete(key);
            }
        });
        await Task.WhenAll([.. readers, writer]);
        Assert.Equal(1, r.Count);
    }
}
