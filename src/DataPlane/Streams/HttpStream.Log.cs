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

    private void LogFailure(Exception ex)
    {
        if (_log is { InTransaction: true } l)
        {
            l.Failed(ex, _stopping.IsCancellationRequested, _idle?.ExpiredSide ?? '\0');
            LogEnd();
        }
    }

    /// <summary>The transaction is over: its line.</summary>
    private void LogEnd()
    {
        if (_log is { InTransaction: true } l)
        {
            l.End(this, _backend);
        }
    }
}
