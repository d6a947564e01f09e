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

    /// <summary>The request's log level (txn:set_loglevel), -1 when not set.</summary>
    int LogLevel { get; set; }

    /// <summary>Reads more into the channel; returns when something arrived or the input closed.</summary>
    ValueTask FillAsync(bool request, CancellationToken cancellationToken);

    /// <summary>Sends what Channel.send scheduled on the response to the client now.</summary>
    ValueTask FlushResponseOutputAsync();

    /// <summary>txn:done(): end the stream after this action.</summary>
    void Terminate();

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

    public ValueTask AfterSliceAsync() => Phase is LuaActionTargets.TcpRes && Host.Response.OutLength > 0 ? Host.FlushResponseOutputAsync() : ValueTask.CompletedTask;
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
