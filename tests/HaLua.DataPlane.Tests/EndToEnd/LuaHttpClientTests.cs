using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>core.httpclient() through a running halua, against real HTTP servers.</summary>
public class LuaHttpClientTests
{
    /// <summary>
    /// dump(r): "status reason [name=v0|v1 ...] body" with the header names sorted; answer(applet,
    /// text): a 200 with that text; the action fetch_in_action: GET of the X-Url header's URL.
    /// </summary>
    private const string Dump = """
        local function dump(r)
          local names = {}
          for k in pairs(r.headers) do names[#names + 1] = k end
          table.sort(names)
          local hs = {}
          for _, n in ipairs(names) do
            local vals = {}
            for i = 0, #r.headers[n] do vals[#vals + 1] = r.headers[n][i] end
            hs[#hs + 1] = n .. "=" .. table.concat(vals, "|")
          end
          return r.status .. " " .. r.reason .. " [" .. table.concat(hs, " ") .. "] " .. r.body
        end
        core.register_action("fetch_in_action", { "http-req" }, function(txn)
          txn:set_var("txn.got", core.httpclient():get{url = txn.sf:req_hdr("x-url")}.body)
        end)
        local function answer(applet, text)
          applet:set_status(200)
          applet:add_header("content-length", #text)
          applet:start_response()
          applet:send(text)
        end

        """;

    private static string Config(string extraGlobal = "") => """
        global
           lua-load hc.lua
           EXTRA
        defaults
           mode http
           timeout client 10s
        frontend fe
           bind 127.0.0.1:{PORT0}
           http-request lua.fetch_in_action if { path /action }
           http-request return status 200 content-type text/plain lf-string "%[var(txn.got)]" if { path /action }
           http-request use-service lua.hc
        """.Replace("EXTRA", extraGlobal, StringComparison.Ordinal);

    [Fact]
    public async Task Methods_GetHeadPutPostDelete_SendTheRequestAndReturnTheResponseTable()
    {
        await using var origin = new HttpOrigin(r =>
        {
            var line = r.Head[..r.Head.IndexOf('\r', StringComparison.Ordinal)];
            var body = $"{line} body={Encoding.ASCII.GetString(r.Body)}";
            return Task.FromResult<byte[]?>(HttpOrigin.Ok(body, "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Origin: yes\r\n"));
        });
        var taskDone = new TaskCompletionSource<OriginRequest>();
        await using var h = await HaluaProcess.StartAsync(Config(), new Dictionary<string, string>
        {
            ["hc.lua"] = Dump + $$"""
                local base = "http://127.0.0.1:{{origin.Port}}"
                core.register_service("hc", "http", function(applet)
                  local hc = core.httpclient()
                  local out = {}
                  out[#out + 1] = dump(hc:get{url = base .. "/get?x=1", headers = { ["X-Test"] = { "a", "b" }, host = { "h.example" } } })
                  out[#out + 1] = dump(hc:head{url = base .. "/head"})
                  out[#out + 1] = dump(hc:put{url = base .. "/put", body = "put body"})
                  out[#out + 1] = dump(hc:post{url = base .. "/post", body = "post body", headers = { ["content-type"] = { "text/plain" } } })
                  out[#out + 1] = dump(hc:delete{url = base .. "/delete"})
                  answer(applet, table.concat(out, "\n") .. "\n")
                end)
                local from_init
                core.register_init(function() from_init = core.httpclient():get{url = base .. "/from-init"}.status end)
                core.register_task(function()
                  core.httpclient():post{url = base .. "/from-task", body = "task after init " .. tostring(from_init)}
                end)
                """,
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        var (status, _, body) = await c.AskAsync("/run");
        Assert.Equal(200, status);
        static string Line(string text, int length) => $"200 OK [content-length={length} set-cookie=a=1|b=2 x-origin=yes] {text}\n";
        Assert.Equal(
            Line("GET /get?x=1 HTTP/1.1 body=", 27)
            + Line("", "HEAD /head HTTP/1.1 body=".Length)
            + Line("PUT /put HTTP/1.1 body=put body", 31)
            + Line("POST /post HTTP/1.1 body=post body", 34)
            + Line("DELETE /delete HTTP/1.1 body=", 29),
            body);

        var seen = origin.Requests.ToDictionary(r => r.Head.Split(' ')[1], r => r);
        var get = seen["/get?x=1"].Head;
        Assert.StartsWith("GET /get?x=1 HTTP/1.1\r\nhost: h.example\r\n", get);
        Assert.Contains("\r\nx-test: a\r\nx-test: b\r\n", get);
        Assert.Contains("\r\naccept: */*\r\n", get);
        Assert.Contains("\r\nuser-agent: HAProxy\r\n", get);
        Assert.StartsWith($"HEAD /head HTTP/1.1\r\nhost: 127.0.0.1:{origin.Port}\r\n", seen["/head"].Head);
        Assert.Contains("\r\ncontent-length: 9\r\n", seen["/post"].Head);
        Assert.Contains("\r\ncontent-type: text/plain\r\n", seen["/post"].Head);
        Assert.Equal("post body", Encoding.ASCII.GetString(seen["/post"].Body));

        // The other contexts: an action, init and a task that ran at start-up.
        Assert.Equal((200, "GET /from-action HTTP/1.1 body="), Pick(await c.AskAsync("/action", $"X-Url: http://127.0.0.1:{origin.Port}/from-action\r\n")));
        await WaitForAsync(() => origin.Requests.Any(r => r.Head.StartsWith("POST /from-task ", StringComparison.Ordinal)));
        Assert.Equal("task after init 200", Encoding.ASCII.GetString(origin.Requests.First(r => r.Head.StartsWith("POST /from-task ", StringComparison.Ordinal)).Body));
    }

    [Fact]
    public async Task Bodies_ChunkedAndUntilClose_AreDecoded()
    {
        await using var origin = new HttpOrigin(r => Task.FromResult<byte[]?>(r.Head.Split(' ')[1] switch
        {
            "/chunked" => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nX-A: 2\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n"u8.ToArray(),
            "/close" => "HTTP/1.1 201 Created Here\r\nServer: test\r\nConnection: close\r\n\r\nuntil the end"u8.ToArray(),
            _ => "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-Final: 1\r\n\r\n"u8.ToArray(),
        }));
        await using var h = await HaluaProcess.StartAsync(Config(), new Dictionary<string, string>
        {
            ["hc.lua"] = Dump + $$"""
                local base = "http://127.0.0.1:{{origin.Port}}"
                core.register_service("hc", "http", function(applet)
                  local hc = core.httpclient()
                  local out = {}
                  out[#out + 1] = dump(hc:get{url = base .. "/chunked"})
                  out[#out + 1] = dump(hc:get{url = base .. "/close"})
                  out[#out + 1] = dump(hc:get{url = base .. "/interim"})
                  answer(applet, table.concat(out, "\n") .. "\n")
                end)
                """,
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        Assert.Equal((200, """
            200 OK [transfer-encoding=chunked x-a=1|2] hello world
            201 Created Here [server=test] until the end
            204 No Content [x-final=1] 

            """.ReplaceLineEndings("\n")), Pick(await c.AskAsync("/run")));
    }

    [Fact]
    public async Task Failures_AreHaproxysResponsesOrLuaErrors()
    {
        await using var origin = new HttpOrigin(async r =>
        {
            if (r.Head.StartsWith("GET /slow ", StringComparison.Ordinal))
            {
                await Task.Delay(3000);
            }

            return r.Head.StartsWith("GET /garbage ", StringComparison.Ordinal)
                ? "NOT HTTP AT ALL\r\n\r\n"u8.ToArray()
                : HttpOrigin.Ok("late");
        });
        int closedPort = HaluaProcess.FreePort();
        await using var h = await HaluaProcess.StartAsync(Config(), new Dictionary<string, string>
        {
            ["hc.lua"] = Dump + $$"""
                local base = "http://127.0.0.1:{{origin.Port}}"
                local function err(f, ...)
                  local ok, e = pcall(f, ...)
                  return tostring(ok) .. " " .. tostring(e):gsub("^[^:]*:%d+: ", "")
                end
                core.register_service("hc", "http", function(applet)
                  local hc = core.httpclient()
                  local out = {}
                  out[#out + 1] = dump(hc:get{url = "http://127.0.0.1:{{closedPort}}/"})
                  out[#out + 1] = dump(hc:get{url = base .. "/slow", timeout = 300})
                  out[#out + 1] = dump(hc:get{url = base .. "/garbage"})
                  out[#out + 1] = dump(hc:get{url = "ftp://127.0.0.1/"})
                  out[#out + 1] = err(hc.get, hc, {})
                  out[#out + 1] = err(hc.post, hc, "http://127.0.0.1/")
                  out[#out + 1] = err(hc.post, hc, { url = base, body = 12 })
                  out[#out + 1] = err(hc.get, hc, { url = "127.0.0.1/nothing" })
                  answer(applet, table.concat(out, "\n") .. "\n")
                end)
                """,
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        Assert.Equal((200, """
            503 Service Unavailable [cache-control=no-cache content-length=107 content-type=text/html] <html><body><h1>503 Service Unavailable</h1>
            No server is available to handle this request.
            </body></html>

            504 Gateway Time-out [cache-control=no-cache content-length=92 content-type=text/html] <html><body><h1>504 Gateway Time-out</h1>
            The server didn't respond in time.
            </body></html>

            502 Bad Gateway [cache-control=no-cache content-length=107 content-type=text/html] <html><body><h1>502 Bad Gateway</h1>
            The server returned an invalid or incomplete response.
            </body></html>

            503 Service Unavailable [content-length=0] 
            false 'get' need a 'url' argument
            false 'post' needs a table as argument
            false invalid parameter in 'body', must be a string
            false couldn't start the httpclient

            """.ReplaceLineEndings("\n")), Pick(await c.AskAsync("/run")));
    }

    [Fact]
    public async Task Https_CertificateCheckedByDefault_AcceptedWithVerifyNone()
    {
        using var cert = LuaSocketTests.SelfSigned("origin.test");
        await using var tls = new TlsHttpOrigin(cert);
        var script = Dump + $$"""
            core.register_service("hc", "http", function(applet)
              local r = core.httpclient():get{url = "https://127.0.0.1:{{tls.Port}}/secure"}
              answer(applet, r.status .. " " .. r.body)
            end)
            """;
        await using (var strict = await HaluaProcess.StartAsync(Config(), new Dictionary<string, string> { ["hc.lua"] = script }))
        {
            using var c = await RawHttpClient.ConnectAsync(strict.Ports[0]);
            var (status, body) = Pick(await c.AskAsync("/run"));
            Assert.Equal(200, status);
            Assert.StartsWith("503 <html>", body, StringComparison.Ordinal);
        }

        await using var lax = await HaluaProcess.StartAsync(Config("httpclient.ssl.verify none"), new Dictionary<string, string> { ["hc.lua"] = script });
        using var c2 = await RawHttpClient.ConnectAsync(lax.Ports[0]);
        Assert.Equal((200, "200 secure GET /secure"), Pick(await c2.AskAsync("/run")));
    }

    [Fact]
    public async Task Dst_SendsToThatAddress_WithTheUrlsHost()
    {
        await using var origin = new HttpOrigin(r => Task.FromResult<byte[]?>(HttpOrigin.Ok(r.Head.Split("\r\n")[1])));
        await using var h = await HaluaProcess.StartAsync(Config(), new Dictionary<string, string>
        {
            ["hc.lua"] = Dump + $$"""
                core.register_service("hc", "http", function(applet)
                  local r = core.httpclient():get{url = "http://app.example/x", dst = "127.0.0.1:{{origin.Port}}"}
                  answer(applet, r.status .. " " .. r.body)
                end)
                """,
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        Assert.Equal((200, "200 host: app.example"), Pick(await c.AskAsync("/run")));
    }

    private static (int, string) Pick((int Status, string Head, string Body) r) => (r.Status, r.Body);

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not met in time");
            await Task.Delay(20);
        }
    }
}

/// <summary>An HTTPS origin with the given certificate: answers "secure METHOD PATH" to each request, then closes.</summary>
internal sealed class TlsHttpOrigin : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Task _loop;

    public TlsHttpOrigin(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _loop = Task.Run(async () =>
        {
            while (true)
            {
                Socket c;
                try
                {
                    c = await _listener.AcceptAsync();
                }
                catch (Exception)
                {
                    return;
                }

                _ = Task.Run(async () =>
                {
                    using (c)
                    {
                        try
                        {
                            using var ssl = new SslStream(new NetworkStream(c, ownsSocket: false));
                            await ssl.AuthenticateAsServerAsync(certificate);
                            using var reader = new StreamReader(ssl, Encoding.Latin1, leaveOpen: true);
                            var line = await reader.ReadLineAsync() ?? "";
                            while (!string.IsNullOrEmpty(await reader.ReadLineAsync()))
                            {
                            }

                            var body = "secure " + line[..line.LastIndexOf(' ')];
                            await ssl.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\ncontent-length: {body.Length}\r\n\r\n{body}"));
                        }
                        catch (Exception)
                        {
                            // a client that refused the certificate
                        }
                    }
                });
            }
        });
    }

    public int Port { get; }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _loop;
    }
}
