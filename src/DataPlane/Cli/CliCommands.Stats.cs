using System.Globalization;
using System.Text;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Cli;

internal static partial class CliCommands
{
    /// <summary>The columns HAProxy 2.6's stats modules add after the core ones (SSL, H2, H1), behind a <c>-</c> column.</summary>
    private static readonly string[] ModuleColumns =
    [
        "-", "ssl_sess", "ssl_reused_sess", "ssl_failed_handshake", "h2_headers_rcvd", "h2_data_rcvd", "h2_settings_rcvd",
        "h2_rst_stream_rcvd", "h2_goaway_rcvd", "h2_detected_conn_protocol_errors", "h2_detected_strm_protocol_errors",
        "h2_rst_stream_resp", "h2_goaway_resp", "h2_open_connections", "h2_backend_open_streams", "h2_total_connections",
        "h2_backend_total_streams", "h1_open_connections", "h1_open_streams", "h1_total_connections", "h1_total_streams",
        "h1_bytes_in", "h1_bytes_out", "h1_spliced_bytes_in", "h1_spliced_bytes_out",
    ];

    /// <summary>The module columns' values: zeros on proxy rows; on server rows the SSL ones only (HAProxy's H1/H2 modules count proxies).</summary>
    private static readonly string ProxyModules = "-," + string.Concat(Enumerable.Repeat("0,", ModuleColumns.Length - 1));
    private static readonly string ServerModules = "-,0,0,0," + new string(',', ModuleColumns.Length - 4);

    private static readonly string StatHeader = "# " + string.Concat(StatFields.Names.Concat(ModuleColumns).Select(n => n + ",")) + "\n";

    public static ValueTask ShowInfo(CliSession s, string[] args, string? payload)
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in s.Host.Generation.Info.Rows())
        {
            sb.Append(name).Append(": ").Append(value.ToString()).Append('\n');
        }

        s.Write(sb.ToString());
        return Done;
    }

    /// <summary><c>show stat [IID TYPE SID] [up|no-maint]</c>: IID a proxy id or name (-1: all), TYPE a mask (1 frontends, 2 backends, 4 servers, 8 listeners), SID a server id (-1: all).</summary>
    public static async ValueTask ShowStat(CliSession s, string[] args, string? payload)
    {
        var rest = args.Skip(2).ToList();
        bool up = rest.Remove("up");
        bool noMaint = rest.Remove("no-maint");
        rest.RemoveAll(a => a is "typed" or "json" or "desc");
        var proxies = s.Host.Generation.Proxies;
        int types = -1, sid = -1;
        IEnumerable<Runtime.ProxyRuntime> selected = proxies;
        if (rest.Count >= 3)
        {
            if (rest[0] != "-1")
            {
                if (int.TryParse(rest[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int iid))
                {
                    selected = proxies.Where(p => p.Config.Uuid == iid);
                }
                else if (proxies.Any(p => p.Name == rest[0]))
                {
                    selected = proxies.Where(p => p.Name == rest[0]);
                }
                else
                {
                    s.Write("No such proxy.\n");
                    return;
                }
            }

            _ = int.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out types);
            _ = int.TryParse(rest[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out sid);
        }

        s.Write(StatHeader);
        var line = new StringBuilder();
        foreach (var row in StatLines.All(selected))
        {
            long type = row[StatField.Type].Integer;
            int bit = type switch { 0 => 1, 1 => 2, 2 => 4, _ => 8 };
            if ((types & bit) == 0)
            {
                continue;
            }

            if (type == 2)
            {
                string status = row[StatField.Status].Text ?? "";
                if ((sid != -1 && row[StatField.Sid].Integer != sid)
                    || (noMaint && status.StartsWith("MAINT", StringComparison.Ordinal))
                    || (up && !(status.StartsWith("UP", StringComparison.Ordinal) || status == "no check")))
                {
                    continue;
                }
            }

            line.Clear();
            foreach (var (_, value) in row.Fields)
            {
                line.Append(value.ToString()).Append(',');
            }

            line.Append(type == 2 ? ServerModules : ProxyModules).Append('\n');
            s.Write(line.ToString());
            await s.FlushIfFullAsync().ConfigureAwait(false);
        }
    }

    private const string ServersStateHeader = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";

    /// <summary><c>show servers state [BACKEND]</c>: HAProxy's server-state file format (version 1).</summary>
    public static ValueTask ShowServersState(CliSession s, string[] args, string? payload)
    {
        var backends = s.Host.Generation.Proxies.Where(p => p.Backend is not null);
        if (args.Length > 3)
        {
            if (FindProxy(s, args[3], p => p.Backend is not null) is not { } px)
            {
                s.Write("Can't find backend.\n");
                return Done;
            }

            backends = [px];
        }

        var sb = new StringBuilder(ServersStateHeader);
        foreach (var px in backends)
        {
            foreach (var server in px.Backend!.Servers)
            {
                AppendServerState(sb, px.Config.Uuid, server);
            }
        }

        s.Write(sb.ToString());
        return Done;
    }

    private static void AppendServerState(StringBuilder sb, int backendId, ServerState s)
    {
        // HAProxy's SRV_ST_* (stopped, starting, running, stopping), SRV_ADMF_* bits (forced maint 1, forced drain 8),
        // HCHK_STATUS_* and CHK_RES_* numbers, CHK_ST_* bits (configured 2, enabled 4, paused 8).
        int op = s.Admin == ServerAdminState.Maint || s.Oper == ServerOperState.Down ? 0 : s.Oper == ServerOperState.NoLb ? 3 : 2;
        int admin = s.Admin switch { ServerAdminState.Maint => 1, ServerAdminState.Drain => 8, _ => 0 };
        int checkStatus = s.CheckStatus switch
        {
            "" => 1,
            "L4OK" => 6,
            "L4TOUT" => 7,
            "L4CON" => 8,
            "L6OK" => 9,
            "L6TOUT" => 10,
            "L6RSP" => 11,
            "L7TOUT" => 12,
            "L7RSP" => 13,
            "L7OK" => 14,
            "L7OKC" => 15,
            "L7STS" => 16,
            _ => 0,
        };
        int checkResult = s.CheckStatus.Length == 0 ? 0 : s.CheckStatus.EndsWith("OK", StringComparison.Ordinal) || s.CheckStatus == "L7OKC" ? 3 : 2;
        int checkState = (s.Config.Check ? 2 : 0) | (s.Config.Check && s.CheckEnabled ? 4 : 0);
        var ep = s.Address;
        var ip = ep.Address.IsIPv4MappedToIPv6 ? ep.Address.MapToIPv4() : ep.Address;
        sb.Append(CultureInfo.InvariantCulture, $"{backendId} {s.Backend.Name} {s.Id} {s.Name} {ip} {op} {admin} {s.Weight} {s.InitialWeight} ");
        sb.Append(CultureInfo.InvariantCulture, $"{(long)(DateTime.UtcNow - s.LastChange).TotalSeconds} {checkStatus} {checkResult} {(s.Config.Check ? s.CheckHealth : Math.Min(s.CheckHealth, s.Config.Rise))} {checkState} 0 0 0 - {ep.Port} - 0 {s.Config.CheckPort ?? 0} {(s.Config.CheckAddress?.ToString() ?? "-")} - 0\n");
    }
}
