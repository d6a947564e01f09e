using System.Collections.Immutable;

namespace HaLua.DataPlane.Config;

/// <summary>http-request and http-response rules.</summary>
internal sealed partial class ConfigParser
{
    private const string HttpRequestActions = "use-service lua.NAME, lua.NAME ARGS, allow, deny [deny_status N], return [status N] [content-type T] [string S|lf-string S|file F|lf-file F], redirect location|prefix|scheme X [code N] [drop-query] [append-slash] [set-cookie NAME[=VALUE]] [clear-cookie NAME], set-header, add-header, del-header [-m METH], replace-header, replace-value, set-method, set-path, set-query, set-uri, set-var(NAME), unset-var(NAME)";

    private const string HttpResponseActions = "lua.NAME ARGS, allow, deny [deny_status N], set-status N [reason R], set-header, add-header, del-header [-m METH], replace-header, replace-value, set-var(NAME), unset-var(NAME)";

    /// <summary>"KW ACTION ARGS [if|unless COND]": the action, its arguments and the condition; null after an error.</summary>
    private (string Action, List<string> Args, ConditionConfig? Condition)? RuleHead(ConfigLine line, string kw, string actions)
    {
        var w = line.Words;
        if (w.Count < 2)
        {
            Error(line.Location, kw, $"'{kw}' expects an action ({actions})");
            return null;
        }

        int condAt = IndexOfCondition(w, 2);
        ConditionConfig? cond = null;
        if (condAt < w.Count && (cond = ParseCondition(line, kw, condAt)) is null)
        {
            return null;
        }

        return (w[1], [.. w.Skip(2).Take(condAt - 2)], cond);
    }

    private void ParseHttpRequest(ConfigLine line, ProxyBuilder px) => ParseHttpRule(line, px, response: false);

    private void ParseHttpResponse(ConfigLine line, ProxyBuilder px) => ParseHttpRule(line, px, response: true);

    /// <summary>
    /// One http-request or http-response rule. Both take allow, deny and the header actions; only
    /// requests take return, redirect and use-service, only responses set-status.
    /// </summary>
    private void ParseHttpRule(ConfigLine line, ProxyBuilder px, bool response)
    {
        string kw = response ? "http-response" : "http-request";
        string actions = response ? HttpResponseActions : HttpRequestActions;
        if (RuleHead(line, kw, actions) is not var (action, args, cond))
        {
            return;
        }

        var loc = line.Location;
        string? varName = VarActionName(action, out string varAction);
        if (varName is not null && !Samples.Variables.TryParse(varName, out _, out _))
        {
            Error(loc, $"{kw} {varAction}", $"invalid variable name '{varName}' (expected proc., sess., txn., req. or res. and a name)");
            return;
        }

        HttpRuleConfig? rule = action switch
        {
            "allow" => args.Count == 0 ? new HttpRuleConfig(HttpRuleKind.Allow, null, null, 0, null, null, cond, loc) : Unexpected(args[0]),
            "deny" => ParseDeny(args, response ? 502 : 403, cond, loc),
            "set-log-level" => IsLogLevelRule(line, $"{kw} {action}", args) ? new HttpRuleConfig(HttpRuleKind.SetLogLevel, args[0], null, 0, null, null, cond, loc) : null,
            "set-header" or "add-header" => args.Count == 2
                ? new HttpRuleConfig(action == "set-header" ? HttpRuleKind.SetHeader : HttpRuleKind.AddHeader, args[0], args[1], 0, null, null, cond, loc)
                : Bad($"'{action}' expects <name> <fmt>"),
            "del-header" => args.Count == 1 || (args.Count == 3 && args[1] == "-m" && args[2] is "str" or "beg" or "end" or "sub" or "reg")
                ? (args.Count == 3 && args[2] == "reg" && InvalidRegex(args[0]) is { } bad
                    ? Bad($"invalid regex '{args[0]}': {bad}")
                    : new HttpRuleConfig(HttpRuleKind.DelHeader, args[0], null, 0, null, null, cond, loc) { NameMatch = args.Count == 3 ? args[2] : "str" })
                : Bad("'del-header' expects <name> [-m str|beg|end|sub|reg]"),
            "return" when !response => ParseReturn(args, cond, loc),
            "redirect" when !response => ParseRedirect(args, cond, loc),
            "use-service" when !response => args.Count == 1 && args[0].StartsWith("lua.", StringComparison.Ordinal) && args[0].Length > 4
                ? new HttpRuleConfig(HttpRuleKind.UseService, args[0][4..], null, 0, null, null, cond, loc)
                : Bad("'use-service' expects one service name 'lua.<name>'"),
            "set-status" when response => ParseSetStatus(args, cond, loc),
            "replace-header" or "replace-value" => args.Count != 3
                ? Bad($"'{action}' expects <name> <match-regex> <replace-fmt>")
                : InvalidRegex(args[1]) is { } regexError
                    ? Bad($"invalid regex '{args[1]}': {regexError}")
                    : new HttpRuleConfig(action == "replace-header" ? HttpRuleKind.ReplaceHeader : HttpRuleKind.ReplaceValue, args[0], args[2], 0, null, null, cond, loc) { Pattern = args[1] },
            "set-method" or "set-path" or "set-query" or "set-uri" when !response => args.Count == 1
                ? new HttpRuleConfig(action switch { "set-method" => HttpRuleKind.SetMethod, "set-path" => HttpRuleKind.SetPath, "set-query" => HttpRuleKind.SetQuery, _ => HttpRuleKind.SetUri }, null, args[0], 0, null, null, cond, loc)
                : Bad($"'{action}' expects <fmt>"),
            _ when varName is not null && varAction == "set-var" => args.Count == 1
                ? new HttpRuleConfig(HttpRuleKind.SetVar, varName, args[0], 0, null, null, cond, loc)
                : Bad("'set-var(<name>)' expects one sample expression"),
            _ when varName is not null && varAction == "unset-var" => args.Count == 0
                ? new HttpRuleConfig(HttpRuleKind.UnsetVar, varName, null, 0, null, null, cond, loc)
                : Unexpected(args[0]),
            _ when action.StartsWith("lua.", StringComparison.Ordinal) && action.Length > 4
                => new HttpRuleConfig(HttpRuleKind.LuaAction, action[4..], null, 0, null, null, cond, loc) { Args = [.. args] },
            _ => Bad($"action '{action}' is not supported yet by HaLua ({actions})"),
        };
        if (rule is not null)
        {
            (response ? px.HttpResponseRules : px.HttpRequestRules).Add(rule with { Keyword = $"{kw} {(varName is null ? action : varAction)}" });
        }

        HttpRuleConfig? ParseSetStatus(List<string> a, ConditionConfig? c, SourceLocation l)
            => (a.Count == 1 || (a.Count == 3 && a[1] == "reason")) && ConfigValues.TryParseInt(a[0], 100, 999, out int code)
                ? new HttpRuleConfig(HttpRuleKind.SetStatus, null, a.Count == 3 ? a[2] : null, code, null, null, c, l)
                : Bad("expects <code> [reason <text>]");

        HttpRuleConfig? Unexpected(string arg) => Bad($"unexpected argument '{arg}' after '{action}'");

        HttpRuleConfig? Bad(string message)
        {
            Error(loc, $"{kw} {action}", message);
            return null;
        }

        HttpRuleConfig? ParseDeny(List<string> a, int status, ConditionConfig? c, SourceLocation l)
        {
            for (int i = 0; i < a.Count; i++)
            {
                if (a[i] == "deny_status" && i + 1 < a.Count && ConfigValues.TryParseInt(a[i + 1], 200, 599, out status))
                {
                    i++;
                    continue;
                }

                return Bad($"unexpected argument '{a[i]}' (expected 'deny_status <code>')");
            }

            return new HttpRuleConfig(HttpRuleKind.Deny, null, null, status, null, null, c, l);
        }

        HttpRuleConfig? ParseReturn(List<string> a, ConditionConfig? c, SourceLocation l)
        {
            int status = 200;
            string? contentType = null, body = null;
            for (int i = 0; i < a.Count; i++)
            {
                if (i + 1 >= a.Count)
                {
                    return Bad($"'{a[i]}' expects a value");
                }

                switch (a[i])
                {
                    case "status" when ConfigValues.TryParseInt(a[i + 1], 200, 599, out status):
                        break;
                    case "content-type":
                        contentType = a[i + 1];
                        break;
                    case "string":
                        // A plain string: its '%' are literal.
                        body = a[i + 1].Replace("%", "%%", StringComparison.Ordinal);
                        break;
                    case "lf-string":
                        body = a[i + 1];
                        break;
                    case "file" or "lf-file":
                        try
                        {
                            // Read once, at load, as HAProxy does; a plain file's '%' are literal.
                            body = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(a[i + 1]));
                            body = a[i] == "file" ? body.Replace("%", "%%", StringComparison.Ordinal) : body;
                        }
                        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                        {
                            return Bad($"cannot read '{a[i + 1]}': {ex.Message}");
                        }

                        break;
                    default:
                        return Bad($"unexpected argument '{a[i]}' (status, content-type, string, lf-string, file, lf-file; 'errorfile' is not supported yet)");
                }

                i++;
            }

            if (body is not null && contentType is null)
            {
                return Bad("'string', 'lf-string', 'file' and 'lf-file' need a 'content-type'");
            }

            return new HttpRuleConfig(HttpRuleKind.Return, null, body, status, contentType, null, c, l);
        }

        HttpRuleConfig? ParseRedirect(List<string> a, ConditionConfig? c, SourceLocation l)
        {
            if (a.Count < 2 || a[0] is not ("location" or "prefix" or "scheme"))
            {
                return Bad("expects 'location <url>', 'prefix <url>' or 'scheme <scheme>'");
            }

            int code = 302;
            bool dropQuery = false, appendSlash = false;
            string? cookie = null;
            for (int i = 2; i < a.Count; i++)
            {
                if (a[i] == "code" && i + 1 < a.Count && ConfigValues.TryParseInt(a[i + 1], 301, 308, out code) && code is 301 or 302 or 303 or 307 or 308)
                {
                    i++;
                    continue;
                }

                switch (a[i])
                {
                    case "drop-query":
                        dropQuery = true;
                        continue;
                    case "append-slash":
                        appendSlash = true;
                        continue;
                    case "set-cookie" or "clear-cookie" when i + 1 < a.Count:
                        // HAProxy 2.6: "set-cookie: NAME[=VALUE]; path=/;", and clear-cookie adds "Max-Age=0;".
                        cookie = a[i] == "set-cookie" ? $"{a[i + 1]}; path=/;" : $"{a[i + 1]}; path=/; Max-Age=0;";
                        i++;
                        continue;
                }

                return Bad($"unexpected argument '{a[i]}' (expected 'code 301|302|303|307|308', 'drop-query', 'append-slash', 'set-cookie NAME[=VALUE]' or 'clear-cookie NAME')");
            }

            return new HttpRuleConfig(HttpRuleKind.Redirect, null, a[1], code, null, a[0], c, l) { DropQuery = dropQuery, AppendSlash = appendSlash, Cookie = cookie };
        }
    }

    /// <summary>Null when the pattern compiles, else why not.</summary>
    private static string? InvalidRegex(string pattern)
    {
        try
        {
            _ = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.CultureInvariant);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>"set-var(txn.x)" gives "txn.x" and "set-var"; null when the action is not one of set-var/unset-var.</summary>
    private static string? VarActionName(string action, out string verb)
    {
        verb = "";
        foreach (var v in (string[])["set-var", "unset-var"])
        {
            if (action.Length > v.Length + 2 && action.StartsWith(v + "(", StringComparison.Ordinal) && action.EndsWith(')'))
            {
                verb = v;
                return action[(v.Length + 1)..^1];
            }
        }

        return null;
    }
}
