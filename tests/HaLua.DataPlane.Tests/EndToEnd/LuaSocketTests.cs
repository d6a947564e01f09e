using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using HaLua.DataPlane.Tests.Lua;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>The Lua Socket class (core.tcp) through a running halua, against real servers.</summary>
public class LuaSocketTests
{
    /// <summary>Connects each address form to line echo servers (IPv4, IPv6, UNIX) and reports what came back.</summary>
    [Fact]
    public async Task Connect_EveryAddressForm_ReachesTheServerOrFailsAsHaproxy()
    {
        var dir = Directory.CreateTempSubdirectory("halua-sock-").FullName;
        string path = Path.Combine(dir, "echo.sock");
        await using var echo = new LineEchoListener(new IPEndPoint(IPAddress.Loopback, 0));
        await using var echo6 = new LineEchoListener(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        await using var unix = new LineEchoListener(new UnixDomainSocketEndPoint(path));
        int closedPort = HaluaProcess.FreePort();
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load sock.lua
            listen forms
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.forms
            """, new Dictionary<string, string>
        {
            ["sock.lua"] = SocketClassTests.Show + $$"""
                core.register_service("forms", "tcp", function(applet)
                  local out = {}
                  local function try(...)
                    local s = core.tcp()
                    s:settimeout(5)
                    local ok, r, e = pcall(s.connect, s, ...)
                    if ok and r then
                      s:send("ping\n")
                      r = s:receive("*l") .. " " .. s:getpeername()
                    elseif not ok then
                      r = r:gsub("^[^:]*:%d+: ", "")
                    end
                    out[#out + 1] = show(ok, r, e)
                    s:close()
                  end
                  try("127.0.0.1", {{echo.Port}})
                  try("127.0.0.1", "{{echo.Port}}")
                  try("127.0.0.1:{{echo.Port}}")
                  try("ipv4@127.0.0.1:{{echo.Port}}")
                  try("tcp@127.0.0.1", {{echo.Port}})
                  try("ipv6@[::1]:{{echo6.Port}}")
                  try("::1", {{echo6.Port}})
                  try("unix@{{path}}")
                  try("{{path}}")
                  try("localhost", {{echo.Port}})
                  try("127.0.0.1")
                  try("udp@127.0.0.1:{{echo.Port}}")
                  try("127.0.0.1:{{closedPort}}")
                  try("127.0.0.1", 0)
                  applet:send(table.concat(out, "\n") .. "\n")
                end)
                """,
        });
        try
        {
            Assert.Equal($$"""
                true,"ping 127.0.0.1:{{echo.Port}}",nil
                true,"ping 127.0.0.1:{{echo.Port}}",nil
                true,"ping 127.0.0.1:{{echo.Port}}",nil
                true,"ping 127.0.0.1:{{echo.Port}}",nil
                true,"ping 127.0.0.1:{{echo.Port}}",nil
                true,"ping [::1]:{{echo6.Port}}",nil
                true,"ping [::1]:{{echo6.Port}}",nil
                true,"ping unix",nil
                true,"ping unix",nil
                false,"Socket.connect: cannot parse destination address 'localhost'",nil
                false,"Socket.connect: port missing",nil
                false,"Socket.connect: cannot parse destination address 'udp@127.0.0.1:{{echo.Port}}'",nil
                true,nil,"Can't connect"
                true,nil,"Can't connect"

                """.ReplaceLineEndings("\n"), await HaluaProcess.ExchangeAsync(h.Ports[0]));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>Each context the spec gives core.tcp (init, task, action) and HAProxy's service; a clear error in a fetch.</summary>
    [Fact]
    public async Task CoreTcp_InitTaskActionAndService_Work_AndAFetchGetsAnError()
    {
        var taskLine = new TaskCompletionSource<string>();
        await using var echo = new LineEchoListener(new IPEndPoint(IPAddress.Loopback, 0), line =>
        {
            if (line.StartsWith("task", StringComparison.Ordinal))
            {
                taskLine.TrySetResult(line);
            }
        });
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load sock.lua
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request lua.ask if { path /action }
               http-request return status 200 content-type text/plain lf-string "%[var(txn.answer)]" if { path /action }
               http-request return status 200 content-type text/plain lf-string "%[lua.tcp_in_fetch]" if { path /fetch }
               http-request use-service lua.svc
            """, new Dictionary<string, string>
        {
            ["sock.lua"] = $$"""
                local function ask(what)
                  local s = core.tcp()
                  s:settimeout(5)
                  assert(s:connect("127.0.0.1", {{echo.Port}}))
                  assert(s:send(what .. "\n"))
                  local answer = s:receive("*l")
                  s:close()
                  return answer
                end
                local from_init
                core.register_init(function() from_init = ask("init") end)
                core.register_task(function() ask("task " .. tostring(from_init)) end)
                core.register_action("ask", { "http-req" }, function(txn)
                  txn:set_var("txn.answer", ask("action"))
                end)
                core.register_fetches("tcp_in_fetch", function(txn)
                  local ok, err = pcall(core.tcp)
                  return tostring(ok) .. " " .. err
                end)
                core.register_service("svc", "http", function(applet)
                  local body = ask("service")
                  applet:set_status(200)
                  applet:add_header("content-length", #body)
                  applet:start_response()
                  applet:send(body)
                end)
                """,
        });
        Assert.Equal("task init", await taskLine.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        Assert.Equal((200, "action"), Pick(await c.AskAsync("/action")));
        Assert.Equal((200, "service"), Pick(await c.AskAsync("/svc")));
        var (status, _, body) = await c.AskAsync("/fetch");
        Assert.Equal(200, status);
        Assert.Contains("false", body, StringComparison.Ordinal);
        Assert.Contains("core.tcp: not available in the sample-fetch context", body, StringComparison.Ordinal);
    }

    private static (int, string) Pick((int Status, string Head, string Body) r) => (r.Status, r.Body);

    /// <summary>connect_ssl talks TLS to a server whose certificate nobody signed: HAProxy does not verify it either.</summary>
    [Fact]
    public async Task ConnectSsl_SelfSignedServer_TalksTls()
    {
        using var cert = SelfSigned("tls.test");
        await using var tls = new LineEchoListener(new IPEndPoint(IPAddress.Loopback, 0), certificate: cert);
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load sock.lua
            listen tls
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.tls
            """, new Dictionary<string, string>
        {
            ["sock.lua"] = SocketClassTests.Show + $$"""
                core.register_service("tls", "tcp", function(applet)
                  local out = {}
                  local s = core.tcp()
                  s:settimeout(5)
                  out[#out + 1] = show(s:connect_ssl("127.0.0.1", {{tls.Port}}))
                  out[#out + 1] = show(s:send("over tls\n"))
                  out[#out + 1] = show(s:receive("*l"))
                  out[#out + 1] = show(s:getpeername())
                  s:close()
                  local plain = core.tcp()
                  plain:settimeout(5)
                  out[#out + 1] = show(plain:connect_ssl("127.0.0.1:{{tls.Port}}"))
                  plain:close()
                  applet:send(table.concat(out, "\n") .. "\n")
                end)
                """,
        });
        Assert.Equal($$"""
            1
            9
            "over tls"
            "127.0.0.1:{{tls.Port}}"
            1

            """.ReplaceLineEndings("\n"), await HaluaProcess.ExchangeAsync(h.Ports[0]));
        Assert.Equal(2, tls.TlsHandshakes);
    }

    /// <summary>500 scripts wait in receive at once: no thread waits with them; then all get their line.</summary>
    [Fact]
    public async Task Receive_FiveHundredWaitingAtOnce_FewThreads_ThenAllAnswer()
    {
        const int Count = 500;
        int held = 0;
        var allHeld = new TaskCompletionSource();
        var go = new TaskCompletionSource();
        await using var server = new TestServer("hold", async s =>
        {
            if (Interlocked.Increment(ref held) == Count)
            {
                allHeld.TrySetResult();
            }

            // The server speaks when the test says so.
            await go.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await s.SendAsync("go\n"u8.ToArray());
        });
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load sock.lua
               maxconn 2000
            listen wait
               bind 127.0.0.1:{PORT0}
               maxconn 2000
               tcp-request content use-service lua.wait
            """, new Dictionary<string, string>
        {
            ["sock.lua"] = $$"""
                core.register_service("wait", "tcp", function(applet)
                  local s = core.tcp()
                  s:settimeout(60)
                  assert(s:connect("127.0.0.1", {{server.Port}}))
                  local line, err = s:receive("*l")
                  s:close()
                  applet:send(tostring(line or err) .. "\n")
                end)
                """,
        });
        int before = Threads(h.Pid);
        var clients = new List<Socket>();
        try
        {
            for (int i = 0; i < Count; i++)
            {
                var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                clients.Add(c);
            }

            await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (c, ct) => await c.ConnectAsync(IPAddress.Loopback, h.Ports[0], ct));
            await allHeld.Task.WaitAsync(TimeSpan.FromSeconds(30));

            // Every script now waits in receive; a thread per wait would be 500 threads.
            int during = Threads(h.Pid);
            Assert.True(during < before + 40, $"threads: {before} before, {during} with {Count} waiting receives");

            go.SetResult();
            var answers = await Task.WhenAll(clients.Select(c => ReadAllAsync(c)));
            Assert.All(answers, a => Assert.Equal("go\n", a));
        }
        finally
        {
            go.TrySetResult();
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>A script waits in receive; its stream dies (timeout client): its socket is closed, not leaked.</summary>
    [Fact]
    public async Task Receive_StreamDiesWhileWaiting_TheSocketIsClosed()
    {
        var closed = new TaskCompletionSource<string>();
        await using var server = new TestServer("silent", async s =>
        {
            var buf = new byte[64];
            int n, total = 0;
            while ((n = await s.ReceiveAsync(buf.AsMemory(total))) > 0)
            {
                total += n;
            }

            closed.TrySetResult(Encoding.ASCII.GetString(buf, 0, total));
        });
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load sock.lua
            defaults
               timeout client 300ms
            listen wait
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.wait
            """, new Dictionary<string, string>
        {
            ["sock.lua"] = $$"""
                core.register_service("wait", "tcp", function(applet)
                  local s = core.tcp()
                  assert(s:connect("127.0.0.1", {{server.Port}}))
                  s:send("waiting\n")
                  s:receive("*l")
                  applet:send("never\n")
                end)
                """,
        });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(IPAddress.Loopback, h.Ports[0]);
        Assert.Equal("waiting\n", await closed.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("", await ReadAllAsync(client));
    }

    internal static int Threads(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                return int.Parse(line.AsSpan(8).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("no thread count");
    }

    private static async Task<string> ReadAllAsync(Socket s)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ms = new MemoryStream();
        var buf = new byte[256];
        int n;
        while ((n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0)
        {
            ms.Write(buf, 0, n);
        }

        return Encoding.ASCII.GetString(ms.ToArray());
    }

    /// <summary>A certificate made for the test, signed by nobody.</summary>
    internal static X509Certificate2 SelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pfx), null);
    }
}

/// <summary>
/// A server for socket tests on any endpoint (IPv4, IPv6, UNIX), optionally TLS: answers each
/// line with the same line; <paramref name="onLine"/> sees the lines.
/// </summary>
internal sealed class LineEchoListener : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Task _loop;
    private readonly X509Certificate2? _certificate;
    private readonly Action<string>? _onLine;
    private int _handshakes;

    public LineEchoListener(EndPoint endpoint, Action<string>? onLine = null, X509Certificate2? certificate = null)
    {
        _onLine = onLine;
        _certificate = certificate;
        _listener = new Socket(endpoint.AddressFamily, SocketType.Stream, endpoint is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp);
        _listener.Bind(endpoint);
        _listener.Listen(512);
        Port = (_listener.LocalEndPoint as IPEndPoint)?.Port ?? 0;
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

                _ = Task.Run(() => ServeAsync(c));
            }
        });
    }

    public int Port { get; }

    public int TlsHandshakes => Volatile.Read(ref _handshakes);

    private async Task ServeAsync(Socket c)
    {
        using (c)
        {
            try
            {
                Stream stream = new NetworkStream(c, ownsSocket: false);
                if (_certificate is not null)
                {
                    var ssl = new SslStream(stream);
                    await ssl.AuthenticateAsServerAsync(_certificate);
                    Interlocked.Increment(ref _handshakes);
                    stream = ssl;
                }

                using var reader = new StreamReader(stream, Encoding.Latin1);
                string? line;
                while ((line = await reader.ReadLineAsync()) is not null)
                {
                    _onLine?.Invoke(line);
                    await stream.WriteAsync(Encoding.Latin1.GetBytes(line + "\n"));
                }
            }
            catch (Exception)
            {
                // the client went away
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _loop;
    }
}
