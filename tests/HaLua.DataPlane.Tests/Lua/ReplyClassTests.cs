using System.Text;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Lua.Classes;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Tests.Lua;

/// <summary>The response txn:done(reply) sends, built from a reply table made by Lua code (byte-exact).</summary>
public class ReplyClassTests
{
    [Theory]
    [InlineData("{}", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")]
    [InlineData("{ status = 0 }", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")]
    [InlineData("{ status = '404' }", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")] // a status must be a number, as in HAProxy
    [InlineData("{ status = 418 }", "HTTP/1.1 418 I'm a teapot\r\ncontent-length: 0\r\n\r\n")]
    [InlineData("{ status = 599 }", "HTTP/1.1 599 Server Error\r\ncontent-length: 0\r\n\r\n")]
    [InlineData("{ status = 302, reason = 42 }", "HTTP/1.1 302 Moved Temporarily\r\ncontent-length: 0\r\n\r\n")] // reason: strings only
    [InlineData("{ status = 201, reason = '' }", "HTTP/1.1 201 \r\ncontent-length: 0\r\n\r\n")]
    [InlineData("{ body = 42 }", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")] // body: strings only, as in HAProxy
    [InlineData("{ body = 'a\\0b\\255' }", "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\na\0b\u00ff")]
    [InlineData("{ status = 204, body = 'x', headers = { ['Content-Length'] = { '1' } } }", "HTTP/1.1 204 No Content\r\n\r\n")]
    [InlineData("{ status = 304, body = 'x', headers = { etag = { 'a' } } }", "HTTP/1.1 304 Not Modified\r\netag: a\r\n\r\n")]
    [InlineData("{ headers = { ['X-Up'] = { 1, 'two', {}, 'never' } } }", "HTTP/1.1 200 OK\r\nx-up: 1\r\nx-up: two\r\ncontent-length: 0\r\n\r\n")] // a list ends at its first non-value
    [InlineData("{ headers = { single = 'v', [7] = 'n', [true] = 'x', skipped = true } }", null)]
    [InlineData("{ headers = 'nope', body = 'b' }", "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nb")]
    public void TryBuild_ReplyTable_IsTheResponseHaproxySends(string table, string? expected)
    {
        var (ok, response, problem) = Build(table);
        Assert.True(ok, problem);
        if (expected is not null)
        {
            Assert.Equal(expected, response);
        }
        else
        {
            // Several headers: lua_next order; each one once, names lower case, other keys skipped.
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
            Assert.Contains("single: v\r\n", response, StringComparison.Ordinal);
            Assert.Contains("7: n\r\n", response, StringComparison.Ordinal);
            Assert.DoesNotContain("skipped", response, StringComparison.Ordinal);
            Assert.EndsWith("content-length: 0\r\n\r\n", response, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("{ status = 100 }", "status 100 cannot be a final response")]
    [InlineData("{ status = 1000 }", "status 1000 cannot be a final response")]
    [InlineData("{ status = -5 }", "cannot be a final response")]
    [InlineData("{ reason = 'a\\r\\nx: y' }", "CR, LF or NUL in the reason")]
    [InlineData("{ headers = { ['bad name'] = { 'v' } } }", "'bad name' is not a valid header name")]
    [InlineData("{ headers = { [''] = { 'v' } } }", "is not a valid header name")]
    [InlineData("{ headers = { ok = { 'a\\nb' } } }", "CR, LF or NUL in a header value")]
    [InlineData("{ headers = { ok = 'a\\0b' } }", "CR, LF or NUL in a header value")]
    public void TryBuild_NotValidHttp_IsRefusedWithTheReason(string table, string reason)
    {
        var (ok, _, problem) = Build(table);
        Assert.False(ok);
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }

    /// <summary>Evaluates the Lua table constructor on a state and builds the response from it; the stack is left as found.</summary>
    private static (bool Ok, string Response, string? Problem) Build(string table)
    {
        using var host = new LuaTestHost("");
        Assert.Empty(host.Errors);
        var st = host.Engine.States.Single();
        st.Enter();
        try
        {
            var L = st.L;
            int top = lua_gettop(L);
            Assert.Null(st.Load(Encoding.UTF8.GetBytes("return " + table), "reply"));
            Assert.Equal(LUA_OK, lua_pcall(L, 0, 1, 0));
            bool ok = ReplyClass.TryBuild(L, lua_gettop(L), out var bytes, out _, out var problem);
            lua_pop(L, 1);
            Assert.Equal(top, lua_gettop(L));
            return (ok, Encoding.Latin1.GetString(bytes), problem);
        }
        finally
        {
            st.Exit();
        }
    }
}
