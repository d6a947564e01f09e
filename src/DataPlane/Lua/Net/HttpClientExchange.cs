using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaLua.DataPlane.Http;

namespace HaLua.DataPlane.Lua.Net;

/// <summary>One request of the Lua httpclient, checked and serialized before it starts.</summary>
internal sealed record HttpClientRequest(
    bool Tls,
    string Host,
    int Port,
    byte[] Head,
    byte[]? Body,
    bool IsHead,
    TimeSpan? Timeout,
    EndPoint? Destination);

/// <summary>A response for the script: the head as received (parsed in place) and the decoded body.</summary>
internal sealed class HttpClientResponse
{
    public HttpClientResponse(byte[] headBytes, HttpHead head, byte[] body)
    {
        HeadBytes = headBytes;
        Head = head;
        Body = body;
    }

    public byte[] HeadBytes { get; }

    public HttpHead Head { get; }

    public byte[] Body { get; }

    /// <summary>HAProxy's own answer when there was no usable server response (503, 504, 502).</summary>
    public static HttpClientResponse Error(int status, bool page = true)
    {
        var bytes = page
            ? HttpErrors.For(status).ToArray()
            : Encoding.ASCII.GetBytes($"HTTP/1.1 {status} Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        var head = new HttpHead();
        HttpParser.ParseResponse(bytes, head, bytes.Length, requestWasHead: false, out _);
        return new HttpClientResponse(bytes[..head.Length], head, bytes[head.Length..]);
    }
}

/// <summary>
/// The httpclient's HTTP/1.1 exchange over one new connection: connect (TLS for https), send the
/// request, read the response head with the proxy's own parser and its body as it is framed
/// (Content-Length, chunked, or until the server closes). Failures become HAProxy's own
/// responses: 503 when no server could be reached, 504 when the server did not answer in time,
/// 502 when its answer was not HTTP.
/// </summary>
internal static class HttpClientExchange
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);
    private const int MaxHeadSize = 64 * 1024;

    public static async Task<HttpClientResponse> RunAsync(HttpClientRequest request, bool verifyCertificate, int worker, CancellationToken cancellationToken)
    {
        if (request.Head.Length == 0)
        {
            // A scheme other than http and https: HAProxy answers an empty 503.
            return HttpClientResponse.Error(503, page: false);
        }

        EndPoint? target = request.Destination;
        if (target is null)
        {
            var address = await ResolveAsync(request.Host, cancellationToken).ConfigureAwait(false);
            if (address is null)
            {
                return HttpClientResponse.Error(503, page: false);
            }

            target = new IPEndPoint(address, request.Port);
        }

        OutboundConnection connection;
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            connectTimeout.CancelAfter(ConnectTimeout);
            try
            {
                string? name = IPAddress.TryParse(request.Host, out _) ? null : request.Host;
                connection = await OutboundConnection.ConnectAsync(
                    target, request.Tls, name, verifyCertificate ? request.Host : null, worker, connectTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                return HttpClientResponse.Error(503);
            }
        }

        using (connection)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            try
            {
                return await ExchangeAsync(connection.Stream, request, timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return HttpClientResponse.Error(504);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                return HttpClientResponse.Error(502);
            }
        }
    }

    private static async Task<IPAddress?> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var ip))
        {
            return ip;
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static async Task<HttpClientResponse> ExchangeAsync(Stream stream, HttpClientRequest request, CancellationTokenSource timeout, CancellationToken stopping)
    {
        await WriteAsync(stream, request.Head, request.Timeout, timeout).ConfigureAwait(false);
        if (request.Body is { Length: > 0 } body)
        {
            await WriteAsync(stream, body, request.Timeout, timeout).ConfigureAwait(false);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int length = 0;
            var head = new HttpHead();
            while (true)
            {
                var status = HttpParser.ParseResponse(buffer.AsSpan(0, length), head, MaxHeadSize, request.IsHead, out _);
                if (status == HttpParseStatus.Error)
                {
                    return HttpClientResponse.Error(502);
                }

                if (status == HttpParseStatus.Done)
                {
                    if (head.Status is >= 100 and < 200 and not 101)
                    {
                        // An interim response (100 Continue...): the final one follows.
                        Buffer.BlockCopy(buffer, head.Length, buffer, 0, length - head.Length);
                        length -= head.Length;
                        continue;
                    }

                    break;
                }

                if (length == buffer.Length)
                {
                    Grow(ref buffer, length);
                }

                int n = await ReadAsync(stream, buffer.AsMemory(length), request.Timeout, timeout).ConfigureAwait(false);
                if (n == 0)
                {
                    return HttpClientResponse.Error(502);
                }

                length += n;
            }

            var headBytes = buffer.AsSpan(0, head.Length).ToArray();
            var rest = buffer.AsMemory(head.Length, length - head.Length);
            var bodyBytes = head.Framing == BodyFraming.None ? [] : await ReadBodyAsync(stream, head, rest, request.Timeout, timeout, stopping).ConfigureAwait(false);
            return new HttpClientResponse(headBytes, head, bodyBytes);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The body as framed; a server that stops (or times out) in the middle gives what it sent.</summary>
    private static async Task<byte[]> ReadBodyAsync(Stream stream, HttpHead head, ReadOnlyMemory<byte> already, TimeSpan? inactivity, CancellationTokenSource timeout, CancellationToken stopping)
    {
        var body = new ArrayBufferWriter<byte>(Math.Max(256, already.Length));
        var chunked = head.Framing == BodyFraming.Chunked ? new ChunkedDecoder() : null;
        long left = head.Framing == BodyFraming.ContentLength ? head.ContentLength : long.MaxValue;

        var input = already;
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                if (chunked is not null)
                {
                    if (chunked.Consume(input.Span, out _, body) != ChunkedStatus.NeedMore)
                    {
                        break;
                    }
                }
                else
                {
                    int take = (int)Math.Min(left, input.Length);
                    body.Write(input.Span[..take]);
                    left -= take;
                    if (left == 0)
                    {
                        break;
                    }
                }

                int n;
                try
                {
                    n = await ReadAsync(stream, buffer, inactivity, timeout).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or SocketException || (ex is OperationCanceledException && !stopping.IsCancellationRequested))
                {
                    n = 0;
                }

                if (n == 0)
                {
                    break;
                }

                input = buffer.AsMemory(0, n);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return body.WrittenSpan.ToArray();
    }

    /// <summary>A read that must bring something within the request's timeout (HAProxy's "timeout server").</summary>
    private static ValueTask<int> ReadAsync(Stream stream, Memory<byte> buffer, TimeSpan? inactivity, CancellationTokenSource timeout)
    {
        if (inactivity is { } t)
        {
            timeout.CancelAfter(t);
        }

        return stream.ReadAsync(buffer, timeout.Token);
    }

    private static ValueTask WriteAsync(Stream stream, byte[] data, TimeSpan? inactivity, CancellationTokenSource timeout)
    {
        if (inactivity is { } t)
        {
            timeout.CancelAfter(t);
        }

        return stream.WriteAsync(data, timeout.Token);
    }

    private static void Grow(ref byte[] buffer, int length)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
        Buffer.BlockCopy(buffer, 0, bigger, 0, length);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = bigger;
    }
}
