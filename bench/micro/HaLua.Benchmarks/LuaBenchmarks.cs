using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using BenchmarkDotNet.Attributes;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.Benchmarks;

/// <summary>
/// The Lua engine: a C# function called from Lua (the interop toll of every HaLua function), an
/// action resumed after a yield, a Concat of 20,000 adds. Loops run inside Lua; results are per
/// operation.
/// </summary>
[MemoryDiagnoser]
public class LuaBenchmarks
{
    private const int Calls = 100_000;

    private LuaBench _bench = null!;
    private LuaFunctionRef _yieldingAction = null!;

    [GlobalSetup]
    public void Setup()
    {
        _bench = new LuaBench("""
            function call_csharp(n)
              local f = bench_noop
              for i = 1, n do f() end
            end
            function call_lua(n)
              local function f() return 1 end
              for i = 1, n do f() end
            end
            function concat_20000()
              local c = core.concat()
              for i = 1, 20000 do c:add("#####") end
              return #c:dump()
            end
            core.register_action("bench_yield", { "tcp-req" }, function(txn) core.yield() end)
            """);
        _yieldingAction = _bench.Engine.Actions["bench_yield"].For(0);
    }

    [GlobalCleanup]
    public void Cleanup() => _bench.Dispose();

    /// <summary>A C# function through HaLua's callback wrapper (LuaCallback.Run), called from a Lua loop.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public void CSharpFunctionCalledFromLua() => _bench.Call("call_csharp", Calls);

    /// <summary>The same loop calling a Lua function: what the loop and a call cost without the transition.</summary>
    [Benchmark(OperationsPerInvoke = Calls)]
    public void LuaFunctionCalledFromLua() => _bench.Call("call_lua", Calls);

    /// <summary>An action: a coroutine from the pool, resumed, yields (core.yield), resumed again to its end, released.</summary>
    [Benchmark]
    public int ActionResumedAfterYield()
    {
        var st = _bench.State;
        st.Enter();
        try
        {
            var exec = st.NewExecution(_yieldingAction.Ref, LuaContextKind.Action, "bench_yield", TimeSpan.FromSeconds(30));
            if (exec.Resume() != LuaOutcome.Yield)
            {
                throw new InvalidOperationException("no yield");
            }

            var outcome = exec.Resume();
            exec.Release();
            return (int)outcome;
        }
        finally
        {
            st.Exit();
        }
    }

    /// <summary>The same through the runner streams use (the gate, the resume loop, a hop to the thread pool for the yield).</summary>
    [Benchmark]
    public async Task<int> ActionResumedAfterYield_Runner()
        => (int)await LuaRunner.RunFunctionAsync<object?>(_yieldingAction, LuaContextKind.Action, "bench_yield", TimeSpan.FromSeconds(30), null, null, null, null, CancellationToken.None);

    /// <summary>core.concat() with 20,000 adds of 5 bytes, then dump.</summary>
    [Benchmark]
    public void Concat20000Adds() => _bench.Call("concat_20000", -1);
}

/// <summary>Map:lookup from Lua in a 100,000-entry map, for each match method.</summary>
[MemoryDiagnoser]
public class MapLookupBenchmarks
{
    private const int Lookups = 100;
    private const int Entries = 100_000;

    private string _dir = null!;
    private LuaBench _bench = null!;

    /// <summary>The match method of the map (Map._str, Map._beg...).</summary>
    [Params("str", "beg", "sub", "dir", "dom", "end", "reg", "int", "ip")]
    public string Method { get; set; } = "str";

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("halua-bench-map-").FullName;
        var (entryOf, lookup) = MapFor(Method);
        var map = new StringBuilder();
        for (int i = 0; i < Entries; i++)
        {
            map.Append(entryOf(i)).Append(" v").Append(i).Append('\n');
        }

        string file = Path.Combine(_dir, "bench.map");
        File.WriteAllText(file, map.ToString());
        _bench = new LuaBench($$"""
            local map = Map.new("{{file}}", Map._{{Method}})
            local key = {{lookup}}
            assert(map:lookup(key) == "v{{Entries - 1}}", "the last entry must match")
            function lookups(n)
              for i = 1, n do map:lookup(key) end
            end
            """);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bench.Dispose();
        Directory.Delete(_dir, true);
    }

    /// <summary>A key that matches the last entry: the worst case of the methods that scan (sub, reg).</summary>
    [Benchmark(OperationsPerInvoke = Lookups)]
    public void MapLookup100000Entries() => _bench.Call("lookups", Lookups);

    /// <summary>Each method's entries and the Lua expression of a key matching the last one.</summary>
    private static (Func<int, string> Entry, string Lookup) MapFor(string method)
    {
        const int last = Entries - 1;
        static string Ip(int i, string host) => $"{10 + (i >> 16)}.{(i >> 8) & 0xFF}.{i & 0xFF}.{host}";
        return method switch
        {
            "str" => (i => $"key{i:D6}", $"\"key{last:D6}\""),
            "beg" => (i => $"/path/{i:D6}/", $"\"/path/{last:D6}/x/y\""),
            "sub" => (i => $"needle{i:D6}", $"\"a needle{last:D6} b\""),
            "dir" => (i => $"d{i:D6}", $"\"/a/d{last:D6}/b\""),
            "dom" => (i => $"h{i:D6}.example.com", $"\"www.h{last:D6}.example.com\""),
            "end" => (i => $".h{i:D6}.example", $"\"www.h{last:D6}.example\""),
            "reg" => (i => $"^/r{i:D6}/[0-9]+$", $"\"/r{last:D6}/123\""),
            "int" => (i => (i * 10).ToString(CultureInfo.InvariantCulture), (last * 10).ToString(CultureInfo.InvariantCulture)),
            "ip" => (i => Ip(i, "0/24"), $"\"{Ip(last, "7")}\""),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, null),
        };
    }
}

/// <summary>A Lua engine over a script written to a temp file, with the C# function <c>bench_noop</c> as a global.</summary>
internal sealed unsafe class LuaBench : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("halua-bench-lua-").FullName;

    public LuaBench(string script)
    {
        string path = Path.Combine(_dir, "bench.lua");
        File.WriteAllText(path, script);
        Engine = new LuaEngine(new LuaSettings(TimeSpan.FromSeconds(30), TimeSpan.Zero, TimeSpan.FromSeconds(30), 10_000, 0, 1))
        {
            // The C# function is a global before the body runs.
            OnStateReady = st =>
            {
                st.Enter();
                try
                {
                    lua_pushcclosure(st.L, &Noop, 0);
                    LuaStack.SetGlobal(st.L, "bench_noop");
                }
                finally
                {
                    st.Exit();
                }
            },
        };
        var errors = Engine.Load([new LuaLoadConfig(path, false, [], new SourceLocation("bench.cfg", 1))], []);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join('\n', errors));
        }

        State = Engine.States.Single();
    }

    public LuaEngine Engine { get; }

    public LuaState State { get; }

    /// <summary>Calls the global Lua function with <paramref name="n"/> (none when negative), holding the state's gate.</summary>
    public void Call(string function, int n)
    {
        var L = State.L;
        State.Enter();
        try
        {
            LuaStack.GetGlobal(L, function);
            int nargs = 0;
            if (n >= 0)
            {
                lua_pushinteger(L, n);
                nargs = 1;
            }

            if (lua_pcall(L, nargs, 0, 0) != LUA_OK)
            {
                throw new InvalidOperationException(LuaStack.ToStringOrNull(L, -1));
            }
        }
        finally
        {
            State.Exit();
        }
    }

    public void Dispose()
    {
        Engine.Dispose();
        Directory.Delete(_dir, true);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Noop(IntPtr L) => LuaCallback.Run(L, &NoopImpl);

    private static int NoopImpl(IntPtr L, LuaState st)
    {
        lua_pushinteger(L, 1);
        return 1;
    }
}
