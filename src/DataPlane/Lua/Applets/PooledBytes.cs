using System.Buffers;

namespace HaLua.DataPlane.Lua.Applets;

/// <summary>Growing a buffer rented from the shared pool.</summary>
internal static class PooledBytes
{
    /// <summary>
    /// Makes <paramref name="buffer"/> hold at least <paramref name="atLeast"/> bytes (at least
    /// doubling it), keeping its first <paramref name="used"/> bytes; the old one goes back to the pool.
    /// </summary>
    public static void Grow(ref byte[] buffer, int used, int atLeast)
    {
        if (atLeast <= buffer.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length * 2, atLeast));
        buffer.AsSpan(0, used).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = bigger;
    }
}
