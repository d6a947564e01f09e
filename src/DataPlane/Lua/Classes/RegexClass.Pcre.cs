using System.Globalization;
using System.Text;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// PCRE2 syntax, as HAProxy compiles it (no UTF mode, the default ASCII character tables), turned
/// into .NET syntax over Latin-1 text (one char per byte). What .NET reads differently is
/// rewritten: <c>\w \d \s \b</c> and their negations are ASCII-only, <c>\h \v \R \N</c> are
/// PCRE's classes, POSIX classes (<c>[[:alpha:]]</c>) are expanded, <c>\x{..}</c>, <c>\o{..}</c>,
/// <c>\Q..\E</c> and <c>\g</c> are translated, and a possessive quantifier (<c>a++</c>) becomes an
/// atomic group. Named groups become numbered ones (PCRE numbers every group by its opening
/// parenthesis, .NET numbers named groups last) and references to a name become references to its
/// number. What .NET cannot express (recursion, branch reset, verbs) is left as is, and .NET's
/// parser rejects it: Regex.new then returns false and the reason.
/// </summary>
internal static partial class RegexClass
{
    private const string Word = "0-9A-Za-z_";

    /// <summary>The translated pattern, with every capture group numbered as PCRE numbers it.</summary>
    internal static string TranslatePcre(string pattern)
    {
        var groups = new Groups();
        var sb = new StringBuilder(pattern.Length + 16);
        var openGroups = new Stack<int>();
        int atom = -1;
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (atom >= 0 && QuantifierLength(pattern, i) is var q and > 0)
            {
                // A possessive quantifier (X*+) is an atomic group around the quantified atom.
                sb.Append(pattern, i, q);
                i += q;
                if (i < pattern.Length && pattern[i] == '+')
                {
                    sb.Insert(atom, "(?>").Append(')');
                    i++;
                }
                else if (i < pattern.Length && pattern[i] == '?')
                {
                    sb.Append('?');
                    i++;
                }

                atom = -1;
                continue;
            }

            atom = sb.Length;
            if (c == '\\' && i + 1 < pattern.Length)
            {
                i = Escape(pattern, i, sb, inClass: false, groups);
            }
            else if (c == '[')
            {
                i = CharClass(pattern, i, sb);
            }
            else if (c == '(' && string.CompareOrdinal(pattern, i, "(?P=", 0, 4) == 0)
            {
                // A named back-reference, written whole: an atom.
                i = Group(pattern, i, sb, groups);
            }
            else if (c == '(')
            {
                openGroups.Push(sb.Length);
                i = Group(pattern, i, sb, groups);
                atom = -1;
            }
            else
            {
                if (c == ')' && openGroups.Count > 0)
                {
                    atom = openGroups.Pop();
                }
                else if (c is '|' or '^' or '$')
                {
                    atom = -1;
                }

                sb.Append(c);
                i++;
            }
        }

        return sb.ToString();
    }

    /// <summary>The length of a quantifier at <paramref name="i"/> (*, +, ?, {n}, {n,}, {n,m}), or 0.</summary>
    private static int QuantifierLength(string p, int i)
    {
        if (p[i] is '*' or '+' or '?')
        {
            return 1;
        }

        if (p[i] != '{')
        {
            return 0;
        }

        int j = i + 1;
        int digits = 0;
        while (j < p.Length && char.IsAsciiDigit(p[j]))
        {
            j++;
            digits++;
        }

        if (digits == 0)
        {
            return 0;
        }

        if (j < p.Length && p[j] == ',')
        {
            j++;
            while (j < p.Length && char.IsAsciiDigit(p[j]))
            {
                j++;
            }
        }

        return j < p.Length && p[j] == '}' ? j - i + 1 : 0;
    }

    /// <summary>An escape at <paramref name="i"/> (the backslash); returns the index after it.</summary>
    private static int Escape(string p, int i, StringBuilder sb, bool inClass, Groups groups)
    {
        char e = p[i + 1];
        int next = i + 2;
        switch (e)
        {
            case 'w' or 'W' or 'd' or 'D' or 's' or 'S' or 'h' or 'H' or 'v' or 'V':
                var set = ShorthandSet(e);
                if (inClass)
                {
                    AppendRanges(sb, set);
                }
                else
                {
                    sb.Append('[');
                    AppendRanges(sb, set);
                    sb.Append(']');
                }

                return next;
            case 'b' when !inClass:
                sb.Append($"(?:(?<=[{Word}])(?![{Word}])|(?<![{Word}])(?=[{Word}]))");
                return next;
            case 'B' when !inClass:
                sb.Append($"(?:(?<=[{Word}])(?=[{Word}])|(?<![{Word}])(?![{Word}]))");
                return next;
            case 'R' when !inClass:
                sb.Append(@"(?:\r\n|[\n\x0B\f\r\x85])");
                return next;
            case 'N' when !inClass && (next >= p.Length || p[next] != '{'):
                sb.Append(@"[^\n]");
                return next;
            case 'x' when next < p.Length && p[next] == '{':
                return Braced(p, next, 16, sb);
            case 'o' when next < p.Length && p[next] == '{':
                return Braced(p, next, 8, sb);
            case 'Q':
                int end = p.IndexOf(@"\E", next, StringComparison.Ordinal);
                string literal = end < 0 ? p[next..] : p[next..end];
                foreach (char ch in literal)
                {
                    AppendLiteral(sb, ch);
                }

                return end < 0 ? p.Length : end + 2;
            case 'E':
                // A lone \E is ignored, as PCRE does.
                return next;
            case 'g' when !inClass:
                return Backreference(p, next, sb, groups);
            case 'k' when !inClass && next < p.Length && p[next] is '{' or '<' or '\'':
                char terminator = p[next] switch { '{' => '}', '<' => '>', _ => '\'' };
                int close = p.IndexOf(terminator, next + 1);
                if (close > next)
                {
                    AppendNamedReference(sb, groups, p[(next + 1)..close]);
                    return close + 1;
                }

                break;
        }

        sb.Append('\\').Append(e);
        return next;
    }

    /// <summary>\x{hh..} or \o{ooo}: a byte (PCRE without UTF refuses a code above 255).</summary>
    private static int Braced(string p, int open, int radix, StringBuilder sb)
    {
        int close = p.IndexOf('}', open);
        if (close < 0)
        {
            throw new ArgumentException("missing terminating } in \\x{} or \\o{}");
        }

        string digits = p[(open + 1)..close];
        int value;
        try
        {
            value = radix == 16 ? int.Parse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) : Convert.ToInt32(digits, 8);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            throw new ArgumentException($"invalid character code '{digits}'", ex);
        }

        if (value > 0xFF)
        {
            throw new ArgumentException("character code point value in \\x{} or \\o{} is too large");
        }

        AppendLiteral(sb, (char)value);
        return close + 1;
    }

    /// <summary>\gN, \g{N}, \g{-N} (relative to the groups opened so far), \g{name}.</summary>
    private static int Backreference(string p, int i, StringBuilder sb, Groups groups)
    {
        string reference;
        int next;
        if (i < p.Length && p[i] == '{' && p.IndexOf('}', i) is var close and > 0)
        {
            reference = p[(i + 1)..close];
            next = close + 1;
        }
        else
        {
            int j = i;
            while (j < p.Length && (char.IsAsciiDigit(p[j]) || (j == i && p[j] == '-')))
            {
                j++;
            }

            reference = p[i..j];
            next = j;
        }

        if (int.TryParse(reference, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n))
        {
            if (reference.StartsWith('-'))
            {
                n = groups.Count + 1 + n;
            }

            if (n <= 0 || n > groups.Count)
            {
                throw new ArgumentException($"reference to non-existent subpattern \\g{{{reference}}}");
            }

            sb.Append(@"(?:\").Append(n.ToString(CultureInfo.InvariantCulture)).Append(')');
        }
        else
        {
            AppendNamedReference(sb, groups, reference);
        }

        return next;
    }

    private static void AppendNamedReference(StringBuilder sb, Groups groups, string name)
    {
        if (groups.Names.TryGetValue(name, out int n))
        {
            sb.Append(@"(?:\").Append(n.ToString(CultureInfo.InvariantCulture)).Append(')');
        }
        else
        {
            // Unknown (or defined later): .NET reports it.
            sb.Append(@"\k<").Append(name).Append('>');
        }
    }

    /// <summary>A parenthesis: every capture group becomes a numbered one, its name remembered for references.</summary>
    private static int Group(string p, int i, StringBuilder sb, Groups groups)
    {
        if (i + 1 >= p.Length || p[i + 1] != '?')
        {
            // (*VERB) is not a group; .NET rejects it.
            if (i + 1 >= p.Length || p[i + 1] != '*')
            {
                groups.Count++;
            }

            sb.Append('(');
            return i + 1;
        }

        string rest = p[(i + 2)..];
        if (rest.StartsWith("P<", StringComparison.Ordinal) || (rest.StartsWith('<') && !rest.StartsWith("<=", StringComparison.Ordinal) && !rest.StartsWith("<!", StringComparison.Ordinal)) || rest.StartsWith('\''))
        {
            int start = rest.StartsWith('P') ? 2 : 1;
            char terminator = rest[start - 1] == '\'' ? '\'' : '>';
            int close = rest.IndexOf(terminator, start);
            if (close > start)
            {
                groups.Count++;
                groups.Names.TryAdd(rest[start..close], groups.Count);
                sb.Append('(');
                return i + 2 + close + 1;
            }
        }
        else if (rest.StartsWith("P=", StringComparison.Ordinal) && rest.IndexOf(')', StringComparison.Ordinal) is var end and > 2)
        {
            AppendNamedReference(sb, groups, rest[2..end]);
            return i + 2 + end + 1;
        }

        sb.Append("(?");
        return i + 2;
    }

    /// <summary>A bracket expression, from its '[' to its ']': POSIX classes and shorthands expanded to byte ranges.</summary>
    private static int CharClass(string p, int i, StringBuilder sb)
    {
        sb.Append('[');
        i++;
        if (i < p.Length && p[i] == '^')
        {
            sb.Append('^');
            i++;
        }

        bool first = true;
        while (i < p.Length)
        {
            char c = p[i];
            if (c == ']' && !first)
            {
                sb.Append(']');
                return i + 1;
            }

            first = false;
            if (c == '[' && i + 1 < p.Length && p[i + 1] == ':' && p.IndexOf(":]", i + 2, StringComparison.Ordinal) is var close and > 0)
            {
                string name = p[(i + 2)..close];
                bool negated = name.StartsWith('^');
                var set = PosixSet(negated ? name[1..] : name) ?? throw new ArgumentException($"unknown POSIX class name '{name}'");
                AppendRanges(sb, negated ? Complement(set) : set);
                i = close + 2;
            }
            else if (c == '\\' && i + 1 < p.Length)
            {
                i = Escape(p, i, sb, inClass: true, groups: new Groups());
            }
            else if (c == '[')
            {
                // A literal '[' (.NET would read "-[" as a class subtraction).
                sb.Append(@"\[");
                i++;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }

        // Unterminated: .NET reports it.
        return i;
    }

    /// <summary>The capture groups opened so far, and the number of each named one.</summary>
    private sealed class Groups
    {
        public int Count;

        public Dictionary<string, int> Names { get; } = new(StringComparer.Ordinal);
    }

    private static bool[] ShorthandSet(char e)
    {
        var set = char.ToLowerInvariant(e) switch
        {
            'w' => Set(Word),
            'd' => Set("0-9"),
            's' => Set("\t\n\v\f\r "),
            'h' => Set("\t \u00A0"),
            _ => Set("\n\v\f\r\u0085"),
        };
        return char.IsUpper(e) ? Complement(set) : set;
    }

    private static bool[]? PosixSet(string name) => name switch
    {
        "alpha" => Set("A-Za-z"),
        "digit" => Set("0-9"),
        "alnum" => Set("0-9A-Za-z"),
        "upper" => Set("A-Z"),
        "lower" => Set("a-z"),
        "space" => Set("\t\n\v\f\r "),
        "blank" => Set("\t "),
        "punct" => Set("!-/:-@[-`{-~"),
        "print" => Set(" -~"),
        "graph" => Set("!-~"),
        "cntrl" => Set("\0-\u001F\u007F"),
        "xdigit" => Set("0-9A-Fa-f"),
        "word" => Set(Word),
        "ascii" => Set("\0-\u007F"),
        _ => null,
    };

    /// <summary>A set of bytes from a list of characters and ranges ("a-z_").</summary>
    private static bool[] Set(string spec)
    {
        var set = new bool[256];
        for (int k = 0; k < spec.Length; k++)
        {
            if (k + 2 < spec.Length && spec[k + 1] == '-')
            {
                for (int ch = spec[k]; ch <= spec[k + 2]; ch++)
                {
                    set[ch] = true;
                }

                k += 2;
            }
            else
            {
                set[spec[k]] = true;
            }
        }

        return set;
    }

    private static bool[] Complement(bool[] set) => [.. set.Select(b => !b)];

    private static void AppendRanges(StringBuilder sb, bool[] set)
    {
        for (int lo = 0; lo < 256; lo++)
        {
            if (!set[lo])
            {
                continue;
            }

            int hi = lo;
            while (hi + 1 < 256 && set[hi + 1])
            {
                hi++;
            }

            AppendLiteral(sb, (char)lo);
            if (hi > lo)
            {
                sb.Append('-');
                AppendLiteral(sb, (char)hi);
            }

            lo = hi;
        }
    }

    private static void AppendLiteral(StringBuilder sb, char c) => sb.Append(@"\x").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
}
