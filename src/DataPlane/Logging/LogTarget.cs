using System.Net;
using System.Net.Sockets;
using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Logging;

/// <summary>HAProxy's log line formats (the <c>format</c> option of a <c>log</c> line).</summary>
internal enum SyslogFormat { Rfc3164, Local, Rfc5424, Raw, Short, Priority, Iso, Timed }

/// <summary>A <c>log</c> line ready to send to: its levels and format resolved, its address serialized once.</summary>
internal sealed class LogTarget
{
    public LogTarget(LogTargetConfig config)
    {
        Config = config;
        Facility = ProcessLog.FacilityCode(config.Facility);
        MaxLevel = config.MaxLevel is { } max && LogLevels.Parse(max) is >= 0 and var m ? m : 7;
        MinLevel = config.MinLevel is { } min && LogLevels.Parse(min) is >= 0 and var f ? f : 0;
        Format = config.Format switch
        {
            "raw" => SyslogFormat.Raw,
            "short" => SyslogFormat.Short,
            "priority" => SyslogFormat.Priority,
            "iso" => SyslogFormat.Iso,
            "timed" => SyslogFormat.Timed,
            "rfc5424" => SyslogFormat.Rfc5424,
            "local" => SyslogFormat.Local,
            _ => SyslogFormat.Rfc3164,
        };
    }

    public LogTargetConfig Config { get; }

    public LogTargetKind Kind => Config.Kind;

    public int Facility { get; }

    /// <summary>The least severe level sent (a higher number is dropped).</summary>
    public int MaxLevel { get; }

    /// <summary>More severe levels are sent with this one.</summary>
    public int MinLevel { get; }

    public SyslogFormat Format { get; }

    public int MaxLength => Config.MaxLength;

    /// <summary>
    /// Sends one datagram, without blocking: a full socket buffer or an unreachable port drops the
    /// line (false), as HAProxy drops it. The socket is connected to the target, so that a send
    /// allocates nothing.
    /// </summary>
    public bool SendDatagram(ReadOnlySpan<byte> packet)
    {
        var socket = _socket ?? Connect();
        if (socket is null)
        {
            return false;
        }

        try
        {
            socket.Send(packet, SocketFlags.None, out var error);
            return error == SocketError.Success;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    private Socket? _socket;

    private Socket? Connect()
    {
        if (Config.Address is not IPEndPoint ep)
        {
            return null;
        }

        var socket = new Socket(ep.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { Blocking = false };
        try
        {
            socket.Connect(ep);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }

        return Interlocked.CompareExchange(ref _socket, socket, null) is { } other ? Discard(socket, other) : socket;
    }

    private static Socket Discard(Socket mine, Socket theirs)
    {
        mine.Dispose();
        return theirs;
    }
}
