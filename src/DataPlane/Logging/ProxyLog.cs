using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Logging;

/// <summary>
/// The access log of a frontend: its targets (<c>log</c> lines, <c>log global</c>), its format
/// (<c>log-format</c>, <c>option httplog</c>, <c>option tcplog</c>) and <c>option dontlognull</c>.
/// Exists only for a frontend with at least one target: a frontend without one pays nothing.
/// </summary>
internal sealed class ProxyLog
{
    private static readonly byte[] Tag = "haproxy"u8.ToArray();
    private long _count;

    /// <param name="format">Null: HAProxy's legacy format, one "Connect from" line when a connection is accepted.</param>
    public ProxyLog(LogTarget[] targets, LogFormat? format, bool dontLogNull, bool http)
    {
        Targets = targets;
        Format = format;
        DontLogNull = dontLogNull;
        Http = http;
    }

    public LogTarget[] Targets { get; }

    public LogFormat? Format { get; }

    public bool DontLogNull { get; }

    public bool Http { get; }

    /// <summary>Lines written so far (%lc).</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>A connection was accepted: the legacy line when there is no format.</summary>
    public void Accepted(ISampleContext ctx)
    {
        if (Format is not null || !LogSink.AnyAccepts(Targets, LogLevels.Info))
        {
            return;
        }

        var b = LogBuffer.Rent();
        try
        {
            b.Append("Connect from "u8);
            AppendEndpoint(b, ctx.Source);
            b.Append(" to "u8);
            AppendEndpoint(b, ctx.Destination);
            b.Append(" ("u8);
            b.Append(ctx.FrontendName);
            b.Append(Http ? "/HTTP)"u8 : "/TCP)"u8);
            LogSink.Send(Targets, LogLevels.Info, b.Written, Tag);
        }
        finally
        {
            LogBuffer.Return(b);
        }
    }

    /// <summary>The line of a finished transaction, unless silenced (set-log-level silent, dontlognull).</summary>
    public void Emit(ISampleContext ctx, StreamLog log)
    {
        if (Format is null || log.Silent || (DontLogNull && log.BytesIn == 0))
        {
            return;
        }

        int level = log.Level >= 0 ? log.Level : LogLevels.Info;
        if (!LogSink.AnyAccepts(Targets, level))
        {
            return;
        }

        var b = LogBuffer.Rent();
        try
        {
            Format.Write(b, ctx, log);
            LogSink.Send(Targets, level, b.Written, Tag);
        }
        finally
        {
            LogBuffer.Return(b);
        }

        Interlocked.Increment(ref _count);
    }

    private static void AppendEndpoint(LogBuffer b, System.Net.IPEndPoint? ep)
    {
        if (ep is null)
        {
            b.Append((byte)'-');
            return;
        }

        b.Append(ep.Address, hex: false);
        b.Append((byte)':');
        b.AppendNumber(ep.Port);
    }
}
