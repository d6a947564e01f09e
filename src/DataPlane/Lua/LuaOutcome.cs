namespace HaLua.DataPlane.Lua;

/// <summary>What one resume of a Lua execution ended with (HAProxy's <c>enum hlua_exec</c>).</summary>
internal enum LuaOutcome
{
    /// <summary>The function returned; its results are on the execution's stack.</summary>
    Ok,

    /// <summary>The execution yielded: either it waits for something (<see cref="LuaExecution.Waiter"/>) or it was pre-empted.</summary>
    Yield,

    /// <summary>A runtime error; <see cref="LuaExecution.ErrorMessage"/> holds the message with its traceback.</summary>
    Error,

    /// <summary>The execution used more Lua time than its context allows (tune.lua.*-timeout).</summary>
    Timeout,

    /// <summary>The state ran out of the memory allowed by tune.lua.maxmem.</summary>
    OutOfMemory,

    /// <summary>The owner stopped it (core.done, txn:done, shutdown).</summary>
    Done,
}

/// <summary>HAProxy's Lua execution contexts; functions declare in which of them they may be called.</summary>
[Flags]
internal enum LuaContextKind
{
    None = 0,
    Body = 1,
    Init = 2,
    Task = 4,
    Action = 8,
    Fetch = 16,
    Converter = 32,
    Service = 64,
    Cli = 128,

    /// <summary>Every runtime context (the ones that run with traffic flowing).</summary>
    Runtime = Task | Action | Fetch | Converter | Service | Cli,
    All = Body | Init | Runtime,
}

/// <summary>Something an execution waits for before it is resumed (I/O, a timer...).</summary>
internal interface ILuaWaitable
{
    ValueTask WaitAsync(CancellationToken cancellationToken);
}
