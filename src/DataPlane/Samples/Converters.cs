using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace HaLua.DataPlane.Samples;

/// <summary>
/// More of HAProxy's converters: encodings (base64, b64dec, hex, url_dec, json), hashes (crc32,
/// djb2, sdbm, wt6, each with HAProxy's optional avalanche), bytes, field, word, regsub, and the
/// integer arithmetic (add, sub, mul, div, mod, with HAProxy's results for a zero divisor).
/// Strings are byte strings (Latin-1 in .NET strings), as in HAProxy.
/// </summary>
internal static class MoreConverters
{
    public static void Register(SampleRegistry r)
    {
        r.Add(new ConverterDescriptor("base64", 0, 0, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Str(ref v, Convert.ToBase64String(Bytes(v)))));
        r.Add(new ConverterDescriptor("b64dec", 0, 0, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) =>
        {
            try
            {
                return Str(ref v, Encoding.Latin1.GetString(Convert.FromBase64String(v.AsString)));
            }
            catch (FormatException)
            {
                return false;
            }
        }));
        r.Add(new ConverterDescriptor("hex", 0, 0, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Str(ref v, Convert.ToHexString(Bytes(v)))));
        r.Add(new ConverterDescriptor("url_dec", 0, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => UrlDecode(ref v, a.Count > 0 && a[0] == "1")));
        r.Add(new ConverterDescriptor("json", 0, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Str(ref v, Json(v.AsString))));
        r.Add(new ConverterDescriptor("crc32", 0, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Hash(ref v, a, Crc32(Bytes(v))), SampleType.Int));
        r.Add(new ConverterDescriptor("djb2", 0, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Hash(ref v, a, Djb2(Bytes(v))), SampleType.Int));
        r.Add(new ConverterDescriptor("sdbm", 0, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Hash(ref v, a, Sdbm(Bytes(v))), SampleType.Int));
        r.Add(new ConverterDescriptor("wt6", 0, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Hash(ref v, a, Wt6(Bytes(v))), SampleType.Int));
        r.Add(new ConverterDescriptor("bytes", 1, 2, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) =>
        {
            string s = v.AsString;
            if (!int.TryParse(a[0], CultureInfo.InvariantCulture, out int off) || off < 0 || off > s.Length)
            {
                return false;
            }

            int len = s.Length - off;
            if (a.Count > 1 && (!int.TryParse(a[1], CultureInfo.InvariantCulture, out len) || len < 0))
            {
                return false;
            }

            return Str(ref v, s.Substring(off, Math.Min(len, s.Length - off)));
        }));
        r.Add(new ConverterDescriptor("field", 2, 3, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Field(ref v, a, collapse: false)));
        r.Add(new ConverterDescriptor("word", 2, 3, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Field(ref v, a, collapse: true)));
        r.Add(new ConverterDescriptor("regsub", 2, 3, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) =>
        {
            string flags = a.Count > 2 ? a[2] : "";
            var options = RegexOptions.CultureInvariant | (flags.Contains('i', StringComparison.Ordinal) ? RegexOptions.IgnoreCase : RegexOptions.None);
            Regex re;
            try
            {
                re = new Regex(a[0], options, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException)
            {
                return false;
            }

            // HAProxy's \1..\9 back-references become .NET's $1..$9.
            string replacement = Regex.Replace(a[1].Replace("$", "$$", StringComparison.Ordinal), @"\\([0-9])", "$${$1}");
            return Str(ref v, re.Replace(v.AsString, replacement, flags.Contains('g', StringComparison.Ordinal) ? -1 : 1));
        }));
        r.Add(new ConverterDescriptor("add", 1, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Arith(c, ref v, a[0], (x, y) => x + y), SampleType.Int));
        r.Add(new ConverterDescriptor("sub", 1, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Arith(c, ref v, a[0], (x, y) => x - y), SampleType.Int));
        r.Add(new ConverterDescriptor("mul", 1, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Arith(c, ref v, a[0], (x, y) => x * y), SampleType.Int));
        r.Add(new ConverterDescriptor("div", 1, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Arith(c, ref v, a[0], (x, y) => y == 0 ? long.MaxValue : x / y), SampleType.Int));
        r.Add(new ConverterDescriptor("mod", 1, 1, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Arith(c, ref v, a[0], (x, y) => y == 0 ? 0 : x % y), SampleType.Int));
    }

    private static byte[] Bytes(Sample v) => Encoding.Latin1.GetBytes(v.AsString);

    private static bool Str(ref Sample v, string s)
    {
        v = Sample.FromString(s);
        return true;
    }

    /// <summary>A hash as HAProxy returns it; with a non-zero argument, mixed by HAProxy's full_hash (avalanche).</summary>
    private static bool Hash(ref Sample v, IReadOnlyList<string> a, uint hash)
    {
        if (a.Count > 0 && a[0] != "0")
        {
            hash = FullHash(hash);
        }

        v = Sample.FromInt(hash);
        return true;
    }

    public static uint FullHash(uint a)
    {
        a = (a + 0x7ed55d16) + (a << 12);
        a = (a ^ 0xc761c23c) ^ (a >> 19);
        a = (a + 0x165667b1) + (a << 5);
        a = (a + 0xd3a2646c) ^ (a << 9);
        a = (a + 0xfd7046c5) + (a << 3);
        a = (a ^ 0xb55a4f09) ^ (a >> 16);

        // HAProxy spreads the result further with a large prime close to 3/4 of 2^32.
        return unchecked(a * 3221225473U);
    }

    private static readonly uint[] CrcTable = MakeCrcTable();

    private static uint[] MakeCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
            }

            t[n] = c;
        }

        return t;
    }

    /// <summary>CRC-32 (IEEE 802.3), as HAProxy's hash_crc32.</summary>
    public static uint Crc32(ReadOnlySpan<byte> key)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in key)
        {
            c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return ~c;
    }

    public static uint Djb2(ReadOnlySpan<byte> key)
    {
        uint hash = 5381;
        foreach (byte b in key)
        {
            hash = (hash << 5) + hash + b;
        }

        return hash;
    }

    public static uint Sdbm(ReadOnlySpan<byte> key)
    {
        uint hash = 0;
        foreach (byte b in key)
        {
            hash = b + (hash << 6) + (hash << 16) - hash;
        }

        return hash;
    }

    public static uint Wt6(ReadOnlySpan<byte> key)
    {
        uint h0 = 0xa53c965a, h1 = 0x5ca6953a;
        int step0 = 6, step1 = 18;
        foreach (byte b in key)
        {
            uint t = b;
            h0 = ~(h0 ^ t);
            h1 = ~(h1 + t);
            t = (h1 << step0) | (h1 >> (32 - step0));
            h1 = (h0 << step1) | (h0 >> (32 - step1));
            h0 = t;
            t = ((h0 >> 16) ^ h1) & 0xffff;
            step0 = (int)(t & 0x1F);
            step1 = (int)(t >> 11);
        }

        return h0 ^ h1;
    }

    private static bool UrlDecode(ref Sample v, bool form)
    {
        string s = v.AsString;
        var output = new List<byte>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char ch = s[i];
            if (ch == '%')
            {
                if (i + 2 >= s.Length || !byte.TryParse(s.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out byte b))
                {
                    return false;
                }

                output.Add(b);
                i += 2;
            }
            else
            {
                output.Add(form && ch == '+' ? (byte)' ' : (byte)ch);
            }
        }

        return Str(ref v, Encoding.Latin1.GetString([.. output]));
    }

    private static string Json(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        foreach (char ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (ch < 0x20 || ch > 0x7e)
                    {
                        sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(ch);
                    }

                    break;
            }
        }

        return sb.ToString();
    }

    /// <summary>field/word(index, delimiters[, count]): 1-based, negative from the end; word collapses repeated delimiters.</summary>
    private static bool Field(ref Sample v, IReadOnlyList<string> a, bool collapse)
    {
        if (!int.TryParse(a[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int index) || index == 0)
        {
            return false;
        }

        int count = 1;
        if (a.Count > 2 && (!int.TryParse(a[2], CultureInfo.InvariantCulture, out count) || count < 0))
        {
            return false;
        }

        var parts = v.AsString.Split(a[1].ToCharArray());
        if (collapse)
        {
            parts = [.. parts.Where(p => p.Length > 0)];
        }

        int start = index > 0 ? index - 1 : parts.Length + index;
        if (start < 0 || start >= parts.Length)
        {
            return Str(ref v, "");
        }

        int take = count == 0 ? parts.Length - start : Math.Min(count, parts.Length - start);
        if (index < 0 && count > 0)
        {
            // Counting from the end takes fields towards the start.
            int first = Math.Max(0, start - count + 1);
            return Str(ref v, string.Join(a[1][0], parts[first..(start + 1)]));
        }

        return Str(ref v, string.Join(a[1][0], parts.Skip(start).Take(take)));
    }

    /// <summary>Integer arithmetic with a constant or a variable (HAProxy: the argument may name a variable).</summary>
    private static bool Arith(ISampleContext c, ref Sample v, string arg, Func<long, long, long> op)
    {
        if (!v.TryAsInt(out long x))
        {
            return false;
        }

        long y;
        if (Variables.TryParse(arg, out var scope, out var name))
        {
            if (!c.Variables.TryGet(scope, name, out var var) || !var.TryAsInt(out y))
            {
                return false;
            }
        }
        else if (!long.TryParse(arg, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out y))
        {
            return false;
        }

        v = Sample.FromInt(op(x, y));
        return true;
    }
}
