namespace HaLua.DataPlane.Maps;

/// <summary>
/// HAProxy's pattern matching methods (<c>-m METHOD</c>, <c>map_METHOD</c>). The values are
/// HAProxy's PAT_MATCH_* numbers, which Lua sees as <c>Map._str</c>, <c>Map._beg</c>...
/// (<c>bin</c>, 4, is not served).
/// </summary>
internal enum MatchMethod
{
    Found = 0,
    Bool = 1,
    Int = 2,
    Ip = 3,
    Len = 5,
    Str = 6,
    Beg = 7,
    Sub = 8,
    Dir = 9,
    Dom = 10,
    End = 11,
    Reg = 12,
}

internal static class MatchMethods
{
    /// <summary>Every method with its config name, in HAProxy's order.</summary>
    public static readonly IReadOnlyList<(string Name, MatchMethod Method)> All =
    [
        ("found", MatchMethod.Found), ("bool", MatchMethod.Bool), ("int", MatchMethod.Int), ("ip", MatchMethod.Ip),
        ("len", MatchMethod.Len), ("str", MatchMethod.Str), ("beg", MatchMethod.Beg), ("sub", MatchMethod.Sub),
        ("dir", MatchMethod.Dir), ("dom", MatchMethod.Dom), ("end", MatchMethod.End), ("reg", MatchMethod.Reg),
    ];

    public static bool TryParse(string name, out MatchMethod method)
    {
        foreach (var (n, m) in All)
        {
            if (n == name)
            {
                method = m;
                return true;
            }
        }

        method = default;
        return false;
    }

    public static string Name(this MatchMethod method) => All.First(x => x.Method == method).Name;

    /// <summary>Whether the method matches against patterns (found and bool ignore them).</summary>
    public static bool UsesPatterns(this MatchMethod method) => method is not (MatchMethod.Found or MatchMethod.Bool);

    /// <summary>Whether <c>-i</c> changes anything: only the string methods compare text.</summary>
    public static bool IsTextual(this MatchMethod method)
        => method is MatchMethod.Str or MatchMethod.Beg or MatchMethod.Sub or MatchMethod.Dir or MatchMethod.Dom or MatchMethod.End or MatchMethod.Reg;
}
