using HaLua.DataPlane.Logging;

namespace HaLua.DataPlane.Lua;

/// <summary>Something that acts after each resume slice (an applet flushes what the script sent).</summary>
internal interface ILuaSliceOwner
{
    ValueTask AfterSliceAsync();
}

/// <summary>Pushes the arguments of a new execution on its thread (the caller holds the gate); returns how many.</summary>
internal delegate int LuaArgumentPusher<in TArg>(IntPtr thread, LuaState state, TArg arg);

/// <summary>The resume loops: synchronous (body, init, fetch, converter) and asynchronous (task, action, service).</summary>
internal static class LuaRunner
{
    /// <summary>Runs to completion on the calling thread; the caller holds the state's gate.</summary>
    public static LuaOutcome RunSync(LuaExecution exec)
    {
        while (true)
        {
            var outcome = exec.Resume();
            if (outcome != LuaOutcome.Yield)
            {
                return outcome;
            }

            if (exec.Waiter is { } w)
            {
                // Only body and init may wait here (core.sleep at start-up): nothing else runs yet.
                w.WaitAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>Runs to completion without blocking a thread: each yield releases the state until what it waits for is ready.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<LuaOutcome> RunAsync(LuaExecution exec, ILuaSliceOwner? owner, CancellationToken cancellationToken)
    {
        var st = exec.State;

        // A stream's Lua runs on its worker's event loop; a wake-up from elsewhere (a timer, the
        // gate handed over by another thread) comes back to it.
        var home = HaLua.DataPlane.Io.EventLoop.Current;
        while (true)
        {
            LuaOutcome outcome;
            if (home is not null && !home.IsCurrent)
            {
                await home.SwitchTo();
            }

            await st.EnterAsync().ConfigureAwait(false);
            try
            {
                outcome = exec.Resume();
            }
            finally
            {
                st.Exit();
            }

            if (owner is not null)
            {
                await owner.AfterSliceAsync().ConfigureAwait(false);
            }

            if (outcome != LuaOutcome.Yield)
            {
                return outcome;
            }

            try
            {
                if (exec.Waiter is { } w)
                {
                    await w.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                else if (home is not null)
                {
                    // Pre-empted: the loop's other streams run, then this one goes on.
                    await home.Yield();
                }
                else
                {
                    await Task.Yield();
                }
            }
            catch (OperationCanceledException)
            {
                return LuaOutcome.Done;
            }
        }
    }

    /// <summary>Tasks run on an event loop too (the state's own worker's, or the first).</summary>
    public static async Task RunTaskOnLoopAsync(LuaFunctionRef fn, TimeSpan budget, CancellationToken stopping)
    {
        if (HaLua.DataPlane.Io.EventLoops.Enabled)
        {
            await HaLua.DataPlane.Io.EventLoops.For(Math.Max(0, fn.State.WorkerIndex)).SwitchTo();
        }

        await RunTaskAsync(fn, budget, stopping).ConfigureAwait(false);
    }

    /// <summary>Runs a core.register_task function until it returns or the engine stops.</summary>
    public static Task RunTaskAsync(LuaFunctionRef fn, TimeSpan budget, CancellationToken stopping)
        => RunFunctionAsync<object?>(fn, LuaContextKind.Task, "task", budget, null, null, null, null, stopping).AsTask();

    /// <summary>
    /// A Lua action: the function called with the TXN and the rule's arguments, and called again
    /// while it returns act.YIELD (after its act.wake_time, or the stream's next event). Returns
    /// what the rule set must do (HAProxy's act_return); an error, a timeout or running out of
    /// memory is logged and the rules go on.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<LuaActionReturn> RunActionAsync(LuaFunctionRef fn, TxnContext txn, IReadOnlyList<string> args, TimeSpan budget, CancellationToken cancellationToken)
    {
        while (true)
        {
            txn.BeginAction();
            var outcome = await RunFunctionAsync(
                fn, LuaContextKind.Action, fn.Name, budget, txn, txn, (txn, args),
                static (thread, st, a) =>
                {
                    Classes.TxnClass.Push(thread, st, a.txn);
                    foreach (var arg in a.args)
                    {
                        Interop.LuaStack.PushString(thread, arg);
                    }

                    return 1 + a.args.Count;
                },
                cancellationToken).ConfigureAwait(false);
            if (outcome is not (LuaOutcome.Ok or LuaOutcome.Done))
            {
                return LuaActionReturn.Continue;
            }

            if (txn.ActionReturn != LuaActionReturn.Yield)
            {
                return txn.ActionReturn;
            }

            if (!await txn.Host.WaitToRunActionAgainAsync(txn.WakeTimeMs, cancellationToken).ConfigureAwait(false))
            {
                // HAProxy's final call: a yield is then refused and the rules go on.
                ProcessLog.Instance.Alert($"Lua function '{fn.Name}': yield not allowed (the rule set ends).");
                return LuaActionReturn.Continue;
            }
        }
    }

    /// <summary>An action's result, as HAProxy reads it: the last value as an integer; anything else (or a code it does not know) goes on.</summary>
    private static LuaActionReturn ReturnCode(IntPtr thread)
    {
        long code = Native.LuaApi.lua_tointegerx(thread, -1, out int isNumber);
        return isNumber != 0 && code is >= 0 and <= (long)LuaActionReturn.Invalid ? (LuaActionReturn)code : LuaActionReturn.Continue;
    }

    /// <summary>
    /// One registered function as a new coroutine (service, action, task): the execution is made
    /// and its arguments pushed under the state's gate, it runs to its end without blocking a
    /// thread, a failure (error, timeout, out of memory) is logged with its traceback, and the
    /// coroutine goes back to the state.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<LuaOutcome> RunFunctionAsync<TArg>(
        LuaFunctionRef fn,
        LuaContextKind kind,
        string name,
        TimeSpan budget,
        object? owner,
        ILuaSliceOwner? sliceOwner,
        TArg arg,
        LuaArgumentPusher<TArg>? pushArguments,
        CancellationToken cancellationToken)
    {
        var st = fn.State;
        LuaExecution exec;
        await st.EnterAsync().ConfigureAwait(false);
        try
        {
            exec = st.NewExecution(fn.Ref, kind, name, budget);
            if (pushArguments is not null)
            {
                exec.SetArgumentCount(pushArguments(exec.Thread, st, arg));
            }

            exec.Owner = owner;
        }
        finally
        {
            st.Exit();
        }

        var outcome = await RunAsync(exec, sliceOwner, cancellationToken).ConfigureAwait(false);
        if (outcome is LuaOutcome.Error or LuaOutcome.Timeout or LuaOutcome.OutOfMemory)
        {
            ProcessLog.Instance.Alert(exec.ErrorMessage ?? $"Lua {name} '{fn.Name}' failed");
        }

        await st.EnterAsync().ConfigureAwait(false);
        try
        {
            if (kind == LuaContextKind.Action && owner is TxnContext txn && outcome is LuaOutcome.Ok or LuaOutcome.Done
                && exec.ResultCount > 0 && txn.ActionReturn == LuaActionReturn.Continue)
            {
                txn.ActionReturn = ReturnCode(exec.Thread);
            }

            exec.Release();
        }
        finally
        {
            st.Exit();
        }

        return outcome;
    }
}
