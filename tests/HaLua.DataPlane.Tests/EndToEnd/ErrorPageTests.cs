using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>errorfile and errorloc through a running halua: the file's bytes as they are, HAProxy's precedence.</summary>
public class ErrorPageTests
{
    private const string Page400 = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\ncustom 400!\n";
    private const string FrontendPage503 = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 12\r\nX-From: frontend\r\n\r\nfrontend 503";
    private const string BackendPage503 = "HTTP/1.0 503 Service Unavailable\r\nX-From: backend\r\n\r\nbackend 503, until close";
    private const string Page500 = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 10\r\n\r\nlua failed";

    private static readonly Dictionary<string, string> Files = new()
    {
        ["400.http"] = Page400,
        ["fe503.http"] = FrontendPage503,
        ["be503.http"] = BackendPage503,
        ["500.http"] = Page500,
        ["svc.lua"] = """
            core.register_service("broken", "http", function(applet)
               local t = nil
               return t.x
            end)
            """,
    };

    private const string Config = """
        global
           lua-load svc.lua
        defaults
           mode http
           timeout connect 1s
           timeout client 5s
           timeout server 5s
           errorfile 400 {DIR}/400.http
        frontend fe
           bind 127.0.0.1:{PORT0}
           errorfile 503 {DIR}/fe503.http
           errorfile 500 {DIR}/500.http
           errorloc 403 http://example.com/denied
           http-request deny if { path /deny }
           http-request use-service lua.broken if { path /lua }
           use_backend own if { path_beg /own }
           default_backend inherits
        backend own
           errorfile 503 {DIR}/be503.http
           server down 127.0.0.1:1 disabled
        backend inherits
           server down 127.0.0.1:1 disabled
        """;

    /// <summary>Sends <paramref name="request"/> and returns everything until halua closes the connection.</summary>
    private static async Task<string> AnswerToAsync(int port, string request)
    {
        using var c = await RawHttpClient.ConnectAsync(port);
        await c.SendAsync(request);
        var all = await c.ReadToEndAsync();
        Assert.NotNull(all);
        return Encoding.ASCII.GetString(all);
    }

    [Fact]
    public async Task Errorfile_503_BackendsPageBeforeFrontends_SentAsIsThenClosed()
    {
        await using var h = await HaluaProcess.StartAsync(Config, Files);

        Assert.Equal(BackendPage503, await AnswerToAsync(h.Ports[0], "GET /own HTTP/1.1\r\nHost: x\r\n\r\n"));
        Assert.Equal(FrontendPage503, await AnswerToAsync(h.Ports[0], "GET /other HTTP/1.1\r\nHost: x\r\n\r\n"));
    }

    [Fact]
    public async Task Errorfile_400_FromDefaults_OnAMalformedRequest()
    {
        await using var h = await HaluaProcess.StartAsync(Config, Files);

        Assert.Equal(Page400, await AnswerToAsync(h.Ports[0], "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"));
    }

    [Fact]
    public async Task Errorloc403_OnDeny_And_Errorfile500_WhenALuaServiceFails()
    {
        await using var h = await HaluaProcess.StartAsync(Config, Files);

        Assert.Equal("HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: http://example.com/denied\r\ncache-control: no-cache\r\n\r\n",
            await AnswerToAsync(h.Ports[0], "GET /deny HTTP/1.1\r\nHost: x\r\n\r\n"));
        Assert.Equal(Page500, await AnswerToAsync(h.Ports[0], "GET /lua HTTP/1.1\r\nHost: x\r\n\r\n"));
    }

    [Fact]
    public async Task Errorfile_BadCodeOrMissingFile_ConfigErrorNamingFileLineAndKeyword()
    {
        var (dir, cfg, _) = HaluaProcess.Prepare("""
            defaults
               mode http
            backend be
               errorfile 999 /dev/null
               errorfile 503 {DIR}/missing.http
            """);
        try
        {
            var (code, _, stderr) = await HaluaProcess.RunToEndAsync(dir, "-c", "-f", cfg);

            Assert.Equal(1, code);
            Assert.Contains("haproxy.cfg:4 : 'errorfile' in section 'backend be': status code '999' not handled", stderr, StringComparison.Ordinal);
            Assert.Contains("haproxy.cfg:5 : 'errorfile' in section 'backend be': error opening file ", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
