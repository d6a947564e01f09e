using HaLua.DataPlane.Http;
using HaLua.DataPlane.Logging;

namespace HaLua.DataPlane.Streams;

/// <summary>
/// The access log of an HTTP connection: one line per transaction when it ends, including the
/// errors HaLua answers itself. The request loop calls these at a few points; all of them do
/// nothing when the frontend keeps no <see cref="StreamLog"/>.
/// </summary>
internal sealed partial class HttpStream
{
    private StreamLog? _log;

    public StreamLog? Log => _log;

    private void LogRequestHead(HttpBuffer req)
    {
        if (_log is { } l)
        {
            var bytes = req.Unread;
            l.RequestHead(bytes[_request.Method], bytes[_request.Target], _request.Version);
        }
    }

    /// <summary>
    /// The connection ends without a complete request (bad head, timeout, client gone). As HAProxy
    /// does, this is logged for the connection's first request or a started one; a kept-alive
    /// connection that closes while idle logs nothing.
    /// </summary>
    private void LogNoRequest(bool first, int status, char cause)
    {
        if (_log is not { } l)
        {
            return;
        }

        if (first || l.BytesIn > 0)
        {
            l.Status = status;
            l.Terminate(cause, 'R');
            LogEnd();
        }
        else
        {
            l.Finish();
        }
    }

    /// <summary>option http-buffer-request gave up on the body: 408 (timeout), 400 (bad body) or the client left.</summary>
    private void LogBufferingFailed()
    {
        if (_log is { } l)
        {
            l.Terminate(l.Status == 408 ? 'c' : l.Status == 400 ? 'P' : 'C', 'R');
            LogEnd();
        }
    }

    private void LogFailure(Exception ex)
    {
        if (_log is { InTransaction: true } l)
        {
            l.Failed(ex, _stopping.IsCancellationRequested || _idle?.Killed == true, _idle?.ExpiredSide ?? '\0');
            LogEnd();
        }
    }

    /// <summary>set-log-level: also the level txn:log uses by default, as txn:set_loglevel sets both.</summary>
    private void SetLogLevel(int level)
    {
        LogLevel = Math.Max(level, -1);
        _log?.SetLevel(level);
    }

    /// <summary>The transaction is over: its line, at the level a rule or txn:set_loglevel chose; the next one starts at the default.</summary>
    private void LogEnd()
    {
        if (_log is { InTransaction: true } l)
        {
            if (LogLevel >= 0)
            {
                l.Level = LogLevel;
            }

            l.End(this, _backend);
        }

        LogLevel = -1;
    }
}
