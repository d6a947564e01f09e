using System.Text;

namespace HaLua.DataPlane.Cli;

/// <summary>
/// HAProxy 2.6's <c>help</c> and its answer to an unknown command: the usage lines sorted, Lua's
/// among them, then help, prompt and quit; for an unknown command, the closest commands by a
/// fingerprint of their words (HAProxy's "maybe one of the following ones is a better match").
/// </summary>
internal static class CliHelp
{
    private const int MaxMatches = 5;
    private const int PrefixWords = 5;

    public static string Help(string[] args, IReadOnlyList<CliKeyword> lua)
    {
        var sb = new StringBuilder("The following commands are valid at this level:\n");
        var filter = args.Skip(1).ToArray();
        foreach (var k in Sorted(lua).Where(k => filter.Length == 0 || StartsWith(k, filter)))
        {
            sb.Append("  ").Append(k.Usage).Append('\n');
        }

        return Tail(sb);
    }

    public static string Unknown(string[] args, IReadOnlyList<CliKeyword> lua)
    {
        var all = CliKeywords.BuiltIn.Concat(lua).ToList();
        if (args.Length == 0)
        {
            return Full(lua);
        }

        // How many leading words some command matches exactly.
        int length = 0;
        foreach (var k in all)
        {
            int i = 0;
            while (i < k.Words.Length && i < args.Length && i < PrefixWords && k.Words[i] == args[i])
            {
                i++;
            }

            length = Math.Max(length, i);
        }

        var matches = new List<(CliKeyword Keyword, int Distance)>();
        if (length < args.Length)
        {
            var wordPrint = new byte[1024];
            int argsLength = 0;
            for (int i = length; i < args.Length && i < PrefixWords; i++)
            {
                Fingerprint(wordPrint, args[i]);
                argsLength += args[i].Length;
            }

            var kwPrint = new byte[1024];
            foreach (var k in all)
            {
                if (k.Words.Length < length || !k.Words.Take(length).SequenceEqual(args.Take(length)))
                {
                    continue;
                }

                Array.Clear(kwPrint);
                int total = argsLength;
                for (int i = length; i < k.Words.Length && i < PrefixWords; i++)
                {
                    Fingerprint(kwPrint, k.Words[i]);
                    total += k.Words[i].Length;
                }

                int distance = Distance(wordPrint, kwPrint);
                if (distance < 5 * total / 2 && (matches.Count < MaxMatches || distance < matches[^1].Distance))
                {
                    int at = matches.Count;
                    while (at > 0 && matches[at - 1].Distance > distance)
                    {
                        at--;
                    }

                    matches.Insert(at, (k, distance));
                    if (matches.Count > MaxMatches)
                    {
                        matches.RemoveAt(MaxMatches);
                    }
                }
            }
        }

        if (matches.Count == 0)
        {
            return Full(lua);
        }

        int best = matches[0].Distance;
        var sb = new StringBuilder("Unknown command, but maybe one of the following ones is a better match:\n");
        foreach (var (k, _) in matches.Where(m => m.Distance <= 5 * best / 2).OrderBy(m => m.Keyword.Usage, StringComparer.Ordinal))
        {
            sb.Append("  ").Append(k.Usage).Append('\n');
        }

        return Tail(sb);
    }

    private static string Full(IReadOnlyList<CliKeyword> lua)
    {
        var sb = new StringBuilder("Unknown command. Please enter one of the following commands only:\n");
        foreach (var k in Sorted(lua))
        {
            sb.Append("  ").Append(k.Usage).Append('\n');
        }

        return Tail(sb);
    }

    private static IEnumerable<CliKeyword> Sorted(IReadOnlyList<CliKeyword> lua)
        => CliKeywords.BuiltIn.Concat(lua).OrderBy(k => k.Usage, StringComparer.Ordinal);

    private static string Tail(StringBuilder sb)
    {
        foreach (var k in CliKeywords.Session)
        {
            sb.Append("  ").Append(k.Usage).Append('\n');
        }

        return sb.ToString();
    }

    private static bool StartsWith(CliKeyword k, string[] words)
    {
        for (int i = 0; i < words.Length && i < k.Words.Length; i++)
        {
            if (k.Words[i] != words[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Counts each pair of consecutive characters (letters, digits as one class, others as one), from the word's start to its end.</summary>
    internal static void Fingerprint(byte[] print, string word)
    {
        const int Edge = 28;
        int from = Edge;
        foreach (char ch in word)
        {
            char c = char.ToLowerInvariant(ch);
            int to = c is >= 'a' and <= 'z' ? c - 'a' + 1 : c is >= '0' and <= '9' ? 27 : Edge;
            print[(32 * from) + to]++;
            from = to;
        }

        print[(32 * from) + Edge]++;
    }

    internal static int Distance(byte[] a, byte[] b)
    {
        int d = 0;
        for (int i = 0; i < a.Length; i++)
        {
            d += Math.Abs(a[i] - b[i]);
        }

        return d;
    }
}
