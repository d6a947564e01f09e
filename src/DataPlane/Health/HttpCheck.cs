using System.Buffers;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Http;
using HaLua.DataPlane.Model;

namespace HaLua.DataPlane.Health;

/// <summary>
/// HAProxy's <c>option httpchk</c>: connect, send the check request, read the response (with
/// <see cref="HttpParser"/>) and judge it: without <c>http-check expect</c> rules a 2xx or 3xx passes
/// (L7OK) and any other status is L7STS; with rules, every rule must hold. A response that is not
/// HTTP is L7RSP, no response in time L7TOUT.
/// </summary>
internal sealed class HttpCheck : IHealthCheck
{
    /// <summary>HAProxy reads a check response into one buffer (tune.bufsize).</summary>
    private const int BufferSize = 16384;

    private readonly byte[] _request;
    private readonly bool _headRequest;
    private readonly Expect[] _expects;
    private readonly bool _needsBody;

    public HttpCheck(HttpCheckConfig config)
    {
        _request = BuildRequest(config);
        _headRequest = config.Method == "HEAD";
        _expects = [.. config.Expects.Select(e => new Expect(e))];
        _needsBody = config.Expects.Any(e => e.Match is HttpCheckMatch.String or HttpCheckMatch.RString);
    }

    public string Name => "httpchk";

    /// <summary>The request as HAProxy 2.6 sends it: lower-case header names, a content-length with a body, "connection: close" in HTTP/1.1.</summary>
    public static byte[] BuildRequest(HttpCheckConfig config)
    {
        var sb = new StringBuilder().Append(config.Method).Append(' ').Append(config.Uri).Append(' ').Append(config.Version).Append("\r\n");
        foreach (var (name, value) in config.Headers)
        {
            sb.Append(name.ToLowerInvariant()).Append(": ").Append(value).Append("\r\n");
        }

        byte[] body = Encoding.Latin1.GetBytes(config.Body ?? "");
        if (body.Length > 0)
        {
            sb.Append("content-length: ").Append(body.Length).Append("\r\n");
        }

        if (config.Version == "HTTP/1.1" && !config.Headers.Any(h => h.Key.Equals("connection", StringComparison.OrdinalIgnoreCase)))
        {
            sb.Append("connection: close\r\n");
        }

        return [.. Encoding.Latin1.GetBytes(sb.Append("\r\n").ToString()), .. body];
    }

    public async ValueTask<CheckResult> ProbeAsync(ServerState server, CheckTimeouts timeouts, CancellationToken cancellationToken)
    {
        long start = Environment.TickCount64;
        var (socket, failure) = await TcpConnectCheck.ConnectAsync(server.CheckEndpoint, timeouts.Connect, cancellationToken).ConfigureAwait(false);
        if (socket is null)
        {
            return failure;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeouts.AfterConnect(TimeSpan.FromMilliseconds(Environment.TickCount64 - start)));
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await socket.SendAsync(_request, SocketFlags.None, cts.Token).ConfigureAwait(false);
            var response = await ReadResponseAsync(socket, buffer, cts.Token).ConfigureAwait(false);
            return response.Failure ?? Judge(response.Head!, buffer, response.Body);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new CheckResult(false, "L7TOUT");
        }
        catch (SocketException ex)
        {
            return new CheckResult(false, "SOCKERR", Info: ex.Message);
        }
        finally
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The final response head (1xx skipped) and, when a rule reads it, the body as far as the buffer holds it.</summary>
    private async ValueTask<(HttpHead? Head, byte[] Body, CheckResult? Failure)> ReadResponseAsync(Socket socket, byte[] buffer, CancellationToken ct)
    {
        var invalid = new CheckResult(false, "L7RSP");
        var head = new HttpHead();
        int length = 0;
        while (true)
        {
            var status = HttpParser.ParseResponse(buffer.AsSpan(0, length), head, BufferSize, _headRequest, out _);
            if (status == HttpParseStatus.Error)
            {
                return (null, [], invalid);
            }

            if (status == HttpParseStatus.Done && head.Status >= 200)
            {
                break;
            }

            if (status == HttpParseStatus.Done)
            {
                // An interim 1xx response: the final one follows.
                buffer.AsSpan(head.Length, length - head.Length).CopyTo(buffer);
                length -= head.Length;
                continue;
            }

            int n = await socket.ReceiveAsync(buffer.AsMemory(length, BufferSize - length), SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
            {
                return (null, [], invalid);
            }

            length += n;
        }

        if (!_needsBody || head.Framing == BodyFraming.None)
        {
            return (head, [], null);
        }

        // The body, until its end, the end of the buffer or the server's close.
        var body = new ArrayBufferWriter<byte>();
        var chunks = head.Framing == BodyFraming.Chunked ? new ChunkedDecoder() : null;
        int parsed = head.Length;
        while (true)
        {
            var fresh = buffer.AsSpan(parsed, length - parsed);
            parsed = length;
            if (chunks is not null)
            {
                if (chunks.Consume(fresh, out _, body) != ChunkedStatus.NeedMore)
                {
                    break;
                }
            }
            else
            {
                body.Write(fresh);
                if (head.Framing == BodyFraming.ContentLength && body.WrittenCount >= head.ContentLength)
                {
                    break;
                }
            }

            int n = length == BufferSize ? 0 : await socket.ReceiveAsync(buffer.AsMemory(length, BufferSize - length), SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            length += n;
        }

        byte[] bytes = body.WrittenSpan.ToArray();
        return (head, head.Framing == BodyFraming.ContentLength && bytes.Length > head.ContentLength ? bytes[..(int)head.ContentLength] : bytes, null);
    }

    private CheckResult Judge(HttpHead head, byte[] buffer, byte[] body)
    {
        int code = head.Status;
        var fail = new CheckResult(false, "L7STS", code, Encoding.Latin1.GetString(buffer.AsSpan(0, head.Length)[head.Reason]));
        if (_expects.Length == 0)
        {
            return code is >= 200 and < 400 ? new CheckResult(true, "L7OK", code) : fail;
        }

        foreach (var e in _expects)
        {
            if (e.Evaluate(code, body) is { } info)
            {
                return info.Length == 0 ? fail : new CheckResult(false, "L7RSP", Info: info);
            }
        }

        return new CheckResult(true, "L7OK", code);
    }

    /// <summary>One compiled <c>http-check expect</c> rule.</summary>
    private sealed class Expect(HttpCheckExpect config)
    {
        private readonly List<(int Low, int High)> _codes = config.Match == HttpCheckMatch.Status && ConfigValues.TryParseStatusRanges(config.Pattern, out var r) ? r : [];
        private readonly Regex? _regex = config.Match is HttpCheckMatch.RStatus or HttpCheckMatch.RString
            ? new Regex(config.Pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100))
            : null;
        private readonly byte[] _text = Encoding.Latin1.GetBytes(config.Pattern);

        /// <summary>Null when the rule holds; "" for a wrong status (L7STS); else HAProxy's info for an invalid response (L7RSP).</summary>
        public string? Evaluate(int code, byte[] body)
        {
            bool matched;
            switch (config.Match)
            {
                case HttpCheckMatch.Status:
                    matched = _codes.Any(c => code >= c.Low && code <= c.High);
                    return matched != config.Negate ? null : "";
                case HttpCheckMatch.RStatus:
                    matched = _regex!.IsMatch(code.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    return matched != config.Negate ? null : "";
            }

            if (body.Length == 0)
            {
                return "HTTP content check could not find a response body";
            }

            try
            {
                matched = _regex is not null ? _regex.IsMatch(Encoding.Latin1.GetString(body)) : body.AsSpan().IndexOf(_text) >= 0;
            }
            catch (RegexMatchTimeoutException)
            {
                return "HTTP content check did not match";
            }

            return matched != config.Negate ? null
                : config.Negate ? "HTTP check matched unwanted content" : "HTTP content check did not match";
        }
    }
}
