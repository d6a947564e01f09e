using System.Net;

namespace HaLua.DataPlane.Samples;

/// <summary>An IPv4 or IPv6 network (address/prefix); IPv4-mapped IPv6 addresses are seen as IPv4.</summary>
internal readonly record struct Network(byte[] Address, int Prefix)
{
    public static Network? Parse(string text)
    {
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var ip))
        {
            return null;
        }

        ip = Normalize(ip);
        var bytes = ip.GetAddressBytes();
        int prefix = bytes.Length * 8;
        if (slash >= 0)
        {
            string m = text[(slash + 1)..];
            if (int.TryParse(m, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int p) && p <= prefix)
            {
                prefix = p;
            }
            else if (bytes.Length == 4 && m.Count(c => c == '.') == 3 && IPAddress.TryParse(m, out var dotted) && dotted.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
                && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(dotted.GetAddressBytes()) is var mask && mask + (mask & (0u - mask)) == 0)
            {
                // A dotted mask, contiguous only (a prefix); "/33" is not the number 0.0.0.33.
                prefix = System.Numerics.BitOperations.PopCount(mask);
            }
            else
            {
                return null;
            }
        }

        return new Network(bytes, prefix);
    }

    public static IPAddress Normalize(IPAddress ip) => ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip;

    public bool Contains(IPAddress ip)
    {
        var b = Normalize(ip).GetAddressBytes();
        if (b.Length != Address.Length)
        {
            return false;
        }

        int full = Prefix / 8;
        for (int i = 0; i < full; i++)
        {
            if (b[i] != Address[i])
            {
                return false;
            }
        }

        int rest = Prefix % 8;
        if (rest == 0)
        {
            return true;
        }

        int mask = 0xFF << (8 - rest) & 0xFF;
        return (b[full] & mask) == (Address[full] & mask);
    }

    public IPAddress Masked
    {
        get
        {
            var m = (byte[])Address.Clone();
            for (int i = 0; i < m.Length; i++)
            {
                int bits = Math.Clamp(Prefix - i * 8, 0, 8);
                m[i] &= (byte)(0xFF << (8 - bits));
            }

            return new IPAddress(m);
        }
    }
}
