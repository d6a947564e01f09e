using System.Collections;
using System.Globalization;
using System.Text;
using Google.Protobuf;

namespace HaLua.ControlPlane;

/// <summary>
/// One admin API call that changes something (or tried to): who (peer address, how it
/// authenticated, its client certificate's subject), what (method and request), and the outcome.
/// </summary>
/// <param name="Method">The gRPC method, e.g. <c>/halua.admin.v1.ServerService/SetAdminState</c>.</param>
/// <param name="Peer">The caller's address as gRPC gives it (<c>ipv4:127.0.0.1:50312</c>).</param>
/// <param name="Authentication"><c>token</c> when the bearer token was checked, <c>none</c> without one.</param>
/// <param name="CertificateSubject">The client certificate's subject (mutual TLS), else null.</param>
/// <param name="Request">The request's fields, <c>name=value</c>; bytes as their length (a Lua file's content is not logged).</param>
/// <param name="Code">The call's status code name (<c>OK</c>, <c>NotFound</c>...).</param>
/// <param name="Detail">The status detail of a failed call.</param>
public sealed record AdminAuditEntry(string Method, string Peer, string Authentication, string? CertificateSubject, string Request, string Code, string? Detail);

/// <summary>Which calls are audited and how their requests are written.</summary>
internal static class AdminAudit
{
    private static readonly string[] ReadOnlyPrefixes = ["List", "Get", "Show", "Lookup", "Status", "Watch"];

    /// <summary>Calls that read only (and the standard gRPC services) are not audited; every other one is, allowed or not.</summary>
    public static bool IsChange(string method)
    {
        if (!method.StartsWith("/halua.", StringComparison.Ordinal))
        {
            return false;
        }

        string name = method[(method.LastIndexOf('/') + 1)..];
        foreach (var prefix in ReadOnlyPrefixes)
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The fields set in a request, <c>name=value</c> separated by spaces; strings quoted when they hold spaces.</summary>
    public static string Describe(object? request)
    {
        if (request is not IMessage message)
        {
            return request is null ? "(stream)" : request.ToString() ?? "";
        }

        var sb = new StringBuilder();
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            object? value = field.Accessor.GetValue(message);
            if (!IsSet(value))
            {
                continue;
            }

            if (sb.Length > 0)
            {
                sb.Append(' ');
            }

            sb.Append(field.Name).Append('=');
            Append(sb, value);
        }

        return sb.ToString();
    }

    private static bool IsSet(object? value) => value switch
    {
        null => false,
        ICollection c => c.Count > 0,
        string s => s.Length > 0,
        ByteString b => b.Length > 0,
        bool b => b,
        int i => i != 0,
        long l => l != 0,
        uint u => u != 0,
        ulong ul => ul != 0,
        double d => d != 0,
        float f => f != 0,
        Enum e => Convert.ToInt32(e, CultureInfo.InvariantCulture) != 0,
        _ => true,
    };

    private static void Append(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case ByteString b:
                sb.Append(CultureInfo.InvariantCulture, $"<{b.Length} bytes>");
                break;
            case IDictionary map:
                sb.Append('{');
                bool first = true;
                foreach (DictionaryEntry e in map)
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    sb.Append(e.Key);
                    if (e.Value is ByteString bytes)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $":<{bytes.Length} bytes>");
                    }
                    else
                    {
                        sb.Append(':').Append(Text(e.Value));
                    }
                }

                sb.Append('}');
                break;
            case IList list:
                sb.Append(CultureInfo.InvariantCulture, $"[{list.Count} items]");
                break;
            case IMessage m:
                sb.Append('{').Append(Describe(m)).Append('}');
                break;
            default:
                sb.Append(Text(value));
                break;
        }

    }

    private static string Text(object? value)
    {
        string s = value switch
        {
            null => "",
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        return s.Length == 0 || s.AsSpan().IndexOfAny(" \"=") >= 0 ? "\"" + s.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"" : s;
    }
}
