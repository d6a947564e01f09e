using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using HaLua.ControlPlane;

namespace HaLua.DataPlane.Logging;

/// <summary>
/// The process's stderr lines as JSON objects (<c>process-log-format json</c>), one per line:
/// <c>time</c> (UTC, ISO 8601), <c>pid</c>, <c>level</c> (syslog's names), <c>source</c>
/// (<c>process</c>, <c>lua</c>, <c>admin</c>), <c>message</c>, and per source more fields.
/// </summary>
internal static class JsonLine
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly int Pid = Environment.ProcessId;

    public static string Write(string level, string source, string message, string? proxy = null)
        => Build(level, source, message, w =>
        {
            if (proxy is not null)
            {
                w.WriteString("proxy", proxy);
            }
        });

    /// <summary>An admin API call: who (peer, auth, cert), what (method, request) and the outcome (code, detail).</summary>
    public static string Audit(AdminAuditEntry e, string message)
        => Build("notice", "admin", message, w =>
        {
            w.WriteString("method", e.Method);
            w.WriteString("peer", e.Peer);
            w.WriteString("auth", e.Authentication);
            if (e.CertificateSubject is { } subject)
            {
                w.WriteString("cert", subject);
            }

            w.WriteString("request", e.Request);
            w.WriteString("code", e.Code);
            if (e.Detail is { } detail)
            {
                w.WriteString("detail", detail);
            }
        });

    private static string Build(string level, string source, string message, Action<Utf8JsonWriter> more)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            w.WriteString("time", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteNumber("pid", Pid);
            w.WriteString("level", level);
            w.WriteString("source", source);
            w.WriteString("message", message);
            more(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
