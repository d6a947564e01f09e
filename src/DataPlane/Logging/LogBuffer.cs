using System.Buffers.Text;
using System.Net;
using System.Text;

namespace HaLua.DataPlane.Logging;

/// <summary>
/// A log line being built, as bytes. One buffer per thread is reused (<see cref="Rent"/> /
/// <see cref="Return"/>): a line is formatted and sent synchronously, so nothing is allocated per line.
/// </summary>
internal sealed class LogBuffer
{
    /// <summary>The longest line any target takes (HAProxy's <c>len</c> stops at 65535).</summary>
    public const int MaxLine = 65535;

    [ThreadStatic]
    private static LogBuffer? t_cached;

    private static ReadOnlySpan<byte> Hex => "0123456789ABCDEF"u8;

    private byte[] _data = new byte[2048];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _data.AsSpan(0, Length);

    public static LogBuffer Rent()
    {
        var b = t_cached ?? new LogBuffer();
        t_cached = null;
        b.Length = 0;
        return b;
    }

    public static void Return(LogBuffer b) => t_cached = b;

    public void Clear() => Length = 0;

    public void Truncate(int length) => Length = Math.Min(Length, length);

    public void Append(byte b)
    {
        if (Length == _data.Length && !Grow(1))
        {
            return;
        }

        _data[Length++] = b;
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (Length + bytes.Length > _data.Length && !Grow(bytes.Length))
        {
            bytes = bytes[..(_data.Length - Length)];
        }

        bytes.CopyTo(_data.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Text as Latin-1 bytes (what HTTP strings are), or as UTF-8 when a character does not fit a byte.</summary>
    public void Append(ReadOnlySpan<char> text)
    {
        if (Length + text.Length > _data.Length)
        {
            Grow(text.Length);
        }

        var dest = _data.AsSpan(Length);
        if (text.Length <= dest.Length)
        {
            if (Ascii.FromUtf16(text, dest, out int ascii) == System.Buffers.OperationStatus.Done)
            {
                Length += ascii;
                return;
            }

            // Not all ASCII: narrowed to Latin-1 when every character fits (no Encoding: it allocates here).
            int i = ascii;
            while (i < text.Length && text[i] <= '\u00FF')
            {
                dest[i] = (byte)text[i];
                i++;
            }

            if (i == text.Length)
            {
                Length += i;
                return;
            }
        }

        AppendUtf8(text);
    }

    public void AppendUtf8(ReadOnlySpan<char> text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (Length + max > _data.Length)
        {
            Grow(max);
        }

        var dest = _data.AsSpan(Length);
        if (Encoding.UTF8.GetByteCount(text) <= dest.Length)
        {
            Length += Encoding.UTF8.GetBytes(text, dest);
        }
    }

    public void AppendNumber(long value)
    {
        if (Length + 20 > _data.Length)
        {
            Grow(20);
        }

        if (Utf8Formatter.TryFormat(value, _data.AsSpan(Length), out int written))
        {
            Length += written;
        }
    }

    /// <summary>Upper-case hexadecimal, at least <paramref name="digits"/> digits (HAProxy's <c>%0NX</c>).</summary>
    public void AppendHex(ulong value, int digits)
    {
        int n = Math.Max(digits, (64 - System.Numerics.BitOperations.LeadingZeroCount(value | 1) + 3) / 4);
        for (int i = n - 1; i >= 0; i--)
        {
            Append(Hex[(int)((value >> (i * 4)) & 0xF)]);
        }
    }

    /// <summary>A number on exactly <paramref name="width"/> digits, zeros in front.</summary>
    public void AppendPadded(int value, int width, byte pad = (byte)'0')
    {
        Span<byte> digits = stackalloc byte[10];
        int n = 0;
        do
        {
            digits[n++] = (byte)('0' + value % 10);
            value /= 10;
        }
        while (value > 0 && n < digits.Length);

        for (int i = n; i < width; i++)
        {
            Append(pad);
        }

        while (n > 0)
        {
            Append(digits[--n]);
        }
    }

    /// <summary>An address as text (IPv4-mapped IPv6 shown as IPv4), or its bytes in hexadecimal.</summary>
    public void Append(IPAddress address, bool hex)
    {
        Span<byte> raw = stackalloc byte[16];
        address.TryWriteBytes(raw, out int n);
        raw = raw[..n];
        if (address.IsIPv4MappedToIPv6)
        {
            // Its last four bytes, without allocating the IPv4 address.
            raw = raw[12..];
        }

        if (hex)
        {
            foreach (byte b in raw)
            {
                AppendHex(b, 2);
            }
        }
        else if (raw.Length == 4)
        {
            for (int i = 0; i < 4; i++)
            {
                if (i > 0)
                {
                    Append((byte)'.');
                }

                AppendNumber(raw[i]);
            }
        }
        else
        {
            Span<char> text = stackalloc char[64];
            if (address.TryFormat(text, out int written))
            {
                Append(text[..written]);
            }
        }
    }

    public override string ToString() => Encoding.Latin1.GetString(Written);

    private bool Grow(int needed)
    {
        if (_data.Length >= MaxLine + 64)
        {
            return false;
        }

        int size = Math.Min(MaxLine + 64, Math.Max(_data.Length * 2, Length + needed));
        Array.Resize(ref _data, size);
        return Length + needed <= size;
    }
}
