namespace HaLua.DataPlane.Maps;

/// <summary>
/// One entry by its reference (HAProxy's <c>#&lt;ref&gt;</c>, the <c>0x...</c> that <c>show map</c>
/// prints): the runtime CLI's <c>set map M #REF V</c> and <c>del map M #REF</c> touch that entry only.
/// </summary>
internal sealed partial class PatternReference
{
    /// <summary>The next version <c>prepare</c> gives out is above this one (HAProxy's next_ver).</summary>
    public long NextVersion
    {
        get
        {
            EnterRead();
            try
            {
                return Math.Max(_nextVersion, _version);
            }
            finally
            {
                ExitRead();
            }
        }
    }

    /// <summary>Sets the value of the entry with reference <paramref name="seq"/>; false when there is none (or the value is refused: <paramref name="error"/>).</summary>
    public bool SetByRef(long seq, string value, out string? error)
    {
        EnterWrite();
        try
        {
            error = null;
            var node = FindNode(seq);
            if (node is null || !CheckValue(value, out error))
            {
                return false;
            }

            node.Value.Value = value;
            return true;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Removes the entry with reference <paramref name="seq"/>; false when there is none.</summary>
    public bool DeleteByRef(long seq)
    {
        EnterWrite();
        try
        {
            var node = FindNode(seq);
            if (node is null)
            {
                return false;
            }

            foreach (var index in _indexes)
            {
                index.Remove(node.Value);
            }

            var nodes = _byKey[node.Value.Key];
            nodes.Remove(node);
            if (nodes.Count == 0)
            {
                _byKey.Remove(node.Value.Key);
            }

            _entries.Remove(node);
            return true;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>The indexes made so far, one per match method in use (HAProxy's expressions of the reference).</summary>
    public IReadOnlyList<PatternIndex> IndexesInUse
    {
        get
        {
            EnterRead();
            try
            {
                return [.. _indexes];
            }
            finally
            {
                ExitRead();
            }
        }
    }

    /// <summary>Empties a prepared version (<c>clear map @VER</c>); false when there is no such version.</summary>
    public bool ClearVersion(long version)
    {
        EnterWrite();
        try
        {
            if (!_prepared.TryGetValue(version, out var list))
            {
                return false;
            }

            list.Clear();
            return true;
        }
        finally
        {
            ExitWrite();
        }
    }

    private LinkedListNode<PatternEntry>? FindNode(long seq)
    {
        for (var n = _entries.First; n is not null; n = n.Next)
        {
            if (n.Value.Seq == seq)
            {
                return n;
            }
        }

        return null;
    }
}
