namespace HaLua.DataPlane.Http;

/// <summary>The parts of a request-target (origin form "/p?q" or absolute form "http://h/p?q") that rules rewrite.</summary>
internal static class RequestTarget
{
    /// <summary>Where the path starts: after "scheme://authority" in absolute form, else 0.</summary>
    public static int PathStart(ReadOnlySpan<byte> target)
    {
        int scheme = target.IndexOf("://"u8);
        if (scheme <= 0 || target[0] == (byte)'/')
        {
            return 0;
        }

        int from = scheme + 3;
        int end = target[from..].IndexOfAny((byte)'/', (byte)'?');
        return end < 0 ? target.Length : from + end;
    }

    /// <summary>The target with a new path (scheme, authority and query kept).</summary>
    public static byte[] WithPath(ReadOnlySpan<byte> target, ReadOnlySpan<byte> path)
    {
        int start = PathStart(target);
        int q = target.IndexOf((byte)'?');
        var query = q < 0 ? default : target[q..];
        return [.. target[..start], .. path, .. query];
    }

    /// <summary>The target with a new query string after "?" (the "?" stays when the query is empty, as in HAProxy).</summary>
    public static byte[] WithQuery(ReadOnlySpan<byte> target, ReadOnlySpan<byte> query)
    {
        int q = target.IndexOf((byte)'?');
        var path = q < 0 ? target : target[..q];
        return [.. path, (byte)'?', .. query];
    }
}
