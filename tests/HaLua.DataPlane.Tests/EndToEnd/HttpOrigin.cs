using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>A request as the origin received it.</summary>
internal sealed record OriginRequest(string Head, byte[] Body, int Connection);

/// <summary>
/// An HTTP/1.1 origin for tests: records every request it receives (head and body, decoded from
/// Content-Length or chunked) and answers with what the handler returns (raw bytes, so tests can
/// send invalid responses too). Counts connections.
/// </summary>
internal sealed class HttpOrigin : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _connections;

    public HttpOrigin(Func<OriginRequest, Task<byte[]?>>? handler = null)
    {
        handler ??= r => Task.FromResult<byte[]?>(Ok($"path={r.Head.Split(' ')[1]} body={r.Body.Length}"));
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket c;
                try
                {
                    c = await _listener.AcceptAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }

                int id = Interlocked.Increment(ref _connections);
                _ = Task.Run(() => ServeAsync(c, id, handler));
            }
        });
    }

    public int Port { get; }

    public int Connections => Volatile.Read(ref _connections);

    public ConcurrentQueue<OriginRequest> Requests { get; } = new();

    public static byte[] Ok(string body, string extraHeaders = "")
        => Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n{extraHeaders}\r\n{body}");

    private async Task ServeAsync(Socket c, int id, Func<OriginRequest, Task<byte[]?>> handler)
    {
        using (c)
        {
            var stream = new NetworkStream(c);
            var buffered = new List<byte>();
            try
            {
                while (true)
                {
                    var head = await ReadHeadAsync(stream, buffered);
                    if (head is null)
                    {
                        return;
                    }

                    var body = await ReadBodyAsync(stream, buffered, head);
                    var request = new OriginRequest(head, body, id);
                    Requests.Enqueue(request);
                    var response = await handler(request);
                    if (response is null)
                    {
                        return;
                    }

                    await stream.WriteAsync(response);
                    var text = Encoding.Latin1.GetString(response);
                    int headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                    var responseHead = headEnd < 0 ? text : text[..headEnd];
                    if (responseHead.Contains("Connection: close", StringComparison.OrdinalIgnoreCase)
                        || responseHead.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
                    {
                        // Its own end of the body (until close), or a tunnel this origin does not speak: close.
                        c.Shutdown(SocketShutdown.Both);
                        return;
                    }
                }
            }
            catch (Exception)
            {
                // the proxy closed the connection
            }
        }
    }

    internal static async Task<string?> ReadHeadAsync(NetworkStream s, List<byte> buffered)
    {
        var buf = new byte[8192];
        while (true)
        {
            int end = IndexOf(buffered, "\r\n\r\n"u8.ToArray());
            if (end >= 0)
            {
                var head = Encoding.Latin1.GetString(buffered.GetRange(0, end + 4).ToArray());
                buffered.RemoveRange(0, end + 4);
                return head;
            }

            int n = await s.ReadAsync(buf);
            if (n == 0)
            {
                return null;
            }

            buffered.AddRange(buf.AsSpan(0, n).ToArray());
        }
    }

    internal static async Task<byte[]> ReadBodyAsync(NetworkStream s, List<byte> buffered, string head)
    {
        var lines = head.Split("\r\n");
        var cl = lines.FirstOrDefault(l => l.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase));
        bool chunked = lines.Any(l => l.StartsWith("transfer-encoding:", StringComparison.OrdinalIgnoreCase) && l.Contains("chunked", StringComparison.OrdinalIgnoreCase));
        if (cl is not null)
        {
            int len = int.Parse(cl.Split(':')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            await EnsureAsync(s, buffered, len);
            var body = buffered.GetRange(0, len).ToArray();
            buffered.RemoveRange(0, len);
            return body;
        }

        if (!chunked)
        {
            return [];
        }

        var result = new List<byte>();
        while (true)
        {
            int lf;
            while ((lf = buffered.IndexOf((byte)'\n')) < 0)
            {
                await EnsureAsync(s, buffered, buffered.Count + 1);
            }

            var sizeLine = Encoding.ASCII.GetString(buffered.GetRange(0, lf).ToArray()).Trim();
            buffered.RemoveRange(0, lf + 1);
            int size = Convert.ToInt32(sizeLine.Split(';')[0], 16);
            if (size == 0)
            {
                // trailers until the empty line
                while (true)
                {
                    while ((lf = buffered.IndexOf((byte)'\n')) < 0)
                    {
                        await EnsureAsync(s, buffered, buffered.Count + 1);
                    }

                    bool empty = lf == 0 || (lf == 1 && buffered[0] == '\r');
                    buffered.RemoveRange(0, lf + 1);
                    if (empty)
                    {
                        return [.. result];
                    }
                }
            }

            await EnsureAsync(s, buffered, size + 2);
            result.AddRange(buffered.GetRange(0, size));
            buffered.RemoveRange(0, size + 2);
        }
    }

    private static async Task EnsureAsync(NetworkStream s, List<byte> buffered, int count)
    {
        var buf = new byte[65536];
        while (buffered.Count < count)
        {
            int n = await s.ReadAsync(buf);
            if (n == 0)
            {
                throw new IOException("closed in the middle of a body");
            }

            buffered.AddRange(buf.AsSpan(0, n).ToArray());
        }
    }

    private static int IndexOf(List<byte> data, byte[] pattern)
    {
        for (int i = 0; i + pattern.Length <= data.Count; i++)
        {
            int j = 0;
            while (j < pattern.Length && data[i + j] == pattern[j])
            {
                j++;
            }

            if (j == pattern.Length)
            {
                return i;
            }
        }

        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Close();
        await _loop;
    }
}

/// <summary>A raw HTTP/1.1 client for tests: exact bytes out, responses read one by one.</summary>
internal sealed class RawHttpClient : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly List<byte> _buffered = [];

    private RawHttpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket);
    }

    public static async Task<RawHttpClient> ConnectAsync(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await s.ConnectAsync(IPAddress.Loopback, port);
        return new RawHttpClient(s);
    }

    public Task SendAsync(string raw) => _stream.WriteAsync(Encoding.Latin1.GetBytes(raw)).AsTask();

    /// <summary>Sends "METHOD PATH HTTP/1.1" with a Host and the extra header lines, and reads the response (body as text).</summary>
    public async Task<(int Status, string Head, string Body)> AskAsync(string path, string extra = "", string host = "Example.COM", string method = "GET")
    {
        await SendAsync($"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n");
        var (status, head, body) = await ReadResponseAsync();
        return (status, head, Encoding.ASCII.GetString(body));
    }

    public Task SendAsync(byte[] raw) => _stream.WriteAsync(raw).AsTask();

    /// <summary>The next response: its status, head and body (Content-Length or chunked; no body when <paramref name="noBody"/>).</summary>
    public async Task<(int Status, string Head, byte[] Body)> ReadResponseAsync(bool noBody = false, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var read = ReadCoreAsync(noBody);
        var done = await Task.WhenAny(read, Task.Delay(Timeout.Infinite, cts.Token).ContinueWith(_ => { }, TaskScheduler.Default));
        if (done != read)
        {
            throw new TimeoutException("no complete response in time");
        }

        return await read;
    }

    private async Task<(int, string, byte[])> ReadCoreAsync(bool noBody)
    {
        var head = await HttpOrigin.ReadHeadAsync(_stream, _buffered) ?? throw new IOException("connection closed before a response");
        int status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var body = noBody ? [] : await HttpOrigin.ReadBodyAsync(_stream, _buffered, head);
        return (status, head, body);
    }

    /// <summary>Everything until the proxy closes (for until-close bodies), or null on a reset.</summary>
    public async Task<byte[]?> ReadToEndAsync()
    {
        var all = new List<byte>(_buffered);
        _buffered.Clear();
        var buf = new byte[65536];
        try
        {
            int n;
            while ((n = await _stream.ReadAsync(buf)) > 0)
            {
                all.AddRange(buf.AsSpan(0, n).ToArray());
            }
        }
        catch (IOException)
        {
            return null;
        }

        return [.. all];
    }

    /// <summary>True when the proxy closed the connection (FIN or reset) within the wait.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan wait)
    {
        var buf = new byte[1];
        using var cts = new CancellationTokenSource(wait);
        try
        {
            return await _socket.ReceiveAsync(buf, SocketFlags.None, cts.Token) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }
}
