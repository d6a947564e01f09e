namespace HaLua.DataPlane.Lua.Interop;

/// <summary>The C# functions handed to the prelude as the <c>raw</c> table, by name.</summary>
internal sealed unsafe class RawFunctions
{
    private readonly List<(string Name, IntPtr Fn)> _functions = [];

    public IReadOnlyList<(string Name, IntPtr Fn)> All => _functions;

    public void Add(string name, delegate* unmanaged[Cdecl]<IntPtr, int> fn) => _functions.Add((name, (IntPtr)fn));
}
