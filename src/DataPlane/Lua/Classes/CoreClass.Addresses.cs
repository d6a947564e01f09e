using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>core.parse_addr / core.match_addr over IPv4 and IPv6 networks.</summary>
internal static unsafe partial class CoreClass
{
    /// <summary>An address as written plus its network mask (core.parse_addr's userdata).</summary>
    internal sealed record NetworkAddress(byte[] Address, byte[] Mask, AddressFamily Family)
    {
        public static NetworkAddress? Parse(string text)
        {
            int slash = text.IndexOf('/', StringComparison.Ordinal);
            string addr = slash < 0 ? text : text[..slash];
            if (!IPAddress.TryParse(addr, out var ip) || addr.Contains('%', StringComparison.Ordinal))
            {
                return null;
            }

            var bytes = ip.GetAddressBytes();
            int bits = bytes.Length * 8;
            int prefix = bits;
            if (slash >= 0)
            {
                string m = text[(slash + 1)..];
                if (int.TryParse(m, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int p) && p <= bits)
                {
                    prefix = p;
                }
                else if (ip.AddressFamily == AddressFamily.InterNetwork && IPAddress.TryParse(m, out var dotted) && dotted.AddressFamily == AddressFamily.InterNetwork)
                {
                    return new NetworkAddress(bytes, dotted.GetAddressBytes(), ip.AddressFamily);
                }
                else
                {
                    return null;
                }
            }

            var mask = new byte[bytes.Length];
            for (int i = 0; i < mask.Length; i++)
            {
                int b = Math.Clamp(prefix - i * 8, 0, 8);
                mask[i] = (byte)(0xFF << (8 - b));
            }

            return new NetworkAddress(bytes, mask, ip.AddressFamily);
        }

        /// <summary>HAProxy's rule: (ip1 &amp; mask2) == (ip2 &amp; mask1), on the addresses as written.</summary>
        public bool Matches(NetworkAddress other)
        {
            if (Family != other.Family)
            {
                return false;
            }

            for (int i = 0; i < Address.Length; i++)
            {
                if ((Address[i] & other.Mask[i]) != (other.Address[i] & Mask[i]))
                {
                    return false;
                }
            }

            return true;
        }
    }

    private static void RegisterAddresses(RawFunctions r)
    {
        r.Add("parse_addr", &ParseAddr);
        r.Add("match_addr", &MatchAddr);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ParseAddr(IntPtr L) => LuaCallback.Run(L, &ParseAddrImpl);

    private static int ParseAddrImpl(IntPtr L, LuaState st)
    {
        var addr = NetworkAddress.Parse(LuaCallback.String(L, 1, "core.parse_addr"));
        if (addr is null)
        {
            lua_pushnil(L);
        }
        else
        {
            LuaObjects.PushHandle(L, addr, st.Classes.Handle);
        }

        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int MatchAddr(IntPtr L) => LuaCallback.Run(L, &MatchAddrImpl);

    private static int MatchAddrImpl(IntPtr L, LuaState st)
    {
        var a = LuaCallback.Self<NetworkAddress>(L, 1, "core.match_addr");
        var b = LuaCallback.Self<NetworkAddress>(L, 2, "core.match_addr");
        LuaStack.PushBool(L, a.Matches(b));
        return 1;
    }
}
