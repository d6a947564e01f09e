using System.Net;
using System.Text;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Lua.Net;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>The request table of HTTPClient's methods: checked, then serialized as HAProxy's httpclient sends it.</summary>
internal static unsafe partial class HttpClientClass
{
    /// <summary>The request table, checked as HAProxy checks it (same messages).</summary>
    private static HttpClientRequest ReadRequest(IntPtr L, int idx, string method, string name)
    {
        if (lua_type(L, idx) != LUA_TTABLE)
        {
            throw new LuaArgumentException($"'{name}' needs a table as argument");
        }

        if (LuaStack.GetField(L, idx, "url") != LUA_TSTRING)
        {
            throw new LuaArgumentException($"'{name}' need a 'url' argument");
        }

        string url = Encoding.Latin1.GetString(LuaStack.ToBytes(L, -1));
        lua_pop(L, 1);
        if (!TryParseUrl(url, out bool tls, out string host, out int port, out string authority, out string path, out bool supported))
        {
            throw new LuaArgumentException("couldn't start the httpclient");
        }

        byte[]? body = null;
        int t = LuaStack.GetField(L, idx, "body");
        if (t != LUA_TNIL)
        {
            body = t == LUA_TSTRING ? LuaStack.ToBytes(L, -1).ToArray() : throw new LuaArgumentException("invalid parameter in 'body', must be a string");
        }

        lua_pop(L, 1);

        TimeSpan? timeout = null;
        t = LuaStack.GetField(L, idx, "timeout");
        if (t != LUA_TNIL)
        {
            timeout = t == LUA_TNUMBER && LuaStack.TryGetInteger(L, -1, out long ms) && ms >= 0
                ? TimeSpan.FromMilliseconds(ms)
                : throw new LuaArgumentException("invalid parameter in 'timeout', must be a number");
        }

        lua_pop(L, 1);

        EndPoint? dst = null;
        t = LuaStack.GetField(L, idx, "dst");
        if (t != LUA_TNIL)
        {
            string text = t == LUA_TSTRING ? LuaStack.ToStringOrNull(L, -1)! : throw new LuaArgumentException("invalid parameter in 'dst', must be a string");
            if (TargetAddress.TryParse(text, null, out dst) != AddressError.None)
            {
                throw new LuaArgumentException($"invalid parameter in 'dst': cannot parse address '{text}'");
            }
        }

        lua_pop(L, 1);

        // A scheme HAProxy does not serve (ftp://...) is its empty 503, not an error.
        var head = supported ? BuildHead(L, idx, method, authority, path, body) : [];
        return new HttpClientRequest(tls, supported ? host : "", port, head, body, method == "HEAD", timeout, supported ? dst : null);
    }

    /// <summary>http://host[:port][/path][?query]; https:// too. False when there is no scheme at all.</summary>
    internal static bool TryParseUrl(string url, out bool tls, out string host, out int port, out string authority, out string path, out bool supported)
    {
        tls = false;
        host = authority = path = "";
        port = 0;
        supported = false;
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0)
        {
            return false;
        }

        string name = url[..scheme].ToLowerInvariant();
        if (name is not ("http" or "https"))
        {
            // HAProxy starts the request and answers it with an empty 503.
            return true;
        }

        tls = name == "https";
        string rest = url[(scheme + 3)..];
        int hash = rest.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            rest = rest[..hash];
        }

        int slash = rest.IndexOfAny(['/', '?']);
        authority = slash < 0 ? rest : rest[..slash];
        path = slash < 0 ? "/" : rest[slash] == '?' ? "/" + rest[slash..] : rest[slash..];
        int at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            authority = authority[(at + 1)..];
        }

        port = tls ? 443 : 80;
        host = authority;
        if (authority.StartsWith('['))
        {
            int close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = authority[1..close];
            if (close + 1 < authority.Length && !TryPort(authority[(close + 1)..], ref port))
            {
                return false;
            }
        }
        else if (authority.LastIndexOf(':') is var colon and >= 0)
        {
            host = authority[..colon];
            if (!TryPort(authority[colon..], ref port))
            {
                return false;
            }
        }

        supported = host.Length > 0;
        return supported;
    }

    private static bool TryPort(string colonAndPort, ref int port)
    {
        if (colonAndPort.Length < 2 || colonAndPort[0] != ':')
        {
            return false;
        }

        if (!int.TryParse(colonAndPort.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int p) || p is < 1 or > 65535)
        {
            return false;
        }

        port = p;
        return true;
    }

    /// <summary>
    /// The request head as HAProxy's httpclient writes it: request line, host (the URL's unless
    /// the script gives one), the script's headers (names in lower case), then accept and
    /// user-agent unless given. A body is sent with its content-length (HAProxy 2.6 sends it
    /// chunked; a length is what every server takes).
    /// </summary>
    private static byte[] BuildHead(IntPtr L, int idx, string method, string authority, string path, byte[]? body)
    {
        var headers = new List<(string Name, string Value)>();
        if (LuaStack.GetField(L, idx, "headers") == LUA_TTABLE)
        {
            ReadHeaders(L, lua_absindex(L, -1), headers);
        }

        lua_pop(L, 1);

        var sb = new StringBuilder();
        sb.Append(method).Append(' ').Append(path).Append(" HTTP/1.1\r\n");
        bool Has(string n) => headers.Exists(h => h.Name == n);
        if (!Has("host"))
        {
            sb.Append("host: ").Append(authority).Append("\r\n");
        }

        // The host first, as HAProxy writes it (it becomes the request's authority).
        foreach (var (n, v) in headers.OrderBy(h => h.Name != "host"))
        {
            sb.Append(n).Append(": ").Append(v).Append("\r\n");
        }

        if (!Has("accept"))
        {
            sb.Append("accept: */*\r\n");
        }

        if (!Has("user-agent"))
        {
            sb.Append("user-agent: HAProxy\r\n");
        }

        if (body is not null && !Has("content-length") && !Has("transfer-encoding"))
        {
            sb.Append("content-length: ").Append(body.Length).Append("\r\n");
        }

        sb.Append("\r\n");
        return Encoding.Latin1.GetBytes(sb.ToString());
    }

    /// <summary>headers = { name = { v1, v2 } } (a single string value is taken too); values in index order.</summary>
    private static void ReadHeaders(IntPtr L, int table, List<(string, string)> headers)
    {
        lua_pushnil(L);
        while (lua_next(L, table) != 0)
        {
            if (lua_type(L, -2) == LUA_TSTRING)
            {
                string name = Encoding.Latin1.GetString(LuaStack.ToBytes(L, -2)).ToLowerInvariant();
                if (name.Length == 0 || name.AsSpan().IndexOfAny(":\r\n \t\0") >= 0)
                {
                    lua_pop(L, 2);
                    throw new LuaArgumentException($"invalid header name '{name}'");
                }

                var values = new List<(double Key, string Value)>();
                if (lua_type(L, -1) == LUA_TTABLE)
                {
                    int list = lua_absindex(L, -1);
                    lua_pushnil(L);
                    while (lua_next(L, list) != 0)
                    {
                        if (LuaStack.IsStringOrNumber(L, -1))
                        {
                            values.Add((lua_tonumberx(L, -2, out int isNumber) is var k && isNumber != 0 ? k : double.MaxValue, Value(L, name)));
                        }

                        lua_pop(L, 1);
                    }
                }
                else if (LuaStack.IsStringOrNumber(L, -1))
                {
                    values.Add((0, Value(L, name)));
                }

                foreach (var (_, v) in values.OrderBy(v => v.Key))
                {
                    headers.Add((name, v));
                }
            }

            lua_pop(L, 1);
        }
    }

    private static string Value(IntPtr L, string name)
    {
        var bytes = LuaStack.ToBytes(L, -1);
        if (bytes.IndexOfAny((byte)'\r', (byte)'\n', (byte)0) >= 0)
        {
            throw new LuaArgumentException($"invalid value for the header '{name}'");
        }

        return Encoding.Latin1.GetString(bytes);
    }
}
