using HaLua.DataPlane.Logging;

namespace HaLua.DataPlane.Streams;

/// <summary>The access log of a TCP stream: one line when it ends (HAProxy's tcplog fields).</summary>
internal sealed partial class TcpStream
{
    private StreamLog? _log;

    public StreamLog? Log => _log;

    /// <summary>set-log-level: the level is also what txn:log uses by default (txn:set_loglevel sets the same).</summary>
    private void SetLogLevel(int level)
    {
        if (level >= 0)
        {
            LogLevel = level;
        }

        _log?.SetLevel(level);
    }

    private void LogEnd()
    {
        if (_log is { } l)
        {
            l.Level = LogLevel;
            l.End(this, _backend);
        }
    }
}
