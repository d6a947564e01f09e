using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// HAProxy's Regex class: <c>Regex.new(pattern, case_sensitive)</c> returns <c>true, regex</c> or
/// <c>false, reason</c>; <c>regex:exec(str)</c> a boolean; <c>regex:match(str)</c> a boolean and
/// the whole match then each group, up to 20 strings, stopping at the first group that did not
/// take part (as HAProxy 2.6). Patterns use PCRE syntax (see <see cref="TranslatePcre"/>) and
/// match bytes: the pattern and the subject are read as Latin-1, one char per byte. A match that
/// runs longer than <see cref="MatchTimeout"/> is a Lua error, never a silent "no match".
/// </summary>
internal static unsafe partial class RegexClass
{
    /// <summary>No regex may hold a worker longer than this.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    /// <summary>HAProxy copies the subject into a buffer of tune.bufsize (16384) bytes: a longer subject never matches.</summary>
    public const int MaxSubjectLength = 16384 - 1;

    /// <summary>HAProxy asks PCRE for 20 matches: the whole match and 19 groups.</summary>
    public const int MaxMatches = 20;

    public static void Register(RawFunctions r)
    {
        r.Add("regex_new", &New);
        r.Add("regex_exec", &Exec);
        r.Add("regex_match", &Match);
    }

    /// <summary>Compiles a pattern: null and the reason when PCRE or .NET refuses it.</summary>
    internal static Regex? Compile(string pattern, bool caseSensitive, bool compiled, out string? error)
    {
        try
        {
            var options = RegexOptions.CultureInvariant
                | (caseSensitive ? RegexOptions.None : RegexOptions.IgnoreCase)
                | (compiled ? RegexOptions.Compiled : RegexOptions.None);
            error = null;
            return new Regex(TranslatePcre(pattern), options, MatchTimeout);
        }
        catch (RegexParseException ex)
        {
            error = $"regex '{pattern}' is invalid (error={ex.Error}, erroffset={ex.Offset})";
        }
        catch (ArgumentException ex)
        {
            error = $"regex '{pattern}' is invalid ({ex.Message})";
        }

        return null;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int New(IntPtr L) => LuaCallback.Run(L, &NewImpl);

    private static int NewImpl(IntPtr L, LuaState st)
    {
        const string fn = "Regex.new";
        var exec = LuaCallback.Require(st, LuaContextKind.All, fn);
        string pattern = Encoding.Latin1.GetString(LuaCallback.Bytes(L, 1, fn));
        if (lua_type(L, 2) != LUA_TBOOLEAN)
        {
            throw new LuaArgumentException($"{fn}: bad argument #2 (boolean expected, got {LuaStack.TypeName(L, 2)})");
        }

        // Compiled to IL where the spec wants regexes made (body, init); interpreted elsewhere, so
        // that a regex made per request costs no code generation.
        bool compiled = (exec.Kind & (LuaContextKind.Body | LuaContextKind.Init)) != 0;
        if (Compile(pattern, lua_toboolean(L, 2) != 0, compiled, out string? error) is { } regex)
        {
            LuaStack.PushBool(L, true);
            LuaObjects.PushHandle(L, regex, st.Classes.Handle);
        }
        else
        {
            LuaStack.PushBool(L, false);
            LuaStack.PushString(L, error!);
        }

        return 2;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Exec(IntPtr L) => LuaCallback.Run(L, &ExecImpl);

    private static int ExecImpl(IntPtr L, LuaState st)
    {
        const string fn = "Regex.exec";
        var regex = LuaCallback.Self<Regex>(L, 1, fn);
        var subject = LuaCallback.Bytes(L, 2, fn);
        if (subject.Length > MaxSubjectLength)
        {
            LuaStack.PushBool(L, false);
            return 1;
        }

        char[]? rented = null;
        Span<char> chars = subject.Length <= 512 ? stackalloc char[subject.Length] : (rented = ArrayPool<char>.Shared.Rent(subject.Length)).AsSpan(0, subject.Length);
        try
        {
            Latin1.GetChars(subject, chars);
            LuaStack.PushBool(L, regex.IsMatch(chars));
        }
        catch (RegexMatchTimeoutException)
        {
            throw Timeout(fn);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }

        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Match(IntPtr L) => LuaCallback.Run(L, &MatchImpl);

    private static int MatchImpl(IntPtr L, LuaState st)
    {
        const string fn = "Regex.match";
        var regex = LuaCallback.Self<Regex>(L, 1, fn);
        var subject = LuaCallback.Bytes(L, 2, fn);
        if (subject.Length > MaxSubjectLength)
        {
            LuaStack.PushBool(L, false);
            return 1;
        }

        System.Text.RegularExpressions.Match m;
        try
        {
            m = regex.Match(Encoding.Latin1.GetString(subject));
        }
        catch (RegexMatchTimeoutException)
        {
            throw Timeout(fn);
        }

        LuaStack.PushBool(L, m.Success);
        lua_createtable(L, m.Success ? Math.Min(m.Groups.Count, MaxMatches) : 0, 0);
        if (m.Success)
        {
            // As HAProxy: the list stops at the first group that did not take part in the match.
            for (int g = 0; g < m.Groups.Count && g < MaxMatches && m.Groups[g].Success; g++)
            {
                PushLatin1(L, m.Groups[g].ValueSpan);
                lua_rawseti(L, -2, g + 1);
            }
        }

        return 2;
    }

    private static LuaArgumentException Timeout(string fn) => new($"{fn}: the match took longer than {MatchTimeout.TotalMilliseconds} ms and was stopped");

    private static void PushLatin1(IntPtr L, ReadOnlySpan<char> chars)
    {
        byte[]? rented = null;
        Span<byte> bytes = chars.Length <= 512 ? stackalloc byte[chars.Length] : (rented = ArrayPool<byte>.Shared.Rent(chars.Length)).AsSpan(0, chars.Length);
        Latin1.GetBytes(chars, bytes);
        LuaStack.PushBytes(L, bytes);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static Encoding Latin1 => Encoding.Latin1;
}
