using System.Buffers;

namespace HaLua.DataPlane.Maps;

/// <summary>
/// A compressed prefix tree (radix tree): each node holds the entries of one key, oldest first,
/// and edges carry whole runs of characters. One walk along a text meets every key that is a
/// prefix of it, in as many steps as the text has characters, whatever the number of keys.
/// </summary>
internal sealed class PrefixTree
{
    private Node _root = new("");

    /// <summary>Nodes in the tree, the root included (at most twice the number of keys).</summary>
    public int NodeCount { get; private set; } = 1;

    public void Add(string key, PatternEntry entry)
    {
        var node = _root;
        int i = 0;
        while (i < key.Length)
        {
            int at = IndexOf(node, key[i]);
            if (at < 0)
            {
                var leaf = new Node(key[i..]);
                node.Children = [.. node.Children[..~at], leaf, .. node.Children[~at..]];
                NodeCount++;
                node = leaf;
                break;
            }

            var child = node.Children[at];
            int common = key.AsSpan(i).CommonPrefixLength(child.Label);
            if (common < child.Label.Length)
            {
                // The key leaves the edge half-way: split it.
                var middle = new Node(child.Label[..common]) { Children = [child] };
                child.Label = child.Label[common..];
                node.Children[at] = middle;
                NodeCount++;
                child = middle;
            }

            node = child;
            i += common;
        }

        (node.Entries ??= new List<PatternEntry>(1)).Add(entry);
    }

    public void Remove(string key, PatternEntry entry)
    {
        var path = new List<(Node Parent, int Index)>();
        var node = _root;
        int i = 0;
        while (i < key.Length)
        {
            int at = IndexOf(node, key[i]);
            if (at < 0 || !key.AsSpan(i).StartsWith(node.Children[at].Label))
            {
                return;
            }

            path.Add((node, at));
            node = node.Children[at];
            i += node.Label.Length;
        }

        if (node.Entries is null || !node.Entries.Remove(entry) || node.Entries.Count > 0)
        {
            return;
        }

        node.Entries = null;

        // Prune what no longer leads to a key, and merge a node left with one child into it.
        for (int k = path.Count - 1; k >= 0; k--)
        {
            var (parent, at) = path[k];
            var n = parent.Children[at];
            if (n.Entries is not null)
            {
                break;
            }

            if (n.Children.Length == 0)
            {
                parent.Children = [.. parent.Children[..at], .. parent.Children[(at + 1)..]];
                NodeCount--;
                continue;
            }

            if (n.Children.Length == 1)
            {
                var only = n.Children[0];
                only.Label = n.Label + only.Label;
                parent.Children[at] = only;
                NodeCount--;
            }

            break;
        }
    }

    public void Clear()
    {
        _root = new Node("");
        NodeCount = 1;
    }

    /// <summary>
    /// Among the keys that are prefixes of <paramref name="text"/> (and, with delimiters, are
    /// followed in it by a delimiter or its end), the longest, or else the oldest entry.
    /// <paramref name="work"/> grows by the characters compared.
    /// </summary>
    public PatternEntry? Find(ReadOnlySpan<char> text, bool longest, SearchValues<char>? delimiters, ref int work)
    {
        PatternEntry? best = null;
        var node = _root;
        int i = 0;
        while (true)
        {
            if (node.Entries is { } entries && (delimiters is null || i == text.Length || delimiters.Contains(text[i])))
            {
                var candidate = entries[0];
                best = longest || best is null || candidate.Seq < best.Seq ? candidate : best;
            }

            if (i == text.Length)
            {
                return best;
            }

            int at = IndexOf(node, text[i]);
            if (at < 0)
            {
                return best;
            }

            var child = node.Children[at];
            work += child.Label.Length;
            if (!text[i..].StartsWith(child.Label))
            {
                return best;
            }

            node = child;
            i += child.Label.Length;
        }
    }

    /// <summary>The child whose edge starts with <paramref name="c"/>, or the bitwise complement of where it would go.</summary>
    private static int IndexOf(Node node, char c)
    {
        var children = node.Children;
        int lo = 0, hi = children.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            char m = children[mid].Label[0];
            if (m == c)
            {
                return mid;
            }

            if (m < c)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return ~lo;
    }

    private sealed class Node(string label)
    {
        /// <summary>The characters on the edge from the parent.</summary>
        public string Label = label;

        /// <summary>Sorted by the first character of their label.</summary>
        public Node[] Children = [];

        public List<PatternEntry>? Entries;
    }
}
