using System.Globalization;
using System.Text;
using HaLua.ControlPlane;
using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Logging;

/// <summary>Syslog severities, HAProxy's names.</summary>
internal static class LogLevels
{
    public static readonly string[] Names = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

    public const int Info = 6;

    public static int Parse(string name) => Array.IndexOf(Names, name);
}

/// <summary>
/// The process's own messages (HAProxy's "[ALERT]    (pid) : ..." lines on stderr, or one JSON
/// object per line with <c>process-log-format json</c>), the admin API's audit lines, and the log
/// targets of <c>global log</c> (stdout, stderr, UDP syslog) used by core.log and txn:log.
/// </summary>
internal sealed class ProcessLog
{
    private static readonly int Pid = Environment.ProcessId;
    private LogTarget[] _targets = [];

    public ProcessLog(bool debug, bool quiet)
    {
        DebugEnabled = debug;
        Quiet = quiet;
    }

    public static ProcessLog Instance { get; set; } = new(debug: false, quiet: false);

    public bool DebugEnabled { get; }

    public bool Quiet { get; }

    /// <summary><c>process-log-format json</c>: stderr lines are JSON objects (<see cref="JsonLine"/>).</summary>
    public bool Json { get; set; }

    public void Configure(IReadOnlyList<LogTargetConfig> targets) => _targets = [.. targets.Select(t => new LogTarget(t))];

    public void Alert(string message) => Emit("ALERT", message);

    public void Warning(string message) => Emit("WARNING", message);

    public void Notice(string message)
    {
        if (!Quiet)
        {
            Emit("NOTICE", message);
        }
    }

    private void Emit(string tag, string message)
    {
        var line = Json ? JsonLine.Write(tag.ToLowerInvariant(), "process", message) : $"{"[" + tag + "]",-11}({Pid}) : {message}";
        WriteStderr(line);
    }

    private static void WriteStderr(string line)
    {
        lock (LogSink.ConsoleLock)
        {
            Console.Error.WriteLine(line);
        }
    }

    /// <summary>
    /// An admin API call that changed something (or was refused): on stderr whatever <c>-q</c> says,
    /// and to the log targets at level notice.
    /// </summary>
    public void Audit(AdminAuditEntry e)
    {
        var text = new StringBuilder("admin: ")
            .Append(CultureInfo.InvariantCulture, $"peer={e.Peer} auth={e.Authentication}");
        if (e.CertificateSubject is { } subject)
        {
            text.Append(CultureInfo.InvariantCulture, $" cert=\"{subject}\"");
        }

        text.Append(CultureInfo.InvariantCulture, $" {e.Method}");
        if (e.Request.Length > 0)
        {
            text.Append(' ').Append(e.Request);
        }

        text.Append(" -> ").Append(e.Code);
        if (e.Detail is { } detail)
        {
            text.Append(CultureInfo.InvariantCulture, $" ({detail})");
        }

        string message = text.ToString();
        WriteStderr(Json ? JsonLine.Audit(e, message) : $"{"[NOTICE]",-11}({Pid}) : {message}");
        Send(5, message);
    }

    /// <summary>A Lua log (core.log): to the global log targets, and to stderr in the foreground as HAProxy does.</summary>
    public void Lua(int level, string message) => Lua(level, message, _targets);

    /// <summary>A Lua log of a stream (txn:log): to its proxy's log targets, and to stderr in the foreground as HAProxy does.</summary>
    public void Lua(int level, string message, LogTarget[] targets, string? proxyName = null)
    {
        level = Math.Clamp(level, 0, 7);

        // The targets get every level (their own minimum applies); stderr shows debug only with -d.
        var now = DateTime.Now;
        if (!Quiet && (level < 7 || DebugEnabled))
        {
            WriteStderr(Json
                ? JsonLine.Write(LogLevels.Names[level], "lua", message, proxyName)
                : string.Create(CultureInfo.InvariantCulture, $"[{LogLevels.Names[level]}] {now.DayOfYear - 1:000}/{now:HHmmss} ({Pid}) : {message}"));
        }

        Send(targets, level, message, null);
    }

    /// <summary>Sends a message to every configured target whose level allows it.</summary>
    public void Send(int level, string message, string? tag = null) => Send(_targets, level, message, tag);

    private static void Send(LogTarget[] targets, int level, string message, string? tag)
    {
        if (!LogSink.AnyAccepts(targets, level))
        {
            return;
        }

        var buffer = LogBuffer.Rent();
        try
        {
            buffer.AppendUtf8(message);
            LogSink.Send(targets, level, buffer.Written, Encoding.UTF8.GetBytes(tag ?? "haproxy"));
        }
        finally
        {
            LogBuffer.Return(buffer);
        }
    }

    /// <summary>One line for a target: its format, its minimum level (which caps the severity, as HAProxy keeps "emerg" off every terminal) and its length limit.</summary>
    internal static string Render(LogTargetConfig t, int level, string message, string tag)
    {
        var line = new LogBuffer();
        var body = new LogBuffer();
        body.AppendUtf8(message);
        LogSink.Frame(line, new LogTarget(t), level, body.Written, Encoding.UTF8.GetBytes(tag));
        return Encoding.UTF8.GetString(line.Written);
    }

    private static readonly string[] Facilities =
    [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];

    public static int FacilityCode(string name) => Math.Max(0, Array.IndexOf(Facilities, name));

    public static bool IsFacility(string name) => Array.IndexOf(Facilities, name) >= 0;
}
