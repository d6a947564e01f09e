using System.Net.Sockets;
using HaLua.DataPlane.Http;
using HaLua.DataPlane.Streams;

namespace HaLua.DataPlane.Lua;

/// <summary>What a stream offers to the Lua TXN of its actions.</summary>
internal interface ILuaTxnHost
{
    ChannelBuffer Request { get; }

    ChannelBuffer Response { get; }

    bool IsHttp { get; }

    Socket ClientSocket { get; }

    string ProxyName { get; }

    /// <summary>Where txn:log sends: the log targets of the stream's backend, or of its frontend before one is chosen.</summary>
    Logging.LogTarget[] LogTargets { get; }

    /// <summary>The request's log level (txn:set_loglevel), -1 when not set.</summary>
    int LogLevel { get; set; }

    /// <summary>Reads more into the channel; returns when something arrived or the input closed.</summary>
    ValueTask FillAsync(bool request, CancellationToken cancellationToken);

    /// <summary>Sends what Channel.send scheduled on the response to the client now.</summary>
    ValueTask FlushResponseOutputAsync();

    /// <summary>txn:done(): end the stream after this action.</summary>
    void Terminate();

    /// <summary>
    /// An action returned act.YIELD: waits until it is to be called again (its act.wake_time, or
    /// else the stream's next event); false when it must not be (the rule set's end is reached).
    /// </summary>
    ValueTask<bool> WaitToRunActionAgainAsync(long wakeTimeMs, CancellationToken cancellationToken);

    /// <summary>The stream's TXN object (one per stream, shared by its actions and Lua fetches, with the stream's private data).</summary>
    TxnContext Txn { get; }
}

/// <summary>The C# object behind a Lua TXN: one per action run, over the stream's channels.</summary>
internal sealed class TxnContext(ILuaTxnHost host, LuaPrivSlot priv) : LuaStreamContext(priv), ILuaSliceOwner
{
    public ILuaTxnHost Host { get; } = host;

    /// <summary>The Lua table of this TXN in the state that runs the stream's actions (reused by every call).</summary>
    public LuaPrivSlot Table { get; } = new();

    /// <summary>Which rule set runs the action (tcp-req, tcp-res...): what a Channel may read.</summary>
    public LuaActionTargets Phase { get; set; } = LuaActionTargets.TcpReq;

    public ChannelContext RequestChannel => field ??= new ChannelContext(this, true);

    public ChannelContext ResponseChannel => field ??= new ChannelContext(this, false);

    /// <summary>txn.http: only in an HTTP stream.</summary>
    public HttpContext? Http => field ??= Host.IsHttp && Host is ILuaHttpHost h ? new HttpContext(this, h) : null;

    /// <summary>What the last action run asked for: its act.* return code, or what txn:done decided.</summary>
    public LuaActionReturn ActionReturn { get; set; }

    /// <summary>act.wake_time(ms) of the last action run; -1 when it did not call it.</summary>
    public long WakeTimeMs { get; set; } = -1;

    /// <summary>txn:done(reply) in an HTTP action: the response to send (status line, headers, body), or null.</summary>
    public byte[]? Reply { get; set; }

    /// <summary>The status of <see cref="Reply"/> (for the access log).</summary>
    public int ReplyStatus { get; set; }

    /// <summary>Clears what the previous action run left.</summary>
    public void BeginAction()
    {
        ActionReturn = LuaActionReturn.Continue;
        WakeTimeMs = -1;
        Reply = null;
        ReplyStatus = 0;
    }

    public ValueTask AfterSliceAsync() => Phase is LuaActionTargets.TcpRes && Host.Response.OutLength > 0 ? Host.FlushResponseOutputAsync() : ValueTask.CompletedTask;
}

/// <summary>HAProxy's <c>enum act_return</c>, the values of Lua's <c>act.*</c>: what an action tells its rule set.</summary>
internal enum LuaActionReturn
{
    /// <summary>Go on with the next rule (also any value that is not one of these).</summary>
    Continue = 0,

    /// <summary>Stop this rule set; the message goes on.</summary>
    Stop = 1,

    /// <summary>Call the action again later (act.wake_time).</summary>
    Yield = 2,

    /// <summary>An internal error: HTTP 500, or the TCP connection closed.</summary>
    Error = 3,

    /// <summary>As <see cref="Stop"/> (HAProxy 2.6 goes on with the message).</summary>
    Done = 4,

    /// <summary>Deny: HTTP 403 (502 for a response), or the TCP connection closed.</summary>
    Deny = 5,

    /// <summary>Abort: the action answered (txn:done), or HAProxy 2.6's reaction to a bare act.ABORT.</summary>
    Abort = 6,

    /// <summary>An invalid message: HTTP 400 (502 for a response), or the TCP connection closed.</summary>
    Invalid = 7,
}

/// <summary>The C# object behind a Lua Channel (txn.req / txn.res).</summary>
internal sealed class ChannelContext(TxnContext txn, bool isRequest) : ILuaWaitable
{
    public TxnContext Txn { get; } = txn;

    public bool IsRequest { get; } = isRequest;

    public ChannelBuffer Buffer => IsRequest ? Txn.Host.Request : Txn.Host.Response;

    public ValueTask WaitAsync(CancellationToken cancellationToken) => Txn.Host.FillAsync(IsRequest, cancellationToken);
}

/// <summary>What an HTTP stream offers to the HTTP class of its Lua actions: the message heads being processed.</summary>
internal interface ILuaHttpHost
{
    /// <summary>The request head (response false) or the response head; null when there is none now.</summary>
    HttpHead? MessageHead(bool response);

    /// <summary>The bytes the head's offsets refer to.</summary>
    ReadOnlySpan<byte> MessageBytes(bool response);

    HeadEditor MessageEditor(bool response);
}

/// <summary>The C# object behind a Lua HTTP object (txn.http).</summary>
internal sealed class HttpContext(TxnContext txn, ILuaHttpHost host)
{
    public TxnContext Txn { get; } = txn;

    public ILuaHttpHost Host { get; } = host;
}
