using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>Lua HTTP services (AppletHTTP) through a running halua.</summary>
public class HttpServiceTests
{
    private const string Config = """
        global
           lua-load svc.lua
        defaults
           mode http
           timeout client 5s
        frontend fe
           bind 127.0.0.1:{PORT0}
           http-request use-service lua.hello-world if { path / }
           http-request use-service lua.echo if { path_beg /echo }
           http-request use-service lua.stream if { path /stream }
           http-request use-service lua.broken if { path /broken }
           http-request return status 404 content-type text/plain string "none"
        """;

    private static readonly Dictionary<string, string> Scripts = new()
    {
        // The spec's hello world, as written there.
        ["svc.lua"] = """
            core.register_service("hello-world", "http", function(applet)
               local response = "Hello World !"
               applet:set_status(200)
               applet:add_header("content-length", string.len(response))
               applet:add_header("content-type", "text/plain")
               applet:start_response()
               applet:send(response)
            end)

            core.register_service("echo", "http", function(applet)
               local body = applet:receive()
               local accept = applet.headers["x-multi"]
               local text = table.concat({ applet.method, applet.path, applet.qs, applet.version,
                  tostring(applet.length), applet.headers["host"][0], accept[0], accept[1], body }, "|")
               applet:set_status(201, "Made")
               applet:add_header("content-length", #text)
               applet:start_response()
               applet:send(text)
            end)

            core.register_service("stream", "http", function(applet)
               applet:set_status(200)
               applet:start_response()
               for i = 1, 3 do
                  applet:send("part" .. i .. ";")
                  core.msleep(10)
               end
            end)

            core.register_service("broken", "http", function(applet)
               local t = nil
               return t.x
            end)
            """,
    };

    [Fact]
    public async Task SpecHelloWorld_AnswersHelloWorld_WithTheHeaders()
    {
        await using var h = await HaluaProcess.StartAsync(Config, Scripts);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        var (status, head, body) = await c.ReadResponseAsync();
        Assert.Equal(200, status);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", head);
        Assert.Contains("content-length: 13\r\n", head);
        Assert.Contains("content-type: text/plain\r\n", head);
        Assert.Equal("Hello World !", Encoding.ASCII.GetString(body));

        // Keep-alive: the same connection serves the next request.
        await c.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("Hello World !", Encoding.ASCII.GetString((await c.ReadResponseAsync()).Body));
    }

    [Fact]
    public async Task Applet_SeesRequestAttributesHeadersAndBody()
    {
        await using var h = await HaluaProcess.StartAsync(Config, Scripts);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("POST /echo/x?a=1&b=2 HTTP/1.1\r\nHost: www.test.com\r\nX-Multi: one\r\nX-Multi: two\r\nContent-Length: 5\r\n\r\nhello");
        var (status, head, body) = await c.ReadResponseAsync();
        Assert.Equal(201, status);
        Assert.StartsWith("HTTP/1.1 201 Made\r\n", head);
        Assert.Equal("POST|/echo/x|a=1&b=2|HTTP/1.1|5|www.test.com|one|two|hello", Encoding.ASCII.GetString(body));
    }

    [Fact]
    public async Task Applet_ChunkedRequestBody_IsDecoded_AndTheConnectionGoesOn()
    {
        await using var h = await HaluaProcess.StartAsync(Config, Scripts);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("POST /echo HTTP/1.1\r\nHost: a\r\nX-Multi: 1\r\nX-Multi: 2\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
        await Task.Delay(100);
        await c.SendAsync("4;ext=1\r\ndefg\r\n0\r\n\r\n");
        var (status, _, body) = await c.ReadResponseAsync();
        Assert.Equal(201, status);
        Assert.EndsWith("|abcdefg", Encoding.ASCII.GetString(body));

        // The whole chunked body was read: the next request on the connection is served.
        await c.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("Hello World !", Encoding.ASCII.GetString((await c.ReadResponseAsync()).Body));
    }

    [Fact]
    public async Task Applet_WithoutContentLength_SendsChunked()
    {
        await using var h = await HaluaProcess.StartAsync(Config, Scripts);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
        var (status, head, body) = await c.ReadResponseAsync();
        Assert.Equal(200, status);
        Assert.Contains("transfer-encoding: chunked", head);
        Assert.Equal("part1;part2;part3;", Encoding.ASCII.GetString(body));
        await c.SendAsync("GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(404, (await c.ReadResponseAsync()).Status);
    }

    [Fact]
    public async Task Applet_ErrorBeforeStartResponse_500_AndTraceback()
    {
        await using var h = await HaluaProcess.StartAsync(Config, Scripts);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET /broken HTTP/1.1\r\nHost: a\r\n\r\n");
        var (status, _, _) = await c.ReadResponseAsync();
        Assert.Equal(500, status);
        await h.WaitForStderrAsync("stack traceback", TimeSpan.FromSeconds(8));

        using var c2 = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c2.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal("Hello World !", Encoding.ASCII.GetString((await c2.ReadResponseAsync()).Body));
    }
}
