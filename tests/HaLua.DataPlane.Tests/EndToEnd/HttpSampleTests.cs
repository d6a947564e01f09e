using System.Globalization;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>Every fetch, converter and ACL match method of the HTTP issue, through a running halua.</summary>
public class HttpSampleTests
{
    private const string Host = "www.Example.com";

    private static Dictionary<string, string> Fields(string body)
        => body.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");

    [Fact]
    public async Task Fetches_AllOfTheIssueList_ThroughAListener()
    {
        Environment.SetEnvironmentVariable("HALUA_SAMPLE_TEST", "from-env");
        await using var origin = new HttpOrigin(_ => Task.FromResult<byte[]?>(HttpOrigin.Ok("x", "X-Res: r1, r2\r\n")));
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request set-var(txn.v) str(42)
               http-request return status 200 content-type text/plain lf-string "src=%[src]\nsport=%[src_port]\ndst=%[dst]\ndport=%[dst_port]\nmethod=%[method]\npath=%[path]\nquery=%[query]\nurl=%[url]\nbase=%[base]\nhdr=%[hdr(x-a)]\nhdr1=%[req.hdr(x-a,1)]\nhdrlast=%[req.hdr(x-a,-1)]\nfhdr=%[req.fhdr(x-a)]\ncnt=%[req.hdr_cnt(x-a)]\nvar=%[var(txn.v)]\nenv=%[env(HALUA_SAMPLE_TEST)]\nrand=%[rand(10)]\ndate=%[date]\nnbsrv=%[nbsrv(be)]\nfe=%[fe_name]\nver=%[req.ver]\n" if { path_beg /f }
               default_backend be
            backend be
               http-response set-header x-be %[be_name]
               http-response set-header x-srv %[srv_name]
               http-response set-header x-status %[status]
               http-response set-header x-res %[res.hdr(x-res)]
               server s1 127.0.0.1:{{origin.Port}}
               server s2 127.0.0.1:1 disabled
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        var (status, _, body) = await c.AskAsync("/f/p?k=v", "X-A: one, two\r\nX-A: three\r\n", Host);
        Assert.Equal(200, status);
        var f = Fields(body);
        Assert.Equal("127.0.0.1", f["src"]);
        Assert.True(int.Parse(f["sport"], CultureInfo.InvariantCulture) > 0);
        Assert.Equal("127.0.0.1", f["dst"]);
        Assert.Equal(h.Ports[0].ToString(CultureInfo.InvariantCulture), f["dport"]);
        Assert.Equal("GET", f["method"]);
        Assert.Equal("/f/p", f["path"]);
        Assert.Equal("k=v", f["query"]);
        Assert.Equal("/f/p?k=v", f["url"]);
        Assert.Equal("www.Example.com/f/p", f["base"]);
        Assert.Equal("three", f["hdr"]);
        Assert.Equal("one", f["hdr1"]);
        Assert.Equal("three", f["hdrlast"]);
        Assert.Equal("three", f["fhdr"]);
        Assert.Equal("3", f["cnt"]);
        Assert.Equal("42", f["var"]);
        Assert.Equal("from-env", f["env"]);
        Assert.InRange(int.Parse(f["rand"], CultureInfo.InvariantCulture), 0, 9);
        Assert.InRange(long.Parse(f["date"], CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60);
        Assert.Equal("1", f["nbsrv"]);
        Assert.Equal("fe", f["fe"]);
        Assert.Equal("1.1", f["ver"]);

        var (_, head, _) = await c.AskAsync("/to-origin", host: Host);
        Assert.Contains("x-be: be\r\n", head);
        Assert.Contains("x-srv: s1\r\n", head);
        Assert.Contains("x-status: 200\r\n", head);
        Assert.Contains("x-res: r2\r\n", head);
    }

    [Fact]
    public async Task Converters_AllOfTheIssueList_ThroughAListener()
    {
        await using var h = await HaluaProcess.StartAsync("""
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request return status 200 content-type text/plain lf-string "lower=%[str(AbC),lower]\nupper=%[str(AbC),upper]\nbase64=%[str(hello!),base64]\nb64dec=%[str(aGVsbG8h),b64dec]\nhex=%[str(hi),hex]\ncrc32=%[str(hello),crc32]\ndjb2=%[str(hello),djb2]\nsdbm=%[str(hello),sdbm]\nwt6=%[str(hello),wt6]\njson=%[req.hdr(x-j),json]\nbytes=%[str(abcdef),bytes(2,3)]\nfield=%[str(a;b;c),field(2,;)]\nword=%[str(a;;b;c),word(2,;)]\nregsub=%[str(aXbXc),regsub(X,-,g)]\nurl_dec=%[str(a%20b),url_dec]\nutime=%[int(1700000000),utime(%Y-%m-%d)]\nltime=%[int(1700000000),ltime(%Y)]\nadd=%[int(7),add(5)]\nsub=%[int(7),sub(10)]\nmul=%[int(7),mul(3)]\ndiv=%[int(7),div(2)]\nmod=%[int(7),mod(4)]\nipmask=%[src,ipmask(16)]\n"
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        var (status, _, body) = await c.AskAsync("/", "X-J: say \"hi\"\r\n", Host);
        Assert.Equal(200, status);
        var f = Fields(body);
        Assert.Equal("abc", f["lower"]);
        Assert.Equal("ABC", f["upper"]);
        Assert.Equal("aGVsbG8h", f["base64"]);
        Assert.Equal("hello!", f["b64dec"]);
        Assert.Equal("6869", f["hex"]);
        Assert.Equal("907060870", f["crc32"]);
        Assert.Equal("261238937", f["djb2"]);
        Assert.Equal("684824882", f["sdbm"]);
        Assert.Equal("3538347703", f["wt6"]);
        Assert.Equal("say \\\"hi\\\"", f["json"]);
        Assert.Equal("cde", f["bytes"]);
        Assert.Equal("b", f["field"]);
        Assert.Equal("b", f["word"]);
        Assert.Equal("a-b-c", f["regsub"]);
        Assert.Equal("a b", f["url_dec"]);
        Assert.Equal("2023-11-14", f["utime"]);
        Assert.Equal("2023", f["ltime"]);
        Assert.Equal("12", f["add"]);
        Assert.Equal("-3", f["sub"]);
        Assert.Equal("21", f["mul"]);
        Assert.Equal("3", f["div"]);
        Assert.Equal("3", f["mod"]);
        Assert.Equal("127.0.0.0", f["ipmask"]);
    }

    [Fact]
    public async Task AclMatchMethods_FlagsFilesAndOperators_ThroughAListener()
    {
        await using var h = await HaluaProcess.StartAsync("""
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               acl a_str hdr(x-s) -i FOO
               acl a_beg path -m beg /beg
               acl a_end path -m end .jpg
               acl a_sub hdr(x-s) -m sub oo
               acl a_reg path -m reg ^/r[0-9]+$
               acl a_dir path -m dir d1
               acl a_dom hdr(host),lower -m dom example.com
               acl a_found hdr(x-f) -m found
               acl a_len hdr(x-s) -m len 3
               acl a_int hdr(x-n) -m int gt 10
               acl a_ip src -m ip 127.0.0.0/8
               acl a_file path -f paths.txt
               http-request set-header x-r-str 1 if a_str
               http-request set-header x-r-beg 1 if a_beg
               http-request set-header x-r-end 1 if a_end
               http-request set-header x-r-sub 1 if a_sub
               http-request set-header x-r-reg 1 if a_reg
               http-request set-header x-r-dir 1 if a_dir
               http-request set-header x-r-dom 1 if a_dom
               http-request set-header x-r-found 1 if a_found
               http-request set-header x-r-len 1 if a_len
               http-request set-header x-r-int 1 if a_int
               http-request set-header x-r-ip 1 if a_ip
               http-request set-header x-r-file 1 if a_file
               http-request set-header x-r-or 1 if a_beg || a_end
               http-request set-header x-r-and 1 if a_ip a_found
               http-request set-header x-r-not 1 if !a_found
               http-request set-header x-r-anon 1 if { hdr(x-s) -m beg f } !{ path /beg }
               http-request return status 200 content-type text/plain lf-string "str=%[req.hdr(x-r-str)]\nbeg=%[req.hdr(x-r-beg)]\nend=%[req.hdr(x-r-end)]\nsub=%[req.hdr(x-r-sub)]\nreg=%[req.hdr(x-r-reg)]\ndir=%[req.hdr(x-r-dir)]\ndom=%[req.hdr(x-r-dom)]\nfound=%[req.hdr(x-r-found)]\nlen=%[req.hdr(x-r-len)]\nint=%[req.hdr(x-r-int)]\nip=%[req.hdr(x-r-ip)]\nfile=%[req.hdr(x-r-file)]\nor=%[req.hdr(x-r-or)]\nand=%[req.hdr(x-r-and)]\nnot=%[req.hdr(x-r-not)]\nanon=%[req.hdr(x-r-anon)]\n"
            """, new Dictionary<string, string> { ["paths.txt"] = "# paths\n/listed\n\n/r42\n" });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);

        // Each line is one ACL: 1 when it matched, empty when not.
        var r = Fields((await c.AskAsync("/r42", "X-S: foo\r\nX-F: y\r\nX-N: 11\r\n", Host)).Body);
        Assert.Equal(
            "str=1 beg= end= sub=1 reg=1 dir= dom=1 found=1 len=1 int=1 ip=1 file=1 or= and=1 not= anon=1",
            string.Join(' ', r.Select(kv => kv.Key + "=" + kv.Value)));
        r = Fields((await c.AskAsync("/beg/d1/x.jpg", "X-N: 9\r\n", Host)).Body);
        Assert.Equal(
            "str= beg=1 end=1 sub= reg= dir=1 dom=1 found= len= int= ip=1 file= or=1 and= not=1 anon=",
            string.Join(' ', r.Select(kv => kv.Key + "=" + kv.Value)));
        r = Fields((await c.AskAsync("/listed", "X-S: FOO\r\n", Host)).Body);
        Assert.Equal(("1", "1", "", "1"), (r["str"], r["file"], r["sub"], r["len"]));
    }
}
