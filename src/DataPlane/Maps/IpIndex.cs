using System.Buffers.Binary;
using System.Net;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Maps;

/// <summary>
/// <c>ip</c>: longest-prefix match. Networks are hashed by prefix length (one table per length
/// in use, IPv4 and IPv6 apart); a lookup masks the address for each length in use, longest
/// first, and stops at the first hit: at most 33 (IPv4) or 129 (IPv6) hash lookups, whatever the
/// number of networks. The same network twice answers with the first, as HAProxy's tree.
/// IPv4-mapped IPv6 addresses count as IPv4, in keys and samples.
/// </summary>
internal sealed class IpIndex(PatternReference owner) : PatternIndex(owner, MatchMethod.Ip, ignoreCase: false)
{
    private readonly PrefixTables<uint> _v4 = new(32);
    private readonly PrefixTables<UInt128> _v6 = new(128);

    /// <summary>The prefix lengths in use (tests check the structure).</summary>
    internal int PrefixLengths => _v4.Lengths.Count + _v6.Lengths.Count;

    internal override void Add(PatternEntry entry)
    {
        var net = Parse(entry.Key);
        if (net.Address.Length == 4)
        {
            _v4.Add(Mask(V4(net.Address), net.Prefix), net.Prefix, entry);
        }
        else
        {
            _v6.Add(Mask(V6(net.Address), net.Prefix), net.Prefix, entry);
        }
    }

    internal override void Remove(PatternEntry entry)
    {
        var net = Parse(entry.Key);
        if (net.Address.Length == 4)
        {
            _v4.Remove(Mask(V4(net.Address), net.Prefix), net.Prefix, entry);
        }
        else
        {
            _v6.Remove(Mask(V6(net.Address), net.Prefix), net.Prefix, entry);
        }
    }

    internal override void Clear()
    {
        _v4.Clear();
        _v6.Clear();
    }

    internal override PatternEntry? Find(in Sample sample, ref int work)
    {
        if (!sample.TryAsIp(out var ip) || ip is null)
        {
            return null;
        }

        ip = Network.Normalize(ip);
        Span<byte> bytes = stackalloc byte[16];
        if (!ip.TryWriteBytes(bytes, out int n))
        {
            return null;
        }

        if (n == 4)
        {
            uint a = V4(bytes[..4]);
            foreach (int len in _v4.Lengths)
            {
                work++;
                if (_v4.Tables[len]!.TryGetValue(Mask(a, len), out var list))
                {
                    return list[0];
                }
            }

            return null;
        }

        UInt128 a6 = V6(bytes[..16]);
        foreach (int len in _v6.Lengths)
        {
            work++;
            if (_v6.Tables[len]!.TryGetValue(Mask(a6, len), out var list))
            {
                return list[0];
            }
        }

        return null;
    }

    private static Network Parse(string key)
        => Network.Parse(key) ?? throw new FormatException($"'{key}' is not a valid IPv4 or IPv6 address");

    private static uint V4(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt32BigEndian(b);

    private static UInt128 V6(ReadOnlySpan<byte> b) => BinaryPrimitives.ReadUInt128BigEndian(b);

    private static uint Mask(uint a, int len) => len == 0 ? 0 : a & (uint.MaxValue << (32 - len));

    private static UInt128 Mask(UInt128 a, int len) => len == 0 ? 0 : a & (UInt128.MaxValue << (128 - len));

    /// <summary>One hash table per prefix length, and the lengths in use, longest first.</summary>
    private sealed class PrefixTables<T>(int bits)
        where T : notnull
    {
        public Dictionary<T, List<PatternEntry>>?[] Tables { get; } = new Dictionary<T, List<PatternEntry>>?[bits + 1];

        public List<int> Lengths { get; } = [];

        public void Add(T key, int len, PatternEntry entry)
        {
            if (Tables[len] is not { } table)
            {
                Tables[len] = table = [];
                int at = Lengths.FindIndex(l => l < len);
                Lengths.Insert(at < 0 ? Lengths.Count : at, len);
            }

            AddTo(table, key, entry);
        }

        public void Remove(T key, int len, PatternEntry entry)
        {
            if (Tables[len] is { } table)
            {
                RemoveFrom(table, key, entry);
                if (table.Count == 0)
                {
                    Tables[len] = null;
                    Lengths.Remove(len);
                }
            }
        }

        public void Clear()
        {
            Array.Clear(Tables);
            Lengths.Clear();
        }
    }
}
