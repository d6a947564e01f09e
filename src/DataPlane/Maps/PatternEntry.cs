namespace HaLua.DataPlane.Maps;

/// <summary>
/// One entry of a pattern reference: a line of an ACL file (a pattern) or of a map (a key and a
/// value), or one added at runtime. Entries keep the order they were added in, which decides
/// between several matching patterns where HAProxy takes the first.
/// </summary>
internal sealed class PatternEntry(long seq, string key, string? value, int line)
{
    /// <summary>Position in file order; entries added later have larger numbers.</summary>
    public long Seq { get; } = seq;

    public string Key { get; } = key;

    /// <summary>The map value; null for an ACL pattern. Changed only under the reference's write lock.</summary>
    public string? Value { get; internal set; } = value;

    /// <summary>The line of the file it was read from; 0 when added at runtime or inline.</summary>
    public int Line { get; } = line;
}

/// <summary>HAProxy's lowercase folding for <c>-i</c>: ASCII only, as strcasecmp in the C locale.</summary>
internal static class AsciiCase
{
    /// <summary>The string with A-Z lowered; the same instance when there is nothing to lower.</summary>
    public static string Lower(string s)
    {
        int i = 0;
        while (i < s.Length && !char.IsAsciiLetterUpper(s[i]))
        {
            i++;
        }

        if (i == s.Length)
        {
            return s;
        }

        return string.Create(s.Length, s, static (span, src) =>
        {
            for (int k = 0; k < span.Length; k++)
            {
                char c = src[k];
                span[k] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
            }
        });
    }
}
