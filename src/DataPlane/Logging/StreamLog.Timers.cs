using System.Diagnostics;

namespace HaLua.DataPlane.Logging;

/// <summary>HAProxy's timers from the stamps of a transaction.</summary>
internal sealed partial class StreamLog
{
    /// <summary>HAProxy's timers in milliseconds (-1: did not happen), as its log line computes them.</summary>
    public Timers GetTimers()
    {
        long close = Ms(_closeTs != 0 ? _closeTs : Stopwatch.GetTimestamp());
        long idle = IsHttp ? Ms(_firstByteTs) : -1;
        long request = Ms(_requestTs);
        long queue = Ms(_queueTs);
        long connect = Ms(_connectTs);
        long data = Ms(_dataTs);
        return new Timers(idle, request, queue, connect, data, close, IsHttp);
    }

    /// <summary>The request date (%tr): the start plus the idle time.</summary>
    public long RequestUnixMs
    {
        get
        {
            long idle = IsHttp ? Ms(_firstByteTs) : -1;
            return StartUnixMs + Math.Max(0, idle);
        }
    }

    private long Ms(long ts) => ts == 0 ? -1 : ToMs(ts - _startTs);

    private static long ToMs(long ticks) => ticks * 1000 / Stopwatch.Frequency;

    /// <summary>
    /// The event times of a transaction in ms since its start (-1: not reached), and HAProxy's
    /// derived timers. Th is always 0: there is no TLS or PROXY handshake.
    /// </summary>
    internal readonly record struct Timers(long Idle, long Request, long Queue, long Connect, long Data, long Close, bool Http)
    {
        public long Th => 0;

        public long Ti => Idle;

        /// <summary>Th + Ti + TR; -1 without a complete request (always in TCP).</summary>
        public long Tq => Http ? Request : -1;

        public long TR => Tq >= 0 ? Tq - Math.Max(0, Ti) - Th : -1;

        /// <summary>As HAProxy computes it: from Tq, which is -1 in TCP (so a TCP Tw is one more than the wait).</summary>
        public long Tw => Queue >= 0 ? Queue - Tq : -1;

        public long Tc => Connect >= 0 ? Connect - Queue : -1;

        public long Tr => Data >= 0 ? Data - Connect : -1;

        public long Td => Http ? (Data >= 0 ? Close - Data : -1) : (Connect >= 0 ? Close - Connect : -1);

        public long Ta => Close - (Ti >= 0 ? Ti + Th : 0);

        public long Tt => Close;

        public long Tu => Close - Math.Max(0, Ti);
    }
}
