using System.Diagnostics;
using System.Net;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Logging;

/// <summary>
/// What the log line of a stream says: HAProxy's timers, byte counts, status, termination state
/// and request line. One per connection, reset for each HTTP transaction; allocated only when the
/// frontend logs or a rule's log-format reads these values. Times are monotonic stamps (0: the
/// event did not happen) turned into HAProxy's milliseconds when the line is written.
/// </summary>
internal sealed partial class StreamLog
{
    /// <summary>HAProxy's REQURI_LEN: the request line is captured up to this many bytes.</summary>
    private const int RequestLineCapacity = 1024;

    private static long s_requestIds;

    private readonly long _acceptTs;
    private readonly long _acceptUnixMs;
    private long _startTs;
    private long _firstByteTs;
    private long _requestTs;
    private long _queueTs;
    private long _connectTs;
    private long _dataTs;
    private long _closeTs;
    private long _requestId = -1;
    private byte[]? _requestLine;
    private int _requestLineLength = -1;

    public StreamLog(ProxyRuntime frontend, bool http)
    {
        Frontend = frontend;
        IsHttp = http;
        _acceptTs = Stopwatch.GetTimestamp();
        _acceptUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Begin(first: true, pending: false);
    }

    public ProxyRuntime Frontend { get; }

    /// <summary>
    /// A new connection of <paramref name="frontend"/>: its log when the frontend needs one (else
    /// null, and logging costs nothing), and the legacy "Connect from" line of a frontend without format.
    /// </summary>
    public static StreamLog? Open(ProxyRuntime frontend, Samples.ISampleContext stream, bool http)
    {
        var log = frontend.NeedsStreamLog ? new StreamLog(frontend, http) : null;
        frontend.Log?.Accepted(stream);
        return log;
    }

    public bool IsHttp { get; }

    /// <summary>The backend the stream went to (set by the stream before the line is written).</summary>
    public ProxyRuntime? Backend { get; set; }

    public ServerState? Server { get; private set; }

    /// <summary>The Lua service that answered, shown as <c>&lt;lua.NAME&gt;</c> instead of a server.</summary>
    public string? ServiceName { get; private set; }

    /// <summary>The source address of the server connection (%bi, %bp).</summary>
    public IPEndPoint? ServerLocal { get; private set; }

    /// <summary>A transaction started and its line is not written yet.</summary>
    public bool InTransaction { get; private set; }

    /// <summary>The wall-clock time the transaction started (accept, or the end of the previous one), Unix ms.</summary>
    public long StartUnixMs { get; private set; }

    /// <summary>HTTP: -1 until a status is known; TCP: 0.</summary>
    public int Status { get; set; }

    public long BytesIn { get; private set; }

    public long BytesOut { get; private set; }

    public int Retries { get; private set; }

    public bool Redispatched { get; private set; }

    /// <summary>set-log-level / txn:set_loglevel: 0..7, or -1 for the default (info).</summary>
    public int Level { get; set; } = -1;

    /// <summary>set-log-level silent: no line for this transaction.</summary>
    public bool Silent { get; set; }

    /// <summary>HAProxy's termination cause (C, S, P, L, c, s, K...) and phase (R, Q, C, H, D), '\0' while unset.</summary>
    public char Cause { get; private set; }

    public char Phase { get; private set; }

    /// <summary>HAProxy's unique request counter (%rt): given to each request, or on first use to a transaction without one.</summary>
    public long RequestId => _requestId >= 0 ? _requestId : _requestId = Interlocked.Increment(ref s_requestIds) - 1;

    /// <summary>The captured request line, or empty when none was received (HAProxy shows &lt;BADREQ&gt;).</summary>
    public ReadOnlySpan<byte> RequestLine => _requestLineLength < 0 ? default : _requestLine.AsSpan(0, _requestLineLength);

    public bool HasRequestLine => _requestLineLength >= 0;

    /// <summary>
    /// A new transaction: the first one starts at the accept, the next ones where the previous one
    /// ended (HAProxy's accept date of a kept-alive request). <paramref name="pending"/>: its first
    /// byte is already here (pipelining).
    /// </summary>
    public void Begin(bool first, bool pending)
    {
        long now = Stopwatch.GetTimestamp();
        _startTs = first ? _acceptTs : now;
        StartUnixMs = _acceptUnixMs + ToMs(_startTs - _acceptTs);
        _firstByteTs = pending ? now : 0;
        _requestTs = _queueTs = _connectTs = _dataTs = _closeTs = 0;
        _requestId = -1;
        _requestLineLength = -1;
        Status = IsHttp ? -1 : 0;
        BytesIn = BytesOut = 0;
        Retries = 0;
        Redispatched = false;
        Level = -1;
        Silent = false;
        Cause = Phase = '\0';
        Server = null;
        ServiceName = null;
        ServerLocal = null;
        InTransaction = true;
    }

    /// <summary>Bytes received from the client; the first one ends the idle time (Ti).</summary>
    public void Received(long n)
    {
        if (_firstByteTs == 0 && n > 0)
        {
            _firstByteTs = Stopwatch.GetTimestamp();
        }

        BytesIn += n;
    }

    /// <summary>Bytes sent to the client.</summary>
    public void Sent(long n) => BytesOut += n;

    /// <summary>The request head is complete (end of TR): its line is captured for %r and the %H* variables.</summary>
    public void RequestHead(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, int version)
    {
        _ = RequestId;
        _requestTs = Stopwatch.GetTimestamp();
        if (_firstByteTs == 0)
        {
            _firstByteTs = _requestTs;
        }

        var line = _requestLine ??= new byte[RequestLineCapacity];
        int n = Copy(method, line, 0);
        n = Copy(" "u8, line, n);
        n = Copy(target, line, n);
        n = Copy(version == 10 ? " HTTP/1.0"u8 : " HTTP/1.1"u8, line, n);
        _requestLineLength = n;
    }

    /// <summary>A server slot was obtained (end of Tw).</summary>
    public void Queued(ServerState server)
    {
        Server = server;
        if (_queueTs == 0)
        {
            _queueTs = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>The server connection is established, or a kept one reused (end of Tc).</summary>
    public void Connected(IPEndPoint? local)
    {
        _connectTs = Stopwatch.GetTimestamp();
        ServerLocal = local;
    }

    public void Retried(bool redispatch)
    {
        Retries++;
        Redispatched |= redispatch;
    }

    /// <summary>The server's response head arrived (end of Tr).</summary>
    public void ResponseHead(int status)
    {
        _dataTs = Stopwatch.GetTimestamp();
        Status = status;
    }

    /// <summary>HaLua answered itself (deny: cause P; return, redirect: cause L), during the request or the response.</summary>
    public void Answered(int status, char cause)
    {
        Status = status;
        Terminate(cause, _dataTs == 0 ? 'R' : 'H');
    }

    /// <summary>
    /// A Lua service takes the request: no queue and no connect, as for an applet in HAProxy; its
    /// status comes with <see cref="ResponseHead"/> once it has answered.
    /// </summary>
    public void Service(string name)
    {
        ServiceName = name;
        _queueTs = _connectTs = Stopwatch.GetTimestamp();
        if (IsHttp)
        {
            // HAProxy: "LR" for an HTTP applet; a TCP applet ends normally ("--").
            Terminate('L', 'R');
        }
    }

    /// <summary>
    /// Records why the transaction ends (the first cause wins); the phase defaults to where the
    /// transaction was: R (request), C (connect), H (response head) or D (data).
    /// </summary>
    public void Terminate(char cause, char phase = '\0')
    {
        if (Cause != '\0')
        {
            return;
        }

        Cause = cause;
        Phase = phase != '\0' ? phase
            : _requestTs == 0 && IsHttp ? 'R'
            : _connectTs == 0 ? 'C'
            : _dataTs == 0 && IsHttp ? 'H'
            : 'D';
    }

    /// <summary>set-log-level: a level (0..7), or silent (-1) for no line.</summary>
    public void SetLevel(int level)
    {
        if (level >= 0)
        {
            Level = level;
        }

        Silent = level < 0;
    }

    /// <summary>The stream failed with <paramref name="ex"/>: a timeout of a side (c, s), the process stopping (K), a peer gone (C), else an internal error (I).</summary>
    public void Failed(Exception ex, bool stopping, char expiredSide)
    {
        Terminate(stopping ? 'K'
            : ex is OperationCanceledException && expiredSide is 'c' or 's' ? expiredSide
            : ex is OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException ? 'C'
            : 'I');
    }

    /// <summary>A tunnel (TCP stream, HTTP upgrade) ended: the process stopping (K), a side's timeout (c, s) or abort (C, S), else normally.</summary>
    public void TunnelEnded(bool clientAborted, bool serverAborted, char expiredSide, bool stopping)
    {
        if (stopping)
        {
            Terminate('K', 'D');
        }
        else if (expiredSide is 'c' or 's')
        {
            Terminate(expiredSide, 'D');
        }
        else if (clientAborted || serverAborted)
        {
            Terminate(clientAborted ? 'C' : 'S', 'D');
        }
    }

    /// <summary>The end of the transaction: stamps the close time; the line can be written.</summary>
    public void Finish()
    {
        _closeTs = Stopwatch.GetTimestamp();
        InTransaction = false;
    }

    /// <summary>Ends the transaction and writes its line (when the frontend logs) for <paramref name="stream"/>.</summary>
    public void End(Samples.ISampleContext stream, ProxyRuntime? backend)
    {
        Backend = backend;
        Finish();
        Frontend.Log?.Emit(stream, this);
    }

    private static int Copy(ReadOnlySpan<byte> from, byte[] to, int at)
    {
        int n = Math.Min(from.Length, to.Length - at);
        from[..n].CopyTo(to.AsSpan(at));
        return at + n;
    }
}
