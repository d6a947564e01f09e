using HaLua.DataPlane.Maps;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Tests.Maps;

public sealed class PatternStoreTests : IDisposable
{
    private readonly TempFiles _files = new();

    private string Write(string name, string content) => _files.Write(name, content);

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Load_Map_KeyThenValueToTheEndOfTheLine()
    {
        // The lines HAProxy 2.6 reads this way (checked with map_beg / map_str on it).
        string file = Write("a.map", "# comment\n\n  /a  A\n/a/b\tAB\r\n/a/b/c  ABC  tail  \n   # indented comment\nkeyonly\n\u00e9t\u00e9 \u00ff\n");
        var store = new PatternStore();
        var r = store.Load(file, isMap: true);
        Assert.True(r.IsMap);
        Assert.Equal(
            [("/a", "A", 3), ("/a/b", "AB", 4), ("/a/b/c", "ABC  tail", 5), ("keyonly", "", 7), ("\u00e9t\u00e9", "\u00ff", 8)],
            r.Entries().Select(e => (e.Key, e.Value!, e.Line)));
    }

    [Fact]
    public void Load_AclFile_LeadingBlanksSkipped_TrailingBlanksKept()
    {
        string file = Write("a.lst", "/abc  \n  # comment\n /def\n\n");
        var r = new PatternStore().Load(file, isMap: false);
        Assert.False(r.IsMap);
        Assert.Equal(["/abc  ", "/def"], r.Entries().Select(e => e.Key));
        Assert.All(r.Entries(), e => Assert.Null(e.Value));
    }

    [Fact]
    public void Load_SameNameTwice_OneSharedReference()
    {
        string file = Write("s.map", "k v\n");
        var store = new PatternStore();
        var a = store.Load(file, isMap: true);
        File.WriteAllText(file, "k changed-on-disk\n");
        var b = store.Load(file, isMap: true);
        Assert.Same(a, b);
        Assert.Same(a, store.Find(file));
        Assert.Equal("v", b.Entries()[0].Value);
    }

    [Fact]
    public void Load_MapUsedAsAclFileOrTheOtherWay_IsAnError()
    {
        var store = new PatternStore();
        string map = Write("m.map", "k v\n");
        string acl = Write("p.lst", "k\n");
        store.Load(map, isMap: true);
        store.Load(acl, isMap: false);
        Assert.Contains("already used as a map", Assert.Throws<FormatException>(() => store.Load(map, isMap: false)).Message, StringComparison.Ordinal);
        Assert.Contains("already used as a pattern file", Assert.Throws<FormatException>(() => store.Load(acl, isMap: true)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingFile_NamesIt()
    {
        var ex = Assert.Throws<FormatException>(() => new PatternStore().Load("/nonexistent/halua/x.map", isMap: true));
        Assert.StartsWith("failed to open pattern file '/nonexistent/halua/x.map'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ControlPlane_ListShowAddSetDeleteClear()
    {
        var store = new PatternStore();
        string map = Write("cp.map", "/a A\n/b B\n/a A2\n");
        string acl = Write("cp.lst", "10.0.0.0/8\n");
        var beg = store.Load(map, isMap: true).GetIndex(MatchMethod.Beg, false);
        var ip = store.Load(acl, isMap: false).GetIndex(MatchMethod.Ip, false);

        Assert.Equal([new PatternReferenceInfo(map, true, 3), new PatternReferenceInfo(acl, false, 1)], store.List());
        Assert.Equal([new PatternEntryInfo(1, "/a", "A"), new PatternEntryInfo(2, "/b", "B"), new PatternEntryInfo(3, "/a", "A2")], store.Show(map));
        Assert.Null(store.Show("nope.map"));

        Assert.Equal(PatternEditResult.Done(2), store.Set(map, "/a", "Z"));
        Assert.Equal("Z", beg.Match(Sample.FromString("/a/x"))?.Value);
        Assert.Equal(PatternEditStatus.UnknownKey, store.Set(map, "/c", "C").Status);
        Assert.Equal(PatternEditResult.Done(1), store.Add(map, "/c", "C"));
        Assert.Equal("C", beg.Match(Sample.FromString("/c/x"))?.Value);
        Assert.Equal(PatternEditResult.Done(2), store.Delete(map, "/a"));
        Assert.Null(beg.Match(Sample.FromString("/a/x")));
        Assert.Equal(PatternEditStatus.UnknownKey, store.Delete(map, "/a").Status);

        Assert.Equal(PatternEditStatus.Invalid, store.Add(acl, "not-an-ip", null).Status);
        Assert.Equal(PatternEditResult.Done(1), store.Add(acl, "192.0.2.0/24", null));
        Assert.NotNull(ip.Match(Sample.FromString("192.0.2.9")));
        Assert.Equal(PatternEditResult.Done(2), store.Clear(acl));
        Assert.Null(ip.Match(Sample.FromString("10.1.1.1")));

        Assert.Equal(PatternEditStatus.UnknownReference, store.Add("nope.map", "k", "v").Status);
        Assert.Equal(PatternEditStatus.UnknownReference, store.Clear("nope.map").Status);
        Assert.Equal([new PatternReferenceInfo(map, true, 2), new PatternReferenceInfo(acl, false, 0)], store.List());
    }

    [Fact]
    public void ValuesTypedByAConverter_RefusedWhenTheyDoNotParse()
    {
        var store = new PatternStore();
        string map = Write("typed.map", "a 12\n");
        var r = store.Load(map, isMap: true);
        r.RequireValues(SampleType.Int);
        Assert.Equal(PatternEditStatus.Invalid, store.Set(map, "a", "x").Status);
        Assert.Equal(PatternEditStatus.Invalid, store.Add(map, "b", "x").Status);
        Assert.Equal(PatternEditResult.Done(1), store.Add(map, "b", "-3"));
        Assert.Equal(["12", "-3"], r.Entries().Select(e => e.Value));

        string bad = Write("bad.map", "a 12\nb x\n");
        var ex = Assert.Throws<FormatException>(() => store.Load(bad, isMap: true).RequireValues(SampleType.Int));
        Assert.Equal($"unable to parse 'x' at line 2 of file '{bad}'", ex.Message);
    }
}
