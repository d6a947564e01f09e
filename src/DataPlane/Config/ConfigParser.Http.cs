using System.Collections.Immutable;

namespace HaLua.DataPlane.Config;

/// <summary>http-request and http-response rules.</summary>
internal sealed partial class ConfigParser
{
    private const string HttpRequestActions = "use-service lua.NAME, allow, deny [deny_status N], return [status N] [content-type T] [string S|lf-string S], redirect location|prefix URL [code N], set-header, add-header, del-header";

    private const string HttpResponseActions = "allow, deny [deny_status N], set-status N [reason R], set-header, add-header, del-header";

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
        HttpRuleConfig? rule = action switch
        {
            "allow" => args.Count == 0 ? new HttpRuleConfig(HttpRuleKind.Allow, null, null, 0, null, null, cond, loc) : Unexpected(args[0]),
            "deny" => ParseDeny(args, response ? 502 : 403, cond, loc),
            "set-log-level" => IsLogLevelRule(line, $"{kw} {action}", args) ? new HttpRuleConfig(HttpRuleKind.SetLogLevel, args[0], null, 0, null, null, cond, loc) : null,
            "set-header" or "add-header" => args.Count == 2
                ? new HttpRuleConfig(action == "set-header" ? HttpRuleKind.SetHeader : HttpRuleKind.AddHeader, args[0], args[1], 0, null, null, cond, loc)
                : Bad($"'{action}' expects <name> <fmt>"),
            "del-header" => args.Count == 1
                ? new HttpRuleConfig(HttpRuleKind.DelHeader, args[0], null, 0, null, null, cond, loc)
                : Bad("'del-header' expects <name> (matching options are not supported yet)"),
            "return" when !response => ParseReturn(args, cond, loc),
            "redirect" when !response => ParseRedirect(args, cond, loc),
            "use-service" when !response => args.Count == 1 && args[0].StartsWith("lua.", StringComparison.Ordinal) && args[0].Length > 4
                ? new HttpRuleConfig(HttpRuleKind.UseService, args[0][4..], null, 0, null, null, cond, loc)
                : Bad("'use-service' expects one service name 'lua.<name>'"),
            "set-status" when response => ParseSetStatus(args, cond, loc),
            _ => Bad($"action '{action}' is not supported yet by HaLua ({actions})"),
        };
        if (rule is not null)
        {
            (response ? px.HttpResponseRules : px.HttpRequestRules).Add(rule);
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
                    default:
                        return Bad($"unexpected argument '{a[i]}' (status, content-type, string, lf-string; 'file' and 'errorfile' are not supported yet)");
                }

                i++;
            }

            if (body is not null && contentType is null)
            {
                return Bad("'string' and 'lf-string' need a 'content-type'");
            }

            return new HttpRuleConfig(HttpRuleKind.Return, null, body, status, contentType, null, c, l);
        }

        HttpRuleConfig? ParseRedirect(List<string> a, ConditionConfig? c, SourceLocation l)
        {
            if (a.Count < 2 || a[0] is not ("location" or "prefix"))
            {
                return Bad("expects 'location <url>' or 'prefix <url>' ('scheme' is not supported yet)");
            }

            int code = 302;
            for (int i = 2; i < a.Count; i++)
            {
                if (a[i] == "code" && i + 1 < a.Count && ConfigValues.TryParseInt(a[i + 1], 301, 308, out code) && code is 301 or 302 or 303 or 307 or 308)
                {
                    i++;
                    continue;
                }

                return Bad($"unexpected argument '{a[i]}' (expected 'code 301|302|303|307|308')");
            }

            return new HttpRuleConfig(HttpRuleKind.Redirect, null, a[1], code, null, a[0], c, l);
        }
    }
}
