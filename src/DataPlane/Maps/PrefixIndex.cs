using System.Buffers;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Maps;

/// <summary>
/// <c>beg</c>, <c>end</c>, <c>dir</c> and <c>dom</c> over a <see cref="PrefixTree"/>:
/// <list type="bullet">
/// <item><c>beg</c>: one walk from the start of the sample; the longest key wins, as HAProxy's
/// prefix tree answers.</item>
/// <item><c>end</c>: keys stored reversed, one walk from the end of the sample; several keys may
/// match and the first in file order wins (HAProxy scans its list in order).</item>
/// <item><c>dir</c> (<c>/?</c>) and <c>dom</c> (<c>/?.:</c>): keys stored without their leading
/// and trailing delimiters; one walk from each word start of the sample, keeping keys that end
/// at a delimiter or at the end; the first in file order wins. The cost grows with the words of
/// the sample, not with the number of keys.</item>
/// </list>
/// </summary>
internal sealed class PrefixIndex : PatternIndex
{
    private const string DirDelimiterChars = "/?";
    private const string DomDelimiterChars = "/?.:";
    private static readonly SearchValues<char> DirDelimiters = SearchValues.Create(DirDelimiterChars);
    private static readonly SearchValues<char> DomDelimiters = SearchValues.Create(DomDelimiterChars);

    private readonly PrefixTree _tree = new();
    private readonly SearchValues<char>? _delimiters;
    private readonly string _delimiterChars;

    public PrefixIndex(PatternReference owner, MatchMethod method, bool ignoreCase)
        : base(owner, method, ignoreCase)
    {
        _delimiters = method switch
        {
            MatchMethod.Dir => DirDelimiters,
            MatchMethod.Dom => DomDelimiters,
            _ => null,
        };
        _delimiterChars = method == MatchMethod.Dir ? DirDelimiterChars : DomDelimiterChars;
    }

    /// <summary>The tree's size (tests check the structure).</summary>
    internal int NodeCount => _tree.NodeCount;

    internal override void Add(PatternEntry entry)
    {
        // A dir/dom key made of delimiters only never matches (HAProxy's match_word): not stored.
        string key = TreeKey(entry);
        if (key.Length > 0 || _delimiters is null)
        {
            _tree.Add(key, entry);
        }
    }

    internal override void Remove(PatternEntry entry) => _tree.Remove(TreeKey(entry), entry);

    internal override void Clear() => _tree.Clear();

    internal override PatternEntry? Find(in Sample sample, ref int work)
    {
        string text = Text(sample);
        switch (Method)
        {
            case MatchMethod.Beg:
                return _tree.Find(text, longest: true, null, ref work);
            case MatchMethod.End:
                char[]? rented = text.Length > 256 ? ArrayPool<char>.Shared.Rent(text.Length) : null;
                Span<char> reversed = rented is null ? stackalloc char[text.Length] : rented.AsSpan(0, text.Length);
                text.AsSpan().CopyTo(reversed);
                reversed.Reverse();
                var found = _tree.Find(reversed, longest: false, null, ref work);
                if (rented is not null)
                {
                    ArrayPool<char>.Shared.Return(rented);
                }

                return found;
            default:
                PatternEntry? best = null;
                for (int i = 0; i < text.Length; i++)
                {
                    if (!_delimiters!.Contains(text[i]) && (i == 0 || _delimiters.Contains(text[i - 1])))
                    {
                        best = First(best, _tree.Find(text.AsSpan(i), longest: false, _delimiters, ref work));
                    }
                }

                return best;
        }
    }

    private string TreeKey(PatternEntry entry)
    {
        string key = Key(entry);
        if (Method == MatchMethod.End)
        {
            return string.Create(key.Length, key, static (span, k) =>
            {
                k.AsSpan().CopyTo(span);
                span.Reverse();
            });
        }

        return _delimiters is null ? key : key.AsSpan().Trim(_delimiterChars).ToString();
    }
}
