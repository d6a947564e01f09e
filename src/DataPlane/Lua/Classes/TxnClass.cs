using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>HAProxy's TXN class (its priv functions also serve AppletTCP and AppletHTTP).</summary>
internal static unsafe class TxnClass
{
    /// <summary>The spec's contexts for TXN functions: actions and sample fetches.</summary>
    private const LuaContextKind TxnContexts = LuaContextKind.Action | LuaContextKind.Fetch;

    /// <summary>The functions TXN shares with AppletTCP and AppletHTTP (private data, variables) also serve services and cli commands.</summary>
    private const LuaContextKind SharedContexts = TxnContexts | LuaContextKind.Service | LuaContextKind.Cli;

    public static void Register(RawFunctions r)
    {
        r.Add("txn_log", &Log);
        r.Add("get_priv", &GetPriv);
        r.Add("set_priv", &SetPriv);
        r.Add("txn_set_loglevel", &SetLogLevel);
        r.Add("txn_set_tos", &SetTos);
        r.Add("txn_set_mark", &SetMark);
        r.Add("txn_done", &Done);
        r.Add("set_var", &SetVar);
        r.Add("unset_var", &UnsetVar);
        r.Add("get_var", &GetVar);
        r.Add("txn_channel", &Channel);
        r.Add("txn_http", &Http);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetVar(IntPtr L) => LuaCallback.Run(L, &SetVarImpl);

    /// <summary>
    /// set_var(name, value[, ifexist]): as HAProxy converts Lua values to samples, integers stay
    /// integers, booleans become booleans, strings strings and anything else the boolean false.
    /// Returns false for a name without a valid scope (proc, sess, txn, req, res), as HAProxy 2.6.
    /// With ifexist, a proc variable is only updated, never created (HAProxy 2.6 applies it to
    /// that scope only).
    /// </summary>
    private static int SetVarImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, SharedContexts, "set_var");
        var ctx = LuaCallback.Self<LuaStreamContext>(L, 1, "set_var");
        string fullName = LuaCallback.String(L, 2, "set_var");
        var value = FetchesClass.TryToSample(L, 3, out var converted) ? converted : Samples.Sample.FromBool(false);
        bool ifExist = lua_toboolean(L, 4) != 0;
        bool ok = Samples.Variables.TryParse(fullName, out var scope, out var name);
        var vars = VariablesOf(ctx);
        if (ok && ifExist && scope == Samples.VariableScope.Proc && !vars.TryGet(scope, name, out _))
        {
            ok = false;
        }

        if (ok)
        {
            vars.Set(scope, name, value);
        }

        LuaStack.PushBool(L, ok);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int UnsetVar(IntPtr L) => LuaCallback.Run(L, &UnsetVarImpl);

    private static int UnsetVarImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, SharedContexts, "unset_var");
        var ctx = LuaCallback.Self<LuaStreamContext>(L, 1, "unset_var");
        bool ok = Samples.Variables.TryParse(LuaCallback.String(L, 2, "unset_var"), out var scope, out var name);
        if (ok)
        {
            VariablesOf(ctx).Unset(scope, name);
        }

        LuaStack.PushBool(L, ok);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetVar(IntPtr L) => LuaCallback.Run(L, &GetVarImpl);

    private static int GetVarImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, SharedContexts, "get_var");
        var ctx = LuaCallback.Self<LuaStreamContext>(L, 1, "get_var");
        if (Samples.Variables.TryParse(LuaCallback.String(L, 2, "get_var"), out var scope, out var name)
            && VariablesOf(ctx).TryGet(scope, name, out var v))
        {
            return FetchesClass.Push(L, v);
        }

        lua_pushnil(L);
        return 1;
    }

    private static Samples.Variables VariablesOf(LuaStreamContext ctx) => ctx.Samples?.Variables ?? Samples.Variables.ProcessOnly;

    /// <summary>
    /// Pushes a TXN object {[0] = handle}; its f, sf, c, sc, req, res and http are made by the
    /// prelude when a script first reads them (req/res/http through txn_channel and txn_http).
    /// </summary>
    public static void Push(IntPtr L, LuaState st, TxnContext txn)
    {
        // One table per stream and state, reused by each action and Lua fetch: what a script
        // stored in it is cleared first, so every call sees a fresh TXN, as in HAProxy. A call
        // made while Lua code runs (a Lua fetch called from an action) gets a table of its own.
        if (st.Current is not null)
        {
            LuaObjects.PushObject(L, txn, st.Classes.Txn, st.Classes.Handle, 8);
            return;
        }

        if (txn.Table.State == st)
        {
            txn.Table.Push(st, L);
            ClearScriptFields(L);
            return;
        }

        LuaObjects.PushObject(L, txn, st.Classes.Txn, st.Classes.Handle, 8);
        if (txn.Table.State is null)
        {
            txn.Table.Set(st, L, -1);
        }
    }

    /// <summary>Removes every field of the table at the top but [0] and the attributes the prelude makes (f, sf, c, sc, req, res, http).</summary>
    private static void ClearScriptFields(IntPtr L)
    {
        lua_pushnil(L);
        while (lua_next(L, -2) != 0)
        {
            lua_pop(L, 1);
            if (!IsAttribute(L))
            {
                lua_pushvalue(L, -1);
                lua_pushnil(L);
                lua_rawset(L, -4);
            }
        }
    }

    private static bool IsAttribute(IntPtr L)
    {
        int t = lua_type(L, -1);
        if (t == LUA_TNUMBER)
        {
            return lua_tointegerx(L, -1, out int isInt) == 0 && isInt != 0;
        }

        if (t != LUA_TSTRING)
        {
            return false;
        }

        var k = LuaStack.ToBytes(L, -1);
        return k.SequenceEqual("f"u8) || k.SequenceEqual("sf"u8) || k.SequenceEqual("c"u8) || k.SequenceEqual("sc"u8)
            || k.SequenceEqual("req"u8) || k.SequenceEqual("res"u8) || k.SequenceEqual("http"u8);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Channel(IntPtr L) => LuaCallback.Run(L, &ChannelImpl);

    private static int ChannelImpl(IntPtr L, LuaState st)
    {
        var txn = LuaCallback.Self<TxnContext>(L, 1, "TXN");
        ChannelClass.Push(L, st, lua_toboolean(L, 2) != 0 ? txn.RequestChannel : txn.ResponseChannel);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Http(IntPtr L) => LuaCallback.Run(L, &HttpImpl);

    /// <summary>txn.http: an HTTP object in HTTP streams, nil elsewhere.</summary>
    private static int HttpImpl(IntPtr L, LuaState st)
    {
        var txn = LuaCallback.Self<TxnContext>(L, 1, "TXN");
        if (txn.Http is { } http)
        {
            HttpClass.Push(L, st, http);
        }
        else
        {
            lua_pushnil(L);
        }

        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Log(IntPtr L) => LuaCallback.Run(L, &LogImpl);

    private static int LogImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, TxnContexts, "TXN.log");
        var txn = LuaCallback.Self<TxnContext>(L, 1, "TXN.log");
        long level = LuaCallback.Integer(L, 2, "TXN.log");
        if (level == -1)
        {
            level = txn.Host.LogLevel >= 0 ? txn.Host.LogLevel : 6;
        }
        else if (level is < 0 or > 7)
        {
            throw new LuaArgumentException("TXN.log: invalid log level (expected 0..7)");
        }

        ProcessLog.Instance.Lua((int)level, LuaCallback.String(L, 3, "TXN.log"), txn.Host.LogTargets);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetPriv(IntPtr L) => LuaCallback.Run(L, &GetPrivImpl);

    private static int GetPrivImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, SharedContexts, "get_priv");
        LuaCallback.Self<LuaStreamContext>(L, 1, "get_priv").Priv.Push(st, L);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetPriv(IntPtr L) => LuaCallback.Run(L, &SetPrivImpl);

    private static int SetPrivImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, SharedContexts, "set_priv");
        var ctx = LuaCallback.Self<LuaStreamContext>(L, 1, "set_priv");
        if (ctx.Priv.State is { } other && other != st)
        {
            throw new LuaArgumentException("set_priv: the private data belongs to another Lua state (lua-load vs lua-load-per-thread)");
        }

        lua_settop(L, 2);
        ctx.Priv.Set(st, L, 2);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetLogLevel(IntPtr L) => LuaCallback.Run(L, &SetLogLevelImpl);

    private static int SetLogLevelImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, TxnContexts, "TXN.set_loglevel");
        var txn = LuaCallback.Self<TxnContext>(L, 1, "TXN.set_loglevel");
        long level = LuaCallback.Integer(L, 2, "TXN.set_loglevel");
        if (level is < 0 or > 7)
        {
            throw new LuaArgumentException("TXN.set_loglevel: invalid log level (expected 0..7)");
        }

        txn.Host.LogLevel = (int)level;
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetTos(IntPtr L) => LuaCallback.Run(L, &SetTosImpl);

    private static int SetTosImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, TxnContexts, "TXN.set_tos");
        var txn = LuaCallback.Self<TxnContext>(L, 1, "TXN.set_tos");
        int tos = (int)LuaCallback.Integer(L, 2, "TXN.set_tos");
        var s = txn.Host.ClientSocket;
        try
        {
            if (s.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // IPV6_TCLASS; a dual-mode socket carrying IPv4 also honours IP_TOS.
                s.SetRawSocketOption(41, 67, BitConverter.GetBytes(tos));
                if (s.DualMode)
                {
                    s.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.TypeOfService, tos);
                }
            }
            else
            {
                s.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.TypeOfService, tos);
            }
        }
        catch (SocketException)
        {
            // HAProxy ignores platforms and sockets that refuse it.
        }

        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetMark(IntPtr L) => LuaCallback.Run(L, &SetMarkImpl);

    private static int SetMarkImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, TxnContexts, "TXN.set_mark");
        var txn = LuaCallback.Self<TxnContext>(L, 1, "TXN.set_mark");
        int mark = (int)LuaCallback.Integer(L, 2, "TXN.set_mark");
        try
        {
            // SOL_SOCKET / SO_MARK on Linux (needs CAP_NET_ADMIN, as in HAProxy).
            txn.Host.ClientSocket.SetRawSocketOption(1, 36, BitConverter.GetBytes(mark));
        }
        catch (SocketException)
        {
            // not permitted or not supported: ignored as in HAProxy
        }

        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Done(IntPtr L) => LuaCallback.Run(L, &DoneImpl);

    /// <summary>
    /// txn:done([reply]): in an action the stream ends after it. In an HTTP action a reply table
    /// is sent as the response (HAProxy 2.2+); one that cannot be sent as valid HTTP makes the
    /// action fail as act.ERROR does (500). Elsewhere it ends the execution, as core.done.
    /// </summary>
    private static int DoneImpl(IntPtr L, LuaState st)
    {
        var exec = LuaCallback.Require(st, TxnContexts, "TXN.done");
        var txn = LuaCallback.Self<TxnContext>(L, 1, "TXN.done");
        exec.DoneRequested = true;
        if (exec.Kind != LuaContextKind.Action)
        {
            return 0;
        }

        txn.ActionReturn = LuaActionReturn.Abort;
        if (txn.Host.IsHttp && lua_type(L, 2) == LUA_TTABLE)
        {
            if (!ReplyClass.TryBuild(L, 2, out var response, out int status, out string? problem))
            {
                ProcessLog.Instance.Alert($"Lua function '{exec.Name}': txn:done: the reply cannot be sent: {problem}.");
                txn.ActionReturn = LuaActionReturn.Error;
                return 0;
            }

            txn.Reply = response;
            txn.ReplyStatus = status;
        }

        txn.Host.Terminate();
        return 0;
    }
}
