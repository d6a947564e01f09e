using System.Text;
using Grpc.Core;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Control;

/// <summary>MapService and AclService end to end: each change is seen by the next request's routing decision.</summary>
public class AdminPatternTests
{
    private const string Config = """
        global
           admin-api 127.0.0.1:{PORT7}
        defaults
           mode http
           timeout connect 1s
           timeout client 5s
           timeout server 5s
        frontend fe
           bind 127.0.0.1:{PORT0}
           acl blocked src -f {DIR}/blocked.acl
           acl vip req.hdr(x-user) -f {DIR}/vip.acl
           http-request deny deny_status 403 if vip blocked
           http-request return status 200 content-type text/plain lf-string "route=%[req.hdr(host),map({DIR}/hosts.map,fallback)] vip=%[req.hdr(x-user),map_str({DIR}/hosts.map,no)]" if vip
           http-request return status 200 content-type text/plain lf-string "route=%[req.hdr(host),map({DIR}/hosts.map,fallback)]"
        """;

    private static readonly Dictionary<string, string> Files = new()
    {
        ["hosts.map"] = "a.example one\nb.example two\n",
        ["vip.acl"] = "alice\n",
        ["blocked.acl"] = "10.9.9.9\n",
    };

    private static async Task<(int Status, string Body)> GetAsync(int port, string host, string user = "bob")
    {
        using var c = await RawHttpClient.ConnectAsync(port);
        await c.SendAsync($"GET / HTTP/1.1\r\nHost: {host}\r\nX-User: {user}\r\n\r\n");
        var (status, _, body) = await c.ReadResponseAsync();
        return (status, Encoding.Latin1.GetString(body));
    }

    [Fact]
    public async Task MapSetAddDelete_ChangeTheNextRoutingDecision()
    {
        await using var h = await AdminHost.StartAsync(Config, Files);
        string map = h.Process.Directory + "/hosts.map";
        Assert.Equal("route=one", (await GetAsync(h.Ports[0], "a.example")).Body);

        var r = await h.Client.SetMapAsync(map, "a.example", "uno");
        Assert.Equal(1, r.Changed);
        Assert.Equal("route=uno", (await GetAsync(h.Ports[0], "a.example")).Body);

        r = await h.Client.AddMapAsync(map, "c.example", "three");
        Assert.Equal(3, r.Entries);
        Assert.Equal("route=three", (await GetAsync(h.Ports[0], "c.example")).Body);

        await h.Client.DeleteMapAsync(map, "b.example");
        Assert.Equal("route=fallback", (await GetAsync(h.Ports[0], "b.example")).Body);

        var entries = await h.Client.ShowMapAsync(map);
        Assert.Equal(["a.example=uno", "c.example=three"], entries.Select(e => $"{e.Key}={e.Value}"));
        Assert.All(entries, e => Assert.StartsWith("0x", e.Id));

        var found = await h.Client.LookupMapAsync(map, "c.example");
        Assert.True(found.Found);
        Assert.Equal("three", found.Value);
        Assert.False((await h.Client.LookupMapAsync(map, "zzz")).Found);
        Assert.Equal("uno", (await h.Client.LookupMapAsync(map, "a.EXAMPLE", "str", ignoreCase: true)).Value);

        var e = await Assert.ThrowsAsync<RpcException>(() => h.Client.SetMapAsync(map, "nokey", "x"));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.SetMapAsync("/no/such.map", "a", "x"));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.LookupMapAsync(map, "a", "nomethod"));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);

        var list = await h.Client.ListMapsAsync();
        Assert.Equal(map, Assert.Single(list).Name);
        Assert.Equal(2, list[0].Entries);

        await h.Client.ClearMapAsync(map);
        Assert.Equal("route=fallback", (await GetAsync(h.Ports[0], "a.example")).Body);
    }

    [Fact]
    public async Task PrepareAndCommit_SwapTheWholeMapAtOnce()
    {
        await using var h = await AdminHost.StartAsync(Config, Files);
        string map = h.Process.Directory + "/hosts.map";
        long version = await h.Client.PrepareMapAsync(map);
        Assert.True(version > 0);
        await h.Client.AddMapToVersionAsync(map, version, "a.example", "new-one");
        await h.Client.AddMapToVersionAsync(map, version, "z.example", "new-z");

        // Not visible before the commit.
        Assert.Equal("route=one", (await GetAsync(h.Ports[0], "a.example")).Body);
        Assert.Equal("route=fallback", (await GetAsync(h.Ports[0], "z.example")).Body);
        Assert.Equal(2, (await h.Client.ShowMapAsync(map, version)).Count);

        var r = await h.Client.CommitMapAsync(map, version);
        Assert.Equal(2, r.Entries);
        Assert.Equal("route=new-one", (await GetAsync(h.Ports[0], "a.example")).Body);
        Assert.Equal("route=new-z", (await GetAsync(h.Ports[0], "z.example")).Body);
        Assert.Equal("route=fallback", (await GetAsync(h.Ports[0], "b.example")).Body);
        Assert.Equal(version, Assert.Single(await h.Client.ListMapsAsync()).Version);

        // A committed version is gone; an unknown one is NOT_FOUND.
        var e = await Assert.ThrowsAsync<RpcException>(() => h.Client.CommitMapAsync(map, version));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.AddMapToVersionAsync(map, 999, "k", "v"));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);

        var replaced = await h.Client.ReplaceMapAsync(map, [new("b.example", "bee")]);
        Assert.Equal(1, replaced.Entries);
        Assert.Equal("route=bee", (await GetAsync(h.Ports[0], "b.example")).Body);
    }

    [Fact]
    public async Task AclAddDelete_ChangeTheNextDecision_AndPersistWritesTheFile()
    {
        await using var h = await AdminHost.StartAsync(Config, Files);
        string vip = h.Process.Directory + "/vip.acl";
        string blocked = h.Process.Directory + "/blocked.acl";
        Assert.Equal("route=one", (await GetAsync(h.Ports[0], "a.example", "carol")).Body);
        await h.Client.AddAclAsync(vip, "carol", persist: true);
        Assert.Equal("route=one vip=no", (await GetAsync(h.Ports[0], "a.example", "carol")).Body);
        Assert.Equal("alice\ncarol\n", File.ReadAllText(vip));

        await h.Client.AddAclAsync(blocked, "127.0.0.1");
        Assert.Equal(403, (await GetAsync(h.Ports[0], "a.example", "carol")).Status);
        Assert.True((await h.Client.LookupAclAsync(blocked, "127.0.0.1", "ip")).Found);
        await h.Client.DeleteAclAsync(blocked, "127.0.0.1");
        Assert.Equal(200, (await GetAsync(h.Ports[0], "a.example", "carol")).Status);

        long version = await h.Client.PrepareAclAsync(vip);
        await h.Client.AddAclToVersionAsync(vip, version, "dave");
        await h.Client.CommitAclAsync(vip, version, persist: true);
        Assert.Equal("route=one", (await GetAsync(h.Ports[0], "a.example", "carol")).Body);
        Assert.Equal("route=one vip=no", (await GetAsync(h.Ports[0], "a.example", "dave")).Body);
        Assert.Equal("dave\n", File.ReadAllText(vip));

        // An ACL file is not a map, and the other way round.
        var e = await Assert.ThrowsAsync<RpcException>(() => h.Client.ShowMapAsync(vip));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal(2, (await h.Client.ListAclsAsync()).Count);
        Assert.Equal(1, (await h.Client.ClearAclAsync(blocked)).Changed);
    }
}
