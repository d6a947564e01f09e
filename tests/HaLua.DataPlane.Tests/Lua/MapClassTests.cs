using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Maps;
using HaLua.DataPlane.Samples;
using HaLua.DataPlane.Tests.Maps;
using HaLua.DataPlane.Tests.Samples;

namespace HaLua.DataPlane.Tests.Lua;

/// <summary>Lua's Map class and core.set_map / del_map / add_acl / del_acl over the shared pattern store.</summary>
public sealed class MapClassTests : IDisposable
{
    private readonly TempFiles _files = new();

    public MapClassTests()
    {
        _files.Write("beg.map", "/a A\n/a/b AB\n/a/b AB2\nx X\n");
        _files.Write("ip.map", "10.0.0.0/8 big\n10.1.2.0/24 small\n2001:db8::/32 v6\n");
        _files.Write("int.map", "1:10 low\n5 five\n20: high\n");
        _files.Write("dom.map", "com c\nexample.org org\n");
        _files.Write("blocked.lst", "10.0.0.1\n");
    }

    public void Dispose() => _files.Dispose();

    private string Script(string lua) => lua.Replace("{DIR}", _files.Dir, StringComparison.Ordinal);

    [Fact]
    public void MapNew_InBody_LoadsAndLooksUp_WithEveryMethod()
    {
        using var host = new LuaTestHost(Script("""
            assert(Map._found == 0 and Map._bool == 1 and Map._int == 2 and Map._ip == 3 and Map._len == 5)
            assert(Map._str == 6 and Map._beg == 7 and Map._sub == 8 and Map._dir == 9 and Map._dom == 10)
            assert(Map._end == 11 and Map._reg == 12)
            assert(Map.int == 2 and Map.ip == 3 and Map.str == 6 and Map.beg == 7 and Map.sub == 8)
            assert(Map.dir == 9 and Map.dom == 10 and Map["end"] == 11 and Map.reg == 12)

            local beg = Map.new("{DIR}/beg.map", Map._beg)
            assert(beg:lookup("/a/b/c") == "AB", "longest prefix, first of duplicates")
            assert(beg:lookup("/a") == "A")
            assert(beg:lookup("/z") == nil)
            assert(beg:slookup("/z") == "")
            assert(Map.lookup(beg, "xyz") == "X")

            local str = Map.new("{DIR}/beg.map", Map.str)
            assert(str:lookup("/a/b") == "AB" and str:lookup("/a/b/c") == nil)
            assert(Map.new("{DIR}/beg.map", Map._end):lookup("zz/a") == "A")
            assert(Map.new("{DIR}/beg.map", Map._sub):lookup("q/a/b") == "A")
            assert(Map.new("{DIR}/beg.map", Map._dir):lookup("/q/x") == "X")
            assert(Map.new("{DIR}/beg.map", Map._reg):lookup("~x~") == "X")

            local ip = Map.new("{DIR}/ip.map", Map._ip)
            assert(ip:lookup("10.1.2.3") == "small" and ip:lookup("10.9.9.9") == "big")
            assert(ip:lookup("2001:db8::7") == "v6" and ip:lookup("bad") == nil)

            local int = Map.new("{DIR}/int.map", Map._int)
            assert(int:lookup(5) == "low", "first in file order")
            assert(int:lookup("7") == "low" and int:slookup(99) == "high")
            local ok, err = pcall(int.lookup, int, "x")
            assert(not ok and err:find("number expected"), err)

            local dom = Map.new("{DIR}/dom.map", Map._dom)
            assert(dom:lookup("www.example.com") == "c" and dom:lookup("a.example.org") == "org")
            """));
        Assert.Empty(host.Errors);
        var store = host.Engine.Samples.Patterns;
        Assert.Equal(4, store.List().Count);
        Assert.Equal(4, store.Find(_files["beg.map"])!.Count);
    }

    [Fact]
    public void MapNew_BadArguments_AreLuaErrors()
    {
        using var host = new LuaTestHost(Script("""
            local ok, err = pcall(Map.new, "{DIR}/missing.map", Map._str)
            assert(not ok and err:find("failed to open pattern file"), err)
            ok, err = pcall(Map.new, "{DIR}/beg.map", 99)
            assert(not ok and err:find("not a valid match method"), err)
            ok, err = pcall(Map.new, "{DIR}/beg.map", Map._found)
            assert(not ok and err:find("not a valid match method"), err)
            ok, err = pcall(Map.new, "{DIR}/ip.map", Map._int)
            assert(not ok and err:find("is not a valid integer at line 1"), err)
            ok, err = pcall(core.set_map, "{DIR}/beg.map", "k", "v")
            assert(not ok and err:find("not available in the body context"), err)
            """));
        Assert.Empty(host.Errors);
    }

    [Fact]
    public void CoreSetDelMapAddDelAcl_ChangeTheSharedReferences()
    {
        using var host = new LuaTestHost(Script("""
            local beg = Map.new("{DIR}/beg.map", Map._beg)
            core.register_init(function()
              core.set_map("{DIR}/beg.map", "/a/b", "NEW")
              assert(beg:lookup("/a/b/c") == "NEW", "set changes every entry of the key")
              core.set_map("{DIR}/beg.map", "/q", "Q")
              assert(beg:lookup("/q/1") == "Q", "set adds a missing key")
              core.del_map("{DIR}/beg.map", "/a/b")
              assert(beg:lookup("/a/b/c") == "A", "del removes every entry of the key")
              core.add_acl("{DIR}/blocked.lst", "10.0.0.2")
              core.add_acl("{DIR}/blocked.lst", "10.0.0.2")
              core.del_acl("{DIR}/blocked.lst", "10.0.0.1")
              core.add_acl("{DIR}/blocked.lst", "not-an-address")
              local ok, err = pcall(core.set_map, "{DIR}/unknown.map", "a", "b")
              assert(not ok and err:find("unknown map file"), err)
              ok, err = pcall(core.add_acl, "{DIR}/unknown.lst", "a")
              assert(not ok and err:find("unknown acl file"), err)
              ok, err = pcall(core.del_map, "{DIR}/unknown.map", "a")
              assert(not ok and err:find("unknown map file"), err)
              ok, err = pcall(core.del_acl, "{DIR}/unknown.lst", "a")
              assert(not ok and err:find("unknown acl file"), err)
            end)
            """));
        Assert.Empty(host.Errors);

        // The ACL file is loaded by the configuration (here: an ACL compiled on the same registry).
        var acl = Acl.Compile(new HaLua.DataPlane.Config.AclConfig("blocked", "src", ["-f", _files["blocked.lst"]], [], default), host.Engine.Samples);
        Assert.Empty(host.Engine.RunInits());

        var store = host.Engine.Samples.Patterns;
        Assert.Equal(["/a", "x", "/q"], store.Show(_files["beg.map"])!.Select(e => e.Key));
        Assert.Equal(["10.0.0.2"], store.Show(_files["blocked.lst"])!.Select(e => e.Key));
        var ctx = new TestSampleContext { Source = new(System.Net.IPAddress.Parse("10.0.0.2"), 1) };
        Assert.True(acl.Matches(ctx));
        Assert.False(acl.Matches(new TestSampleContext { Source = new(System.Net.IPAddress.Parse("10.0.0.1"), 1) }));
    }

    [Fact]
    public async Task MapNew_AtRuntime_OnlyForMapsAlreadyLoaded_AndSeesControlPlaneChanges()
    {
        using var host = new LuaTestHost(Script("""
            Map.new("{DIR}/beg.map", Map._str)
            core.register_service("svc", "tcp", function(applet)
              local m = Map.new("{DIR}/beg.map", Map._beg)
              local ok, err = pcall(Map.new, "{DIR}/dom.map", Map._dom)
              applet:send(tostring(m:lookup("/cp/x")) .. "|" .. tostring(ok) .. "|" .. tostring(err:find("at runtime") ~= nil))
            end)
            """));
        Assert.Empty(host.Errors);
        Assert.Equal(PatternEditResult.Done(1), host.Engine.Samples.Patterns.Add(_files["beg.map"], "/cp", "from-control-plane"));
        var (client, service) = await host.ConnectServiceAsync("svc");
        Assert.Equal("from-control-plane|false|true", await LuaTestHost.ReadAllAsync(client));
        Assert.Equal(LuaOutcome.Ok, await service);
    }

    [Fact]
    public void PerThreadStates_ShareOneStore()
    {
        using var host = new LuaTestHost(Script("""
            local m = Map.new("{DIR}/beg.map", Map._beg)
            core.register_init(function()
              if m:lookup("/init") == nil then
                core.set_map("{DIR}/beg.map", "/init", "first")
              else
                core.set_map("{DIR}/beg.map", "/init", "second")
              end
            end)
            """), workers: 2, perThread: true);
        Assert.Empty(host.Errors);
        Assert.Empty(host.Engine.RunInits());
        var entries = host.Engine.Samples.Patterns.Show(_files["beg.map"])!;
        Assert.Equal("second", Assert.Single(entries, e => e.Key == "/init").Value);
        Assert.Equal(2, host.Engine.States.Count());
    }
}
