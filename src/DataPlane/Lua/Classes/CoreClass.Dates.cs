using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>core.http_date and friends: RFC 7231 date formats to epoch seconds (nil when the date is not valid).</summary>
internal static unsafe partial class CoreClass
{
    /// <summary>
    /// The spec's contexts for core.now and the date functions: body, init, task, action (services
    /// and cli commands run as actions). Not in Lua fetches and converters (HAProxy 2.6 does not check).
    /// </summary>
    internal const LuaContextKind DateContexts = LuaContextKind.Body | LuaContextKind.Init | Yieldable;

    private static readonly CultureInfo Posix = CreatePosixCulture();

    private static CultureInfo CreatePosixCulture()
    {
        var c = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        c.DateTimeFormat.Calendar.TwoDigitYearMax = 2069;
        return c;
    }

    private static void RegisterDates(RawFunctions r)
    {
        r.Add("http_date", &HttpDate);
        r.Add("imf_date", &ImfDate);
        r.Add("rfc850_date", &Rfc850Date);
        r.Add("asctime_date", &AsctimeDate);
    }

    internal static long? ParseImf(string s) => Parse(s, "ddd, dd MMM yyyy HH:mm:ss 'GMT'", DateTimeStyles.None);

    internal static long? ParseRfc850(string s) => Parse(s, "dddd, dd-MMM-yy HH:mm:ss 'GMT'", DateTimeStyles.None);

    internal static long? ParseAsctime(string s) => Parse(s, "ddd MMM d HH:mm:ss yyyy", DateTimeStyles.AllowInnerWhite);

    internal static long? ParseHttpDate(string s) => ParseImf(s) ?? ParseRfc850(s) ?? ParseAsctime(s);

    private static long? Parse(string s, string format, DateTimeStyles styles)
    {
        if (DateTime.TryParseExact(s, format, Posix, styles | DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var dt))
        {
            return (long)(dt - DateTime.UnixEpoch).TotalSeconds;
        }

        return null;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int HttpDate(IntPtr L) => LuaCallback.Run(L, &HttpDateImpl);

    private static int HttpDateImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, DateContexts, "core.http_date");
        return PushIntegerOrNil(L, ParseHttpDate(LuaCallback.String(L, 1, "core.http_date")));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ImfDate(IntPtr L) => LuaCallback.Run(L, &ImfDateImpl);

    private static int ImfDateImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, DateContexts, "core.imf_date");
        return PushIntegerOrNil(L, ParseImf(LuaCallback.String(L, 1, "core.imf_date")));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Rfc850Date(IntPtr L) => LuaCallback.Run(L, &Rfc850DateImpl);

    private static int Rfc850DateImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, DateContexts, "core.rfc850_date");
        return PushIntegerOrNil(L, ParseRfc850(LuaCallback.String(L, 1, "core.rfc850_date")));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int AsctimeDate(IntPtr L) => LuaCallback.Run(L, &AsctimeDateImpl);

    private static int AsctimeDateImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, DateContexts, "core.asctime_date");
        return PushIntegerOrNil(L, ParseAsctime(LuaCallback.String(L, 1, "core.asctime_date")));
    }
}
