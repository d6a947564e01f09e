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

    private void ParseHttpResponse(ConfigLine line, ProxyBuilder px)
    {
        const string kw = "http-response";
        if (RuleHead(line, kw, HttpResponseActions) is not var (action, args, cond))
        {
            return;
        }

        var loc = line.Location;
        HttpRuleConfig? rule = null;
        switch (action)
        {
            case "allow" when args.Count == 0:
                rule = new HttpRuleConfig(HttpRuleKind.Allow, null, null, 0, null, null, cond, loc);
                break;
            case "deny":
                int status = 502;
                if (args.Count == 2 && args[0] == "deny_status" && ConfigValues.TryParseInt(args[1], 200, 599, out status) || args.Count == 0)
                {
                    rule = new HttpRuleConfig(HttpRuleKind.Deny, null, null, args.Count == 0 ? 502 : status, null, null, cond, loc);
                }

                break;
            case "set-status":
                if ((args.Count == 1 || (args.Count == 3 && args[1] == "reason")) && ConfigValues.TryParseInt(args[0], 100, 999, out int code))
                {
                    rule = new HttpRuleConfig(HttpRuleKind.SetStatus, null, args.Count == 3 ? args[2] : null, code, null, null, cond, loc);
                }

                break;
            case "set-header" or "add-header" when args.Count == 2:
                rule = new HttpRuleConfig(action == "set-header" ? HttpRuleKind.SetHeader : HttpRuleKind.AddHeader, args[0], args[1], 0, null, null, cond, loc);
                break;
            case "del-header" when args.Count == 1:
                rule = new HttpRuleConfig(HttpRuleKind.DelHeader, args[0], null, 0, null, null, cond, loc);
                break;
        }

        if (rule is null)
        {
            Error(loc, $"{kw} {action}", $"invalid or unsupported action (supported: {HttpResponseActions})");
            return;
        }

        px.HttpResponseRules.Add(rule);
    }

    private void ParseHttpRequest(ConfigLine line, ProxyBuilder px)
    {
        const string kw = "http-request";
        if (RuleHead(line, kw, HttpRequestActions) is not var (action, args, cond))
        {
            return;
        }

        var loc = line.Location;
        HttpRuleConfig? rule = action switch
        {
            "allow" => args.Count == 0 ? new HttpRuleConfig(HttpRuleKind.Allow, null, null, 0, null, null, cond, loc) : Unexpected(args[0]),
            "deny" => ParseDeny(args, cond, loc),
            "return" => ParseReturn(args, cond, loc),
            "redirect" => ParseRedirect(args, cond, loc),
            "set-header" or "add-header" => args.Count == 2
                ? new HttpRuleConfig(action == "set-header" ? HttpRuleKind.SetHeader : HttpRuleKind.AddHeader, args[0], args[1], 0, null, null, cond, loc)
                : Bad($"'{action}' expects <name> <fmt>"),
            "use-service" => args.Count == 1 && args[0].StartsWith("lua.", StringComparison.Ordinal) && args[0].Length > 4
                ? new HttpRuleConfig(HttpRuleKind.UseService, args[0][4..], null, 0, null, null, cond, loc)
                : Bad("'use-service' expects one service name 'lua.<name>'"),
            "del-header" => args.Count == 1
                ? new HttpRuleConfig(HttpRuleKind.DelHeader, args[0], null, 0, null, null, cond, loc)
                : Bad("'del-header' expects <name> (matching options are not supported yet)"),
            _ => Bad($"action '{action}' is not supported yet by HaLua ({HttpRequestActions})"),
        };
        if (rule is not null)
        {
            px.HttpRequestRules.Add(rule);
        }

        HttpRuleConfig? Unexpected(string arg) => Bad($"unexpected argument '{arg}' after '{action}'");

        HttpRuleConfig? Bad(string message)
        {
            Error(loc, $"{kw} {action}", message);
            return null;
        }

        HttpRuleConfig? ParseDeny(List<string> a, ConditionConfig? c, SourceLocation l)
        {
            int status = 403;
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
