using System.Text;

namespace HaLua.DataPlane.Config;

/// <summary>One logical config line split into words, HAProxy's way.</summary>
internal sealed record ConfigLine(SourceLocation Location, IReadOnlyList<string> Words);

/// <summary>
/// HAProxy's line syntax: words separated by blanks; <c>#</c> starts a comment outside quotes;
/// double quotes keep blanks and allow escapes and environment expansion; single quotes keep
/// everything literally; backslash escapes outside quotes; <c>${VAR}</c> and <c>$VAR</c> expand
/// outside single quotes.
/// </summary>
internal static class ConfigTokenizer
{
    public static (ConfigLine? Line, string? Error) Tokenize(string text, SourceLocation location, Func<string, string?> env)
    {
        var words = new List<string>();
        var sb = new StringBuilder();
        bool inWord = false;
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c is ' ' or '\t')
            {
                if (inWord)
                {
                    words.Add(sb.ToString());
                    sb.Clear();
                    inWord = false;
                }

                i++;
                continue;
            }

            if (c == '#')
            {
                break;
            }

            inWord = true;
            if (c == '\'')
            {
                int end = text.IndexOf('\'', i + 1);
                if (end < 0)
                {
                    return (null, "unmatched single quote");
                }

                sb.Append(text, i + 1, end - i - 1);
                i = end + 1;
            }
            else if (c == '"')
            {
                i++;
                bool closed = false;
                while (i < text.Length)
                {
                    char d = text[i];
                    if (d == '"')
                    {
                        closed = true;
                        i++;
                        break;
                    }

                    if (d == '\\' && i + 1 < text.Length)
                    {
                        if (Escape(text, ref i, sb) is { } err)
                        {
                            return (null, err);
                        }

                        continue;
                    }

                    if (d == '$' && Expand(text, ref i, sb, env) is { } experr)
                    {
                        return (null, experr);
                    }
                    else if (d != '$')
                    {
                        sb.Append(d);
                        i++;
                    }
                }

                if (!closed)
                {
                    return (null, "unmatched double quote");
                }
            }
            else if (c == '\\' && i + 1 < text.Length)
            {
                if (Escape(text, ref i, sb) is { } err)
                {
                    return (null, err);
                }
            }
            else
            {
                // As in HAProxy, "$VAR" and "${VAR}" are expanded only inside double quotes.
                sb.Append(c);
                i++;
            }
        }

        if (inWord)
        {
            words.Add(sb.ToString());
        }

        return (new ConfigLine(location, words), null);
    }

    private static string? Escape(string text, ref int i, StringBuilder sb)
    {
        char n = text[i + 1];
        switch (n)
        {
            case 't':
                sb.Append('\t');
                break;
            case 'n':
                sb.Append('\n');
                break;
            case 'r':
                sb.Append('\r');
                break;
            case 'x':
                if (i + 3 >= text.Length || !Uri.IsHexDigit(text[i + 2]) || !Uri.IsHexDigit(text[i + 3]))
                {
                    return "truncated or invalid hexadecimal sequence";
                }

                sb.Append((char)Convert.ToInt32(text.Substring(i + 2, 2), 16));
                i += 4;
                return null;
            case ' ':
            case '#':
            case '\\':
            case '"':
            case '\'':
            case '$':
                sb.Append(n);
                break;
            default:
                // Not an escape sequence (\d, \., \1 in a regex...): HAProxy keeps the backslash
                // and reads the next character normally.
                sb.Append('\\');
                i++;
                return null;
        }

        i += 2;
        return null;
    }

    private static string? Expand(string text, ref int i, StringBuilder sb, Func<string, string?> env)
    {
        // At text[i] == '$'.
        if (i + 1 < text.Length && text[i + 1] == '{')
        {
            int end = text.IndexOf('}', i + 2);
            if (end < 0)
            {
                return "missing '}' in environment variable expansion";
            }

            string spec = text.Substring(i + 2, end - i - 2);
            string name = spec;
            string? fallback = null;
            int dash = spec.IndexOf("-", StringComparison.Ordinal);
            if (dash > 0)
            {
                name = spec[..dash];
                fallback = spec[(dash + 1)..];
            }

            if (!IsVarName(name))
            {
                return $"invalid environment variable name '{name}'";
            }

            sb.Append(env(name) ?? fallback ?? "");
            i = end + 1;
            return null;
        }

        int j = i + 1;
        while (j < text.Length && (char.IsAsciiLetterOrDigit(text[j]) || text[j] == '_'))
        {
            j++;
        }

        if (j == i + 1)
        {
            sb.Append('$');
            i++;
            return null;
        }

        sb.Append(env(text.Substring(i + 1, j - i - 1)) ?? "");
        i = j;
        return null;
    }

    private static bool IsVarName(string s) => s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
}
