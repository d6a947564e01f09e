using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Logging;

/// <summary>Syslog severities, HAProxy's names.</summary>
internal static class LogLevels
{
    public static readonly string[] Names = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

    public static int Parse(string name) => Array.IndexOf(Names, name);
}

/// <summary>
/// The process's own messages (HAProxy's "[ALERT]    (pid) : ..." lines on stderr) and the log
/// targets of <c>global log</c> (stdout, stderr, UDP syslog) used by core.log and txn:log.
/// </summary>
internal sealed class ProcessLog : IDisposable
{
    private static readonly int Pid = Environment.ProcessId;
    private readonly Lock _stderrLock = new();
    private readonly Socket? _udp;
    private ImmutableTargets _targets = new([]);

    public ProcessLog(bool debug, bool quiet)
    {
        DebugEnabled = debug;
        Quiet = quiet;
        _udp = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
    }

    public static ProcessLog Instance { get; set; } = new(debug: false, quiet: false);

    public bool DebugEnabled { get; }

    public bool Quiet { get; }

    private sealed record ImmutableTargets(IReadOnlyList<LogTargetConfig> Targets);

    public void Configure(IReadOnlyList<LogTargetConfig> targets) => _targets = new ImmutableTargets(targets);

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
        var line = $"{"[" + tag + "]",-11}({Pid}) : {message}";
        lock (_stderrLock)
        {
            Console.Error.WriteLine(line);
        }
    }

    /// <summary>A Lua log (core.log, txn:log): to the log targets, and to stderr in the foreground as HAProxy does.</summary>
    public void Lua(int level, string message, string? proxyName = null)
    {
        level = Math.Clamp(level, 0, 7);
        if (level == 7 && !DebugEnabled)
        {
            return;
        }

        var now = DateTime.Now;
        if (!Quiet)
        {
            var line = string.Create(CultureInfo.InvariantCulture, $"[{LogLevels.Names[level]}] {now.DayOfYear - 1:000}/{now:HHmmss} ({Pid}) : {message}");
            lock (_stderrLock)
            {
                Console.Error.WriteLine(line);
            }
        }

        Send(level, message, proxyName);
    }

    /// <summary>Sends a message to every configured target whose level allows it.</summary>
    public void Send(int level, string message, string? tag = null)
    {
        foreach (var t in _targets.Targets)
        {
            if (t.MaxLevel is { } max && LogLevels.Parse(max) is >= 0 and var m && level > m)
            {
                continue;
            }

            string formatted = Render(t, level, message, tag ?? "haproxy");

            switch (t.Kind)
            {
                case LogTargetKind.Stdout:
                    lock (_stderrLock)
                    {
                        Console.Out.WriteLine(formatted);
                        Console.Out.Flush();
                    }

                    break;
                case LogTargetKind.Stderr:
                    lock (_stderrLock)
                    {
                        Console.Error.WriteLine(formatted);
                    }

                    break;
                case LogTargetKind.Udp when t.Address is { } ep:
                    try
                    {
                        _udp?.SendTo(Encoding.UTF8.GetBytes(formatted), ep is IPEndPoint ip && ip.AddressFamily == AddressFamily.InterNetwork ? new IPEndPoint(ip.Address.MapToIPv6(), ip.Port) : ep);
                    }
                    catch (SocketException)
                    {
                        // syslog over UDP is best effort, as in HAProxy
                    }

                    break;
            }
        }
    }

    /// <summary>One line for a target: its format, its minimum level (which caps the severity, as HAProxy keeps "emerg" off every terminal) and its length limit.</summary>
    internal static string Render(LogTargetConfig t, int level, string message, string tag)
    {
        int sent = t.MinLevel is { } min && LogLevels.Parse(min) is >= 0 and var floor && level < floor ? floor : level;
        string formatted = Format(t, sent, message, tag);
        return formatted.Length > t.MaxLength ? formatted[..t.MaxLength] : formatted;
    }

    private static string Format(LogTargetConfig t, int level, string message, string tag)
    {
        int facility = FacilityCode(t.Facility);
        int pri = facility * 8 + level;
        var now = DateTime.Now;
        return t.Format switch
        {
            "raw" => message,
            "short" => $"<{level}>{message}",
            "priority" => $"<{pri}>{message}",
            "iso" => string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.Now:yyyy-MM-ddTHH:mm:ss.ffffffzzz} {message}"),
            "timed" => string.Create(CultureInfo.InvariantCulture, $"<{level}>{DateTimeOffset.Now:yyyy-MM-ddTHH:mm:ss.ffffffzzz} {message}"),
            "rfc5424" => string.Create(CultureInfo.InvariantCulture, $"<{pri}>1 {DateTimeOffset.Now:yyyy-MM-ddTHH:mm:ss.ffffffzzz} {Environment.MachineName} {tag} {Pid} - - {message}"),
            // rfc3164 and local: HAProxy sends no host name in either by default.
            _ => string.Create(CultureInfo.InvariantCulture, $"<{pri}>{now:MMM} {now.Day,2} {now:HH:mm:ss} {tag}[{Pid}]: {message}"),
        };
    }

    private static readonly string[] Facilities =
    [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp", "ntp", "audit", "alert", "cron2",
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];

    public static int FacilityCode(string name) => Math.Max(0, Array.IndexOf(Facilities, name));

    public static bool IsFacility(string name) => Array.IndexOf(Facilities, name) >= 0;

    public void Dispose() => _udp?.Dispose();
}
