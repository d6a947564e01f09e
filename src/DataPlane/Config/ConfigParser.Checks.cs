using System.Collections.Immutable;
using System.Text.RegularExpressions;

namespace HaLua.DataPlane.Config;

/// <summary>An <c>http-check send</c> line: what it overrides in <c>option httpchk</c>'s request, and the headers and body it adds.</summary>
internal sealed record HttpCheckSend(string? Method, string? Uri, string? Version, ImmutableArray<KeyValuePair<string, string>> Headers, string? Body);

/// <summary><c>option httpchk</c> and <c>http-check</c> (HAProxy 2.6 semantics).</summary>
internal sealed partial class ConfigParser
{
    private const string HttpCheckExpects = "[!] status <codes>, [!] rstatus <regex>, [!] string <text>, [!] rstring <regex>";

    /// <summary><c>option httpchk [[METHOD] URI [VERSION]]</c>; an old-style VERSION carries headers after "\r\n".</summary>
    private void ParseOptionHttpChk(ConfigLine line, ProxyBuilder px, bool negate)
    {
        var w = line.Words;
        string kw = w[0];
        if (!Allowed(line, px, Where.D | Where.L | Where.B))
        {
            return;
        }

        // "no option httpchk" goes back to TCP checks.
        int max = negate ? 0 : 3;
        if (w.Count > max + 1)
        {
            Error(line.Location, kw, $"unexpected argument '{w[max + 1]}'{(negate ? "" : " (expected [[<method>] <uri> [<version>]])")}");
            return;
        }

        if (negate)
        {
            px.HttpCheckRequest = null;
            return;
        }

        var check = new HttpCheckConfig();
        if (w.Count == 2)
        {
            check = check with { Uri = w[1] };
        }
        else if (w.Count >= 3)
        {
            check = check with { Method = w[1], Uri = w[2] };
        }

        if (w.Count == 4)
        {
            // "HTTP/1.1\r\nHost:\ www": the version, then header lines, as configurations older than http-check send write them.
            var lines = w[3].Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
            var headers = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
            foreach (var h in lines.Skip(1).Where(l => l.Length > 0))
            {
                int colon = h.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0 || !IsToken(h[..colon]))
                {
                    Error(line.Location, kw, $"invalid header line '{h}' after the version (expected 'name: value')");
                    return;
                }

                headers.Add(new(h[..colon], h[(colon + 1)..].Trim(' ', '\t')));
            }

            check = check with { Version = lines[0], Headers = headers.ToImmutable() };
        }

        if (CheckRequestLine(line, kw, check.Method, check.Uri, check.Version))
        {
            px.HttpCheckRequest = check;
        }
    }

    /// <summary><c>http-check send ...</c> and <c>http-check expect ...</c>.</summary>
    private void ParseHttpCheck(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        if (!Allowed(line, px, Where.D | Where.L | Where.B))
        {
            return;
        }

        if (w.Count < 2)
        {
            Error(line.Location, "http-check", "'http-check' expects 'send' or 'expect'");
            return;
        }

        string kw = $"http-check {w[1]}";
        if (w[1] is not ("send" or "expect"))
        {
            Error(line.Location, kw, w[1] is "connect" or "disable-on-404" or "send-state" or "set-var" or "unset-var" or "comment"
                ? $"'{kw}' is not supported yet by HaLua"
                : $"unknown 'http-check' action '{w[1]}' (send, expect)");
            return;
        }

        if (px.HttpCheckRulesInherited)
        {
            // A proxy's own rules replace those of its defaults, they do not add to them (HAProxy).
            px.HttpCheckSend = null;
            px.HttpCheckExpects.Clear();
            px.HttpCheckRulesInherited = false;
        }

        if (w[1] == "send")
        {
            if (px.HttpCheckSend is not null)
            {
                Error(line.Location, kw, "only one 'http-check send' per proxy is supported by HaLua");
            }
            else if (ParseHttpCheckSend(line, kw) is { } send)
            {
                px.HttpCheckSend = send;
            }

            return;
        }

        if (ParseHttpCheckExpect(line, kw) is { } expect)
        {
            px.HttpCheckExpects.Add(expect);
        }
    }

    private HttpCheckSend? ParseHttpCheckSend(ConfigLine line, string kw)
    {
        var w = line.Words;
        string? method = null, uri = null, version = null, body = null;
        var headers = ImmutableArray.CreateBuilder<KeyValuePair<string, string>>();
        for (int i = 2; i < w.Count; i++)
        {
            string opt = w[i];
            int needs = opt == "hdr" ? 2 : 1;
            if (opt is "uri-lf" or "body-lf" or "comment")
            {
                Error(line.Location, kw, $"'{opt}' is not supported yet by HaLua");
                return null;
            }

            if (opt is not ("meth" or "uri" or "ver" or "hdr" or "body"))
            {
                Error(line.Location, kw, $"unknown argument '{opt}' (meth, uri, ver, hdr, body)");
                return null;
            }

            if (i + needs >= w.Count)
            {
                Error(line.Location, kw, opt == "hdr" ? "'hdr' expects a name and a value" : $"'{opt}' expects a value");
                return null;
            }

            switch (opt)
            {
                case "meth":
                    method = w[++i];
                    break;
                case "uri":
                    uri = w[++i];
                    break;
                case "ver":
                    version = w[++i];
                    break;
                case "body":
                    body = w[++i];
                    break;
                default:
                    if (!IsToken(w[i + 1]))
                    {
                        Error(line.Location, kw, $"invalid header name '{w[i + 1]}'");
                        return null;
                    }

                    headers.Add(new(w[i + 1], w[i + 2]));
                    i += 2;
                    break;
            }
        }

        return CheckRequestLine(line, kw, method, uri, version)
            ? new HttpCheckSend(method, uri, version, headers.ToImmutable(), body)
            : null;
    }

    /// <summary>Method, URI and version of a check request (any of them may be left to the default).</summary>
    private bool CheckRequestLine(ConfigLine line, string kw, string? method, string? uri, string? version)
    {
        string? problem = method is not null && !IsToken(method) ? $"invalid method '{method}'"
            : uri is not null && (uri.Length == 0 || uri.Any(c => c <= ' ' || c >= 0x7f)) ? $"invalid URI '{uri}'"
            : version is not null && version is not ("HTTP/1.0" or "HTTP/1.1") ? $"unsupported HTTP version '{version}' (HTTP/1.0 or HTTP/1.1)"
            : null;
        if (problem is not null)
        {
            Error(line.Location, kw, problem);
        }

        return problem is null;
    }

    private HttpCheckExpect? ParseHttpCheckExpect(ConfigLine line, string kw)
    {
        var w = line.Words;
        int at = 2;
        bool negate = at < w.Count && w[at] == "!";
        if (negate)
        {
            at++;
        }

        if (at >= w.Count)
        {
            Error(line.Location, kw, $"'{kw}' expects a match ({HttpCheckExpects})");
            return null;
        }

        string type = w[at];
        HttpCheckMatch? match = type switch
        {
            "status" => HttpCheckMatch.Status,
            "rstatus" => HttpCheckMatch.RStatus,
            "string" => HttpCheckMatch.String,
            "rstring" => HttpCheckMatch.RString,
            _ => null,
        };
        if (match is null)
        {
            Error(line.Location, kw, type is "min-recv" or "comment" or "on-success" or "on-error" or "status-code" or "ok-status" or "error-status"
                or "tout-status" or "string-lf" or "hdr" or "fhdr"
                ? $"'{type}' is not supported yet by HaLua ({HttpCheckExpects})"
                : $"unknown match '{type}' ({HttpCheckExpects})");
            return null;
        }

        if (at + 2 != w.Count)
        {
            Error(line.Location, kw, at + 1 >= w.Count ? $"'{type}' expects a pattern" : $"unexpected argument '{w[at + 2]}'");
            return null;
        }

        string pattern = w[at + 1];
        if (match == HttpCheckMatch.Status && !ConfigValues.TryParseStatusRanges(pattern, out _))
        {
            Error(line.Location, kw, $"invalid status code list '{pattern}' (codes and ranges such as 200,300-399)");
            return null;
        }

        if (match is HttpCheckMatch.RStatus or HttpCheckMatch.RString)
        {
            try
            {
                _ = new Regex(pattern, RegexOptions.CultureInvariant);
            }
            catch (ArgumentException ex)
            {
                Error(line.Location, kw, $"invalid regex '{pattern}': {ex.Message}");
                return null;
            }
        }

        return new HttpCheckExpect(match.Value, negate, pattern, line.Location);
    }

    private static bool IsToken(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal));
}
