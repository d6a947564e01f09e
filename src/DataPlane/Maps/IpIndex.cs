using System.Buffers.Binary;
using System.Numerics;
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

    internal override void Add(PatternEntry entry) => Apply(entry, add: true);

    internal override void Remove(PatternEntry entry) => Apply(entry, add: false);

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

        Span<byte> bytes = stackalloc byte[16];
        if (!Network.Normalize(ip).TryWriteBytes(bytes, out int n))
        {
            return null;
        }

        return n == 4
            ? _v4.Find(BinaryPrimitives.ReadUInt32BigEndian(bytes), ref work)
            : _v6.Find(BinaryPrimitives.ReadUInt128BigEndian(bytes), ref work);
    }

    private void Apply(PatternEntry entry, bool add)
    {
        var net = Network.Parse(entry.Key) ?? throw new FormatException($"'{entry.Key}' is not a valid IPv4 or IPv6 address");
        if (net.Address.Length == 4)
        {
            _v4.Apply(BinaryPrimitives.ReadUInt32BigEndian(net.Address), net.Prefix, entry, add);
        }
        else
        {
            _v6.Apply(BinaryPrimitives.ReadUInt128BigEndian(net.Address), net.Prefix, entry, add);
        }
    }

    /// <summary>One hash table per prefix length (keyed by the masked address), and the lengths in use, longest first.</summary>
    private sealed class PrefixTables<T>(int bits)
        where T : IBinaryInteger<T>, IUnsignedNumber<T>
    {
        private readonly Dictionary<T, List<PatternEntry>>?[] _tables = new Dictionary<T, List<PatternEntry>>?[bits + 1];

        public List<int> Lengths { get; } = [];

        public void Apply(T address, int len, PatternEntry entry, bool add)
        {
            T key = Mask(address, len);
            var table = _tables[len];
            if (add)
            {
                if (table is null)
                {
                    _tables[len] = table = [];
                    int at = Lengths.FindIndex(l => l < len);
                    Lengths.Insert(at < 0 ? Lengths.Count : at, len);
                }

                AddTo(table, key, entry);
            }
            else if (table is not null)
            {
                RemoveFrom(table, key, entry);
                if (table.Count == 0)
                {
                    _tables[len] = null;
                    Lengths.Remove(len);
                }
            }
        }

        public PatternEntry? Find(T address, ref int work)
        {
            foreach (int len in Lengths)
            {
                work++;
                if (_tables[len]!.TryGetValue(Mask(address, len), out var list))
                {
                    return list[0];
                }
            }

            return null;
        }

        public void Clear()
        {
            Array.Clear(_tables);
            Lengths.Clear();
        }

        private T Mask(T address, int len) => len == 0 ? T.Zero : address & (T.AllBitsSet << (bits - len));
    }
}
