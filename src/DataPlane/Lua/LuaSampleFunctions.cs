using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua.Classes;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Samples;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua;

/// <summary>
/// <c>core.register_fetches</c> and <c>core.register_converters</c> functions as <c>lua.NAME</c>
/// in the one sample registry, so the configuration (ACLs, use_backend conditions, and later log
/// formats and header rules) calls them like any built-in. They run synchronously in the
/// sample-fetch / converter context (no yield, as HAProxy forbids it there) under the state's gate.
/// A runtime error is logged with its traceback and gives no sample, as in HAProxy.
/// </summary>
internal static class LuaSampleFunctions
{
    /// <summary>HAProxy passes up to 5 arguments to a Lua fetch or converter.</summary>
    private const int MaxArgs = 12;

    public static void AddTo(LuaEngine engine, SampleRegistry registry)
    {
        foreach (var (name, reg) in engine.Fetches)
        {
            registry.Add(new FetchDescriptor("lua." + name, 0, MaxArgs, SampleType.Str,
                (ISampleContext ctx, IReadOnlyList<string> args, out Sample value) => Run(engine, reg, LuaContextKind.Fetch, ctx, null, args, out value)));
        }

        foreach (var (name, reg) in engine.Converters)
        {
            registry.Add(new ConverterDescriptor("lua." + name, 0, MaxArgs,
                (ISampleContext ctx, ref Sample value, IReadOnlyList<string> args) =>
                {
                    bool ok = Run(engine, reg, LuaContextKind.Converter, ctx, value, args, out var converted);
                    value = converted;
                    return ok;
                }));
        }
    }

    private static bool Run(LuaEngine engine, LuaRegistration reg, LuaContextKind kind, ISampleContext ctx, Sample? input, IReadOnlyList<string> args, out Sample value)
    {
        value = default;
        var fn = reg.For(ctx.Worker);
        var st = fn.State;
        st.Gate.Enter();
        try
        {
            var exec = st.NewExecution(fn.Ref, kind, fn.Name, engine.Settings.SessionTimeout);
            var L = exec.Thread;
            int n = 0;
            if (input is { } v)
            {
                FetchesClass.Push(L, v);
                n++;
            }
            else if (ctx is ILuaTxnHost host)
            {
                // The stream's own TXN (its private data is the actions'); in HTTP, the phase is
                // the message being processed, so txn.http reaches the right head.
                var txn = host.Txn;
                if (host.IsHttp)
                {
                    txn.Phase = ctx is Samples.IHttpResponseView { ResponseStatus: > 0 } ? LuaActionTargets.HttpRes : LuaActionTargets.HttpReq;
                }

                TxnClass.Push(L, st, txn);
                exec.Owner = txn;
                n++;
            }
            else
            {
                lua_pushnil(L);
                n++;
            }

            foreach (var a in args)
            {
                LuaStack.PushString(L, a);
                n++;
            }

            exec.SetArgumentCount(n);
            var outcome = LuaRunner.RunSync(exec);
            bool ok = false;
            if (outcome is LuaOutcome.Ok or LuaOutcome.Done)
            {
                // As HAProxy: nil (or no value, a table...) is the boolean false, so "-m found" matches.
                if (exec.ResultCount == 0 || !FetchesClass.TryToSample(L, -exec.ResultCount, out value))
                {
                    value = Sample.FromBool(false);
                }

                ok = true;
            }
            else if (outcome is not (LuaOutcome.Ok or LuaOutcome.Done))
            {
                ProcessLog.Instance.Alert(exec.ErrorMessage ?? $"Lua {(kind == LuaContextKind.Fetch ? "sample-fetch" : "converter")} '{fn.Name}' failed");
            }

            lua_settop(L, 0);
            exec.Release();
            return ok;
        }
        finally
        {
            st.Gate.Exit();
        }
    }

}
