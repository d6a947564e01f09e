using System.Text;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Http;

/// <summary>A compiled <c>http-request</c> or <c>http-response</c> rule.</summary>
internal sealed record HttpRule(
    HttpRuleKind Kind,
    Condition? Condition,
    string? Name,
    LogFormat? Value,
    int Status,
    string? ContentType,
    string? RedirectType,
    HaLua.DataPlane.Lua.LuaRegistration? Service = null)
{
    /// <summary>replace-header / replace-value.</summary>
    public System.Text.RegularExpressions.Regex? Regex { get; init; }

    /// <summary>set-var: the expression and the variable.</summary>
    public SampleExpression? Expression { get; init; }

    public VariableScope VarScope { get; init; }

    public string? VarName { get; init; }

    /// <summary>A Lua action (<c>lua.NAME</c>) and its arguments.</summary>
    public HaLua.DataPlane.Lua.LuaRegistration? Lua { get; init; }

    public IReadOnlyList<string> Args { get; init; } = [];

    public bool DropQuery { get; init; }

    public bool AppendSlash { get; init; }

    /// <summary>redirect set-cookie / clear-cookie: the Set-Cookie value.</summary>
    public string? Cookie { get; init; }

    /// <summary>del-header with <c>-m beg|end|sub|reg</c>: which names go; null for <c>-m str</c> (the name itself).</summary>
    public HeaderNameMatcher? NameMatcher { get; init; }
}

/// <summary>Responses HaLua makes itself (deny, return, redirect).</summary>
internal static class HttpResponses
{
    /// <summary>The reason phrase HAProxy 2.6 gives a status (set-status, return, Lua's set_status and Reply).</summary>
    public static string Reason(int status) => status switch
    {
        100 => "Continue", 101 => "Switching Protocols", 102 => "Processing",
        200 => "OK", 201 => "Created", 202 => "Accepted", 203 => "Non-Authoritative Information", 204 => "No Content",
        205 => "Reset Content", 206 => "Partial Content", 207 => "Multi-Status", 210 => "Content Different", 226 => "IM Used",
        300 => "Multiple Choices", 301 => "Moved Permanently", 302 => "Moved Temporarily", 303 => "See Other", 304 => "Not Modified",
        305 => "Use Proxy", 307 => "Temporary Redirect", 308 => "Permanent Redirect", 310 => "Too many Redirects",
        400 => "Bad Request", 401 => "Unauthorized", 402 => "Payment Required", 403 => "Forbidden", 404 => "Not Found",
        405 => "Method Not Allowed", 406 => "Not Acceptable", 407 => "Proxy Authentication Required", 408 => "Request Time-out",
        409 => "Conflict", 410 => "Gone", 411 => "Length Required", 412 => "Precondition Failed", 413 => "Request Entity Too Large",
        414 => "Request-URI Too Long", 415 => "Unsupported Media Type", 416 => "Requested range unsatisfiable", 417 => "Expectation failed",
        418 => "I'm a teapot", 421 => "Misdirected Request", 422 => "Unprocessable Content", 423 => "Locked", 424 => "Method failure",
        425 => "Too Early", 426 => "Upgrade Required", 428 => "Precondition Required", 429 => "Too Many Requests",
        431 => "Request Header Fields Too Large", 449 => "Retry With", 450 => "Blocked by Windows Parental Controls",
        451 => "Unavailable For Legal Reasons", 456 => "Unrecoverable Error", 499 => "client has closed connection",
        500 => "Internal Server Error", 501 => "Not Implemented", 502 => "Bad Gateway or Proxy Error", 503 => "Service Unavailable",
        504 => "Gateway Time-out", 505 => "HTTP Version not supported", 506 => "Variant also negotiate", 507 => "Insufficient storage",
        508 => "Loop detected", 509 => "Bandwidth Limit Exceeded", 510 => "Not extended", 511 => "Network authentication required",
        520 => "Web server is returning an unknown error",
        >= 100 and < 200 => "Informational",
        >= 200 and < 300 => "Success",
        >= 300 and < 400 => "Redirection",
        >= 400 and < 500 => "Client Error",
        >= 500 => "Server Error",
        _ => "Other",
    };

    /// <summary>HAProxy's page for a deny status (403 by default), closing the connection.</summary>
    public static ReadOnlyMemory<byte> Deny(int status) => HttpErrors.TryGet(status, out var page)
        ? page
        : Encoding.ASCII.GetBytes($"HTTP/1.1 {status} {Reason(status)}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");

    public static byte[] Return(int status, string? contentType, string? body)
    {
        var b = Encoding.Latin1.GetBytes(body ?? "");
        var head = new StringBuilder($"HTTP/1.1 {status} {Reason(status)}\r\ncontent-length: {b.Length}\r\n");
        if (contentType is not null)
        {
            head.Append("content-type: ").Append(contentType).Append("\r\n");
        }

        head.Append("\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. b];
    }

    /// <summary>A redirect (and errorloc): HAProxy writes "302 Found" there, not the table's reason.</summary>
    public static byte[] Redirect(int code, string location, string? cookie = null)
        => Encoding.Latin1.GetBytes($"HTTP/1.1 {code} {(code == 302 ? "Found" : Reason(code))}\r\ncontent-length: 0\r\nlocation: {location}\r\ncache-control: no-cache\r\n{(cookie is null ? "" : $"set-cookie: {cookie}\r\n")}\r\n");
}

/// <summary>
/// del-header's <c>-m beg|end|sub|reg</c> on header names: the first three compare
/// case-insensitively; a regex sees the name lowercased (HAProxy 2.6 keeps names lowercase).
/// </summary>
internal sealed class HeaderNameMatcher(string method, string pattern)
{
    private readonly byte[] _pattern = Encoding.Latin1.GetBytes(pattern.ToLowerInvariant());
    private readonly System.Text.RegularExpressions.Regex? _regex = method == "reg"
        ? new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100))
        : null;

    public bool Matches(ReadOnlySpan<byte> name)
    {
        if (_regex is not null)
        {
            return _regex.IsMatch(Encoding.Latin1.GetString(name).ToLowerInvariant());
        }

        return method switch
        {
            "beg" => name.Length >= _pattern.Length && System.Text.Ascii.EqualsIgnoreCase(name[.._pattern.Length], _pattern),
            "end" => name.Length >= _pattern.Length && System.Text.Ascii.EqualsIgnoreCase(name[^_pattern.Length..], _pattern),
            "sub" => IndexOfIgnoreCase(name, _pattern) >= 0,
            _ => System.Text.Ascii.EqualsIgnoreCase(name, _pattern),
        };
    }

    private static int IndexOfIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lowered)
    {
        for (int i = 0; i + lowered.Length <= text.Length; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(text.Slice(i, lowered.Length), lowered))
            {
                return i;
            }
        }

        return -1;
    }
}
