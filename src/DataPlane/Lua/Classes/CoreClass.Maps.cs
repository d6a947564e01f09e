using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Maps;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// core.set_map, core.del_map, core.add_acl and core.del_acl: changes to the shared references
/// (by file name), seen at once by every Lua state and by the configuration's converters and ACLs.
/// As in HAProxy, a key or value that a user of the reference cannot parse (a non-address in a
/// file used with <c>-m ip</c>...) is silently not added.
/// </summary>
internal static unsafe partial class CoreClass
{
    /// <summary>The spec's contexts for the four functions (services and cli commands run as actions).</summary>
    private const LuaContextKind MapContexts = LuaContextKind.Init | LuaContextKind.Runtime;

    private static void RegisterMaps(RawFunctions r)
    {
        r.Add("set_map", &SetMap);
        r.Add("del_map", &DelMap);
        r.Add("add_acl", &AddAcl);
        r.Add("del_acl", &DelAcl);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetMap(IntPtr L) => LuaCallback.Run(L, &SetMapImpl);

    private static int SetMapImpl(IntPtr L, LuaState st)
    {
        var reference = Reference(L, st, "core.set_map", "map");
        reference.SetOrAdd(MapClass.Latin1(L, 2, "core.set_map"), MapClass.Latin1(L, 3, "core.set_map"), out _);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DelMap(IntPtr L) => LuaCallback.Run(L, &DelMapImpl);

    private static int DelMapImpl(IntPtr L, LuaState st)
    {
        Reference(L, st, "core.del_map", "map").Delete(MapClass.Latin1(L, 2, "core.del_map"));
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int AddAcl(IntPtr L) => LuaCallback.Run(L, &AddAclImpl);

    private static int AddAclImpl(IntPtr L, LuaState st)
    {
        Reference(L, st, "core.add_acl", "acl").AddIfMissing(MapClass.Latin1(L, 2, "core.add_acl"), out _);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DelAcl(IntPtr L) => LuaCallback.Run(L, &DelAclImpl);

    private static int DelAclImpl(IntPtr L, LuaState st)
    {
        Reference(L, st, "core.del_acl", "acl").Delete(MapClass.Latin1(L, 2, "core.del_acl"));
        return 0;
    }

    /// <summary>The reference named by argument 1; a name no configuration or Map.new loaded is an error, as in HAProxy.</summary>
    private static PatternReference Reference(IntPtr L, LuaState st, string fn, string kind)
    {
        LuaCallback.Require(st, MapContexts, fn);
        string file = LuaCallback.String(L, 1, fn);
        return st.Engine.Samples.Patterns.Find(file) ?? throw new LuaArgumentException($"{fn}: unknown {kind} file '{file}'");
    }
}
