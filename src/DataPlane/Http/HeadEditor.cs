using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace HaLua.DataPlane.Http;

/// <summary>The part of a request line set-method, set-path, set-query and set-uri replace.</summary>
internal enum RequestLinePart { Method, Path, Query, Uri }

/// <summary>
/// Rewrites one parsed head (rules, Lua's HTTP class, connection modes): each edit writes a new
/// head into a pooled buffer and re-indexes the <see cref="HttpHead"/> over it, so that what the
/// next rule or fetch reads is the edited head, as in HAProxy. The body framing found by the
/// parser is kept whatever the edits. A head nobody edits is forwarded as received. An edit that
/// would make an invalid head (CR, LF or NUL in a value, a name that is not a token) or one larger
/// than the buffer size is refused: <see cref="Failed"/> (HAProxy's failed rewrite).
/// </summary>
internal sealed class HeadEditor : IDisposable
{
    private readonly int _maxSize;
    private byte[] _bytes;
    private byte[] _scratch;
    private HttpField[] _fields = new HttpField[32];
    private int _length;
    private int _w;
    private int _fieldCount;
    private Range _method;
    private Range _target;
    private Range _reason;

    public HeadEditor(int maxSize)
    {
        _maxSize = maxSize;
        _bytes = ArrayPool<byte>.Shared.Rent(1024);
        _scratch = ArrayPool<byte>.Shared.Rent(1024);
    }

    /// <summary>The head was edited: <see cref="Bytes"/> is the head to send.</summary>
    public bool Changed { get; private set; }

    /// <summary>An edit was refused since the last <see cref="Reset"/>.</summary>
    public bool Failed { get; private set; }

    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, _length);

    private bool _retained;

    /// <summary>
    /// The head after it left its buffer (<see cref="Retain"/>): the edited one, or the copy of
    /// the original; empty when neither exists.
    /// </summary>
    public ReadOnlySpan<byte> Retained => Changed || _retained ? Bytes : default;

    /// <summary>Keeps a copy of an unedited head (the request, for fetches in response rules) before its buffer is reused.</summary>
    public void Retain(ReadOnlySpan<byte> head)
    {
        if (Changed)
        {
            return;
        }

        PooledGrow(head.Length);
        head.CopyTo(_bytes);
        _length = head.Length;
        _retained = true;
    }

    private void PooledGrow(int size)
    {
        if (_bytes.Length < size)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = ArrayPool<byte>.Shared.Rent(size);
        }
    }

    public ReadOnlyMemory<byte> Memory => _bytes.AsMemory(0, _length);

    /// <summary>The bytes the head's offsets refer to: the edited head, or the original.</summary>
    public ReadOnlySpan<byte> Current(ReadOnlySpan<byte> original) => Changed ? Bytes : original;

    /// <summary>Forgets a refused edit (one a Lua script was told about with an error).</summary>
    public void ClearFailure() => Failed = false;

    public void Reset()
    {
        Changed = false;
        Failed = false;
        _retained = false;
    }

    /// <summary>Removes every field named <paramref name="name"/> (case-insensitive).</summary>
    public bool Delete(HttpHead head, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> name)
    {
        if (!Has(head, cur, name))
        {
            return true;
        }

        Begin(head, cur);
        foreach (var f in head.Fields)
        {
            if (!Ascii.EqualsIgnoreCase(f.Name(cur), name))
            {
                Field(f.Name(cur), f.Value(cur));
            }
        }

        return Commit(head);
    }

    /// <summary>Removes every field whose name <paramref name="matcher"/> accepts (del-header -m).</summary>
    public bool Delete(HttpHead head, ReadOnlySpan<byte> cur, HeaderNameMatcher matcher)
    {
        bool any = false;
        foreach (var f in head.Fields)
        {
            any |= matcher.Matches(f.Name(cur));
        }

        if (!any)
        {
            return true;
        }

        Begin(head, cur);
        foreach (var f in head.Fields)
        {
            if (!matcher.Matches(f.Name(cur)))
            {
                Field(f.Name(cur), f.Value(cur));
            }
        }

        return Commit(head);
    }

    /// <summary>Appends a field.</summary>
    public bool Add(HttpHead head, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Append(head, cur, name, value, replace: false);

    /// <summary>Every field of that name removed, then the new one at the end (HAProxy's set-header).</summary>
    public bool Set(HttpHead head, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Append(head, cur, name, value, replace: true);

    private bool Append(HttpHead head, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool replace)
    {
        if (!ValidName(name) || !ValidValue(value))
        {
            return Fail();
        }

        Begin(head, cur);
        foreach (var f in head.Fields)
        {
            if (!replace || !Ascii.EqualsIgnoreCase(f.Name(cur), name))
            {
                Field(f.Name(cur), f.Value(cur));
            }
        }

        Field(name, value);
        return Commit(head);
    }

    public bool Add(HttpHead head, ReadOnlySpan<byte> cur, string name, string value) => Add(head, cur, Latin1(name), Latin1(value));

    public bool Set(HttpHead head, ReadOnlySpan<byte> cur, string name, string value) => Set(head, cur, Latin1(name), Latin1(value));

    public bool Delete(HttpHead head, ReadOnlySpan<byte> cur, string name) => Delete(head, cur, Latin1(name));

    /// <summary>
    /// HAProxy's replace-header (<paramref name="eachValue"/> false) and replace-value (true): in
    /// every field of that name (or each comma-separated value of it), a value the regex matches
    /// is replaced whole by the replacement with <c>\1</c>..<c>\9</c> expanded; values are trimmed
    /// and joined again with "," by replace-value, as HAProxy does.
    /// </summary>
    public bool Replace(HttpHead head, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> name, Regex regex, string replacement, bool eachValue)
    {
        if (!Has(head, cur, name))
        {
            return true;
        }

        Begin(head, cur);
        var sb = new StringBuilder();
        foreach (var f in head.Fields)
        {
            if (!Ascii.EqualsIgnoreCase(f.Name(cur), name))
            {
                Field(f.Name(cur), f.Value(cur));
                continue;
            }

            string value = Encoding.Latin1.GetString(f.Value(cur));
            sb.Clear();
            if (eachValue)
            {
                bool first = true;
                foreach (var part in value.Split(','))
                {
                    sb.Append(first ? "" : ",").Append(ReplaceWhole(regex, part.Trim(' ', '\t'), replacement));
                    first = false;
                }
            }
            else
            {
                sb.Append(ReplaceWhole(regex, value, replacement));
            }

            var bytes = Latin1(sb.ToString());
            if (!ValidValue(bytes))
            {
                return Fail();
            }

            Field(f.Name(cur), bytes);
        }

        return Commit(head);
    }

    /// <summary>
    /// set-method / set-path / set-query / set-uri (rules and Lua's req_set_*): one part of the
    /// request line replaced, the rest kept (a path keeps the query and an absolute form's authority).
    /// </summary>
    public bool SetRequestPart(HttpHead head, ReadOnlySpan<byte> cur, RequestLinePart part, ReadOnlySpan<byte> value) => part switch
    {
        RequestLinePart.Method => SetRequestLine(head, cur, value, cur[head.Target]),
        RequestLinePart.Path => SetRequestLine(head, cur, cur[head.Method], RequestTarget.WithPath(cur[head.Target], value)),
        RequestLinePart.Query => SetRequestLine(head, cur, cur[head.Method], RequestTarget.WithQuery(cur[head.Target], value)),
        _ => SetRequestLine(head, cur, cur[head.Method], value),
    };

    /// <summary>A new request line: method and target (either may be the current one).</summary>
    private bool SetRequestLine(HttpHead head, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> method, ReadOnlySpan<byte> target)
    {
        if (method.IsEmpty || method.ContainsAny(" \t\r\n\0"u8) || target.IsEmpty || target.ContainsAny(" \t\r\n\0"u8))
        {
            return Fail();
        }

        BeginRequestLine(method, target, head.Version);
        CopyFields(head, cur);
        return Commit(head);
    }

    /// <summary>A new status line (the reason from the status when none is given).</summary>
    public bool SetStatus(HttpHead head, ReadOnlySpan<byte> cur, int status, string? reason)
    {
        var r = Latin1(reason ?? HttpResponses.Reason(status));
        if (status is < 100 or > 999 || r.ContainsAny("\r\n\0"u8))
        {
            return Fail();
        }

        BeginStatusLine(head.Version, status, r);
        CopyFields(head, cur);
        if (!Commit(head))
        {
            return false;
        }

        head.Status = status;
        return true;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_bytes);
        ArrayPool<byte>.Shared.Return(_scratch);
        _bytes = _scratch = [];
    }

    /// <summary>The whole value replaced by the expansion when the regex matches somewhere in it.</summary>
    public static string ReplaceWhole(Regex regex, string value, string replacement)
    {
        var m = regex.Match(value);
        return m.Success ? Expand(m, replacement) : value;
    }

    /// <summary>HAProxy's replacement strings: <c>\0</c>..<c>\9</c> are the groups of the match.</summary>
    public static string Expand(Match m, string replacement)
    {
        if (!replacement.Contains('\\', StringComparison.Ordinal))
        {
            return replacement;
        }

        var sb = new StringBuilder(replacement.Length + 16);
        for (int i = 0; i < replacement.Length; i++)
        {
            char c = replacement[i];
            if (c == '\\' && i + 1 < replacement.Length && char.IsAsciiDigit(replacement[i + 1]))
            {
                sb.Append(m.Groups[replacement[++i] - '0'].Value);
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    private static bool Has(HttpHead head, ReadOnlySpan<byte> cur, ReadOnlySpan<byte> name)
    {
        foreach (var f in head.Fields)
        {
            if (Ascii.EqualsIgnoreCase(f.Name(cur), name))
            {
                return true;
            }
        }

        return false;
    }

    private static byte[] Latin1(string s) => Encoding.Latin1.GetBytes(s);

    private static bool ValidName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty)
        {
            return false;
        }

        foreach (byte b in name)
        {
            if (b <= 32 || b >= 127 || "\"(),/:;<=>?@[\\]{}"u8.Contains(b))
            {
                return false;
            }
        }

        return true;
    }

    private static bool ValidValue(ReadOnlySpan<byte> value) => !value.ContainsAny("\r\n\0"u8);

    private bool Fail()
    {
        Failed = true;
        return false;
    }

    private void Begin()
    {
        _w = 0;
        _fieldCount = 0;
        _method = _target = _reason = default;
    }

    /// <summary>Starts a new head with the same start line.</summary>
    private void Begin(HttpHead head, ReadOnlySpan<byte> cur)
    {
        if (head.Status > 0)
        {
            BeginStatusLine(head.Version, head.Status, cur[head.Reason]);
        }
        else
        {
            BeginRequestLine(cur[head.Method], cur[head.Target], head.Version);
        }
    }

    private void BeginStatusLine(int version, int status, ReadOnlySpan<byte> reason)
    {
        Begin();
        Write(version == 10 ? "HTTP/1.0 "u8 : "HTTP/1.1 "u8);
        Span<byte> digits = stackalloc byte[3];
        digits[0] = (byte)('0' + status / 100);
        digits[1] = (byte)('0' + status / 10 % 10);
        digits[2] = (byte)('0' + status % 10);
        Write(digits);
        Write(" "u8);
        int at = _w;
        Write(reason);
        _reason = at.._w;
        Write("\r\n"u8);
    }

    private void BeginRequestLine(ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, int version)
    {
        Begin();
        Write(method);
        _method = 0.._w;
        Write(" "u8);
        int at = _w;
        Write(target);
        _target = at.._w;
        Write(version == 10 ? " HTTP/1.0\r\n"u8 : " HTTP/1.1\r\n"u8);
    }

    private void CopyFields(HttpHead head, ReadOnlySpan<byte> cur)
    {
        foreach (var f in head.Fields)
        {
            Field(f.Name(cur), f.Value(cur));
        }
    }

    private void Field(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        int n = _w;
        Write(name);
        Write(": "u8);
        int v = _w;
        Write(value);
        Write("\r\n"u8);
        if (_fieldCount == _fields.Length)
        {
            Array.Resize(ref _fields, _fields.Length * 2);
        }

        _fields[_fieldCount++] = new HttpField(n, name.Length, v, value.Length);
    }

    private void Write(ReadOnlySpan<byte> s)
    {
        if (_w + s.Length > _scratch.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_scratch.Length * 2, _w + s.Length));
            _scratch.AsSpan(0, _w).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_scratch);
            _scratch = bigger;
        }

        s.CopyTo(_scratch.AsSpan(_w));
        _w += s.Length;
    }

    /// <summary>Ends the new head and makes it current; refused (nothing changes) when too large.</summary>
    private bool Commit(HttpHead head)
    {
        Write("\r\n"u8);
        if (_w > _maxSize)
        {
            return Fail();
        }

        (_bytes, _scratch) = (_scratch, _bytes);
        _length = _w;
        head.SetFields(_fields.AsSpan(0, _fieldCount));
        head.Length = _length;
        if (head.Status > 0 || _reason.End.Value > 0)
        {
            head.Reason = _reason;
        }
        else
        {
            head.Method = _method;
            head.Target = _target;
        }

        Changed = true;
        return true;
    }
}
