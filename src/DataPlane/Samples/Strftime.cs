using System.Globalization;
using System.Text;

namespace HaLua.DataPlane.Samples;

/// <summary>
/// C's strftime in the "C" locale (what HAProxy's ltime and utime converters call): every
/// conversion glibc documents, English names, an unknown conversion written as is.
/// </summary>
internal static class Strftime
{
    private static readonly string[] Days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
    private static readonly string[] Months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    /// <summary>Formats <paramref name="t"/> (a local time at <paramref name="offset"/> from UTC, named <paramref name="zone"/>).</summary>
    public static string Format(string format, DateTime t, TimeSpan offset, string zone, long epochSeconds)
    {
        var sb = new StringBuilder(format.Length + 16);
        Append(sb, format, t, offset, zone, epochSeconds);
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, string format, DateTime t, TimeSpan offset, string zone, long epoch)
    {
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length)
            {
                sb.Append(c);
                continue;
            }

            char f = format[++i];
            int hour12 = t.Hour % 12 == 0 ? 12 : t.Hour % 12;
            switch (f)
            {
                case 'a': sb.Append(Days[(int)t.DayOfWeek], 0, 3); break;
                case 'A': sb.Append(Days[(int)t.DayOfWeek]); break;
                case 'b' or 'h': sb.Append(Months[t.Month - 1], 0, 3); break;
                case 'B': sb.Append(Months[t.Month - 1]); break;
                case 'c': Append(sb, "%a %b %e %H:%M:%S %Y", t, offset, zone, epoch); break;
                case 'C': sb.Append((t.Year / 100).ToString("00", inv)); break;
                case 'd': sb.Append(t.Day.ToString("00", inv)); break;
                case 'D' or 'x': Append(sb, "%m/%d/%y", t, offset, zone, epoch); break;
                case 'e': sb.Append(t.Day.ToString(inv).PadLeft(2)); break;
                case 'F': Append(sb, "%Y-%m-%d", t, offset, zone, epoch); break;
                case 'g': sb.Append((ISOWeek.GetYear(t) % 100).ToString("00", inv)); break;
                case 'G': sb.Append(ISOWeek.GetYear(t).ToString(inv)); break;
                case 'H': sb.Append(t.Hour.ToString("00", inv)); break;
                case 'I': sb.Append(hour12.ToString("00", inv)); break;
                case 'j': sb.Append(t.DayOfYear.ToString("000", inv)); break;
                case 'k': sb.Append(t.Hour.ToString(inv).PadLeft(2)); break;
                case 'l': sb.Append(hour12.ToString(inv).PadLeft(2)); break;
                case 'm': sb.Append(t.Month.ToString("00", inv)); break;
                case 'M': sb.Append(t.Minute.ToString("00", inv)); break;
                case 'n': sb.Append('\n'); break;
                case 'p': sb.Append(t.Hour < 12 ? "AM" : "PM"); break;
                case 'P': sb.Append(t.Hour < 12 ? "am" : "pm"); break;
                case 'r': Append(sb, "%I:%M:%S %p", t, offset, zone, epoch); break;
                case 'R': Append(sb, "%H:%M", t, offset, zone, epoch); break;
                case 's': sb.Append(epoch.ToString(inv)); break;
                case 'S': sb.Append(t.Second.ToString("00", inv)); break;
                case 't': sb.Append('\t'); break;
                case 'T' or 'X': Append(sb, "%H:%M:%S", t, offset, zone, epoch); break;
                case 'u': sb.Append(t.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)t.DayOfWeek); break;
                case 'U': sb.Append(((t.DayOfYear + 6 - (int)t.DayOfWeek) / 7).ToString("00", inv)); break;
                case 'V': sb.Append(ISOWeek.GetWeekOfYear(t).ToString("00", inv)); break;
                case 'w': sb.Append((int)t.DayOfWeek); break;
                case 'W': sb.Append(((t.DayOfYear + 6 - ((int)t.DayOfWeek + 6) % 7) / 7).ToString("00", inv)); break;
                case 'y': sb.Append((t.Year % 100).ToString("00", inv)); break;
                case 'Y': sb.Append(t.Year.ToString(inv)); break;
                case 'z':
                    sb.Append(offset < TimeSpan.Zero ? '-' : '+').Append(Math.Abs(offset.Hours).ToString("00", inv)).Append(Math.Abs(offset.Minutes).ToString("00", inv));
                    break;
                case 'Z': sb.Append(zone); break;
                case '%': sb.Append('%'); break;
                default: sb.Append('%').Append(f); break;
            }
        }
    }
}
