using System.Globalization;
using System.Net;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Model;

namespace HaLua.DataPlane.Runtime;

/// <summary>What a frontend does with new connections (HAProxy's enable/disable/shutdown frontend).</summary>
internal enum FrontendState { Ready, Paused, Stopped }

/// <summary>
/// HAProxy's runtime operations on proxies and servers, with its effects and its messages: one
/// room behind three doors (Lua's Proxy and Server classes, the text CLI, the gRPC control plane).
/// A method returns null when it did what was asked, else the message HAProxy's CLI prints (Lua's
/// functions ignore those, as HAProxy's do, except where HAProxy returns them to the script).
/// </summary>
internal static class RuntimeOperations
{
    /// <summary>Who asks, as HAProxy names them in its messages.</summary>
    public const string LuaUpdater = "Lua script";
    public const string CliUpdater = "stats socket command";
    public const string AdminUpdater = "admin API";

    public static string ReasonFor(string updater) => updater switch
    {
        LuaUpdater => "changed from Lua script",
        AdminUpdater => "changed from the admin API",
        _ => "changed from CLI",
    };

    // ---- proxies ------------------------------------------------------------------------

    /// <summary>HAProxy's <c>disable frontend</c> / Lua's <c>Proxy.pause</c>: the listeners stop accepting.</summary>
    public static string? Pause(ProxyRuntime px, string updater = CliUpdater)
    {
        var before = px.State;
        if (!px.IsFrontend)
        {
            return "No such frontend.";
        }

        lock (px)
        {
            if (px.State == FrontendState.Stopped)
            {
                return "Frontend was previously shut down, cannot disable.";
            }

            if (px.State == FrontendState.Paused)
            {
                return "All sockets are already disabled.";
            }

            foreach (var l in px.Listeners)
            {
                l.Pause();
            }
        }

        ProcessLog.Instance.Warning($"Paused frontend {px.Name}.");
        px.OnStateChanged(before, updater);
        return null;
    }

    /// <summary>HAProxy's <c>enable frontend</c> / Lua's <c>Proxy.resume</c>: a paused frontend accepts again.</summary>
    public static string? Resume(ProxyRuntime px, string updater = CliUpdater)
    {
        var before = px.State;
        if (!px.IsFrontend)
        {
            return "No such frontend.";
        }

        lock (px)
        {
            if (px.State == FrontendState.Stopped)
            {
                return "Frontend was previously shut down, cannot enable.";
            }

            if (px.State == FrontendState.Ready)
            {
                return "All sockets are already enabled.";
            }

            foreach (var l in px.Listeners)
            {
                l.Resume();
            }

        }

        ProcessLog.Instance.Warning($"Resumed frontend {px.Name}.");
        px.OnStateChanged(before, updater);
        return null;
    }

    /// <summary>HAProxy's <c>shutdown frontend</c> / Lua's <c>Proxy.stop</c>: the listeners close for good; streams in flight go on.</summary>
    public static string? Stop(ProxyRuntime px, string updater = CliUpdater)
    {
        var before = px.State;
        if (!px.IsFrontend)
        {
            return "No such frontend.";
        }

        lock (px)
        {
            if (px.State == FrontendState.Stopped)
            {
                return "Frontend was already shut down.";
            }

            foreach (var l in px.Listeners)
            {
                l.Stop();
            }

        }

        long be = px.Backend?.Counters.Stot ?? 0;
        ProcessLog.Instance.Warning($"Proxy {px.Name} stopped (cumulated conns: FE: {Volatile.Read(ref px.FrontendCounters.Stot)}, BE: {be}).");
        px.OnStateChanged(before, updater);
        return null;
    }

    /// <summary>Lua's <c>Proxy.shut_bcksess</c>: kills the streams of the backend's backup servers; returns how many.</summary>
    public static int ShutdownBackupSessions(ProxyRuntime px)
        => px.Backend?.Servers.Where(s => s.IsBackup).Sum(s => s.Streams.KillAll()) ?? 0;

    // ---- servers ------------------------------------------------------------------------

    /// <summary>HAProxy's <c>shutdown sessions server</c> / Lua's <c>Server.shut_sess</c>; returns how many streams were killed.</summary>
    public static int ShutdownSessions(ServerState server) => server.Streams.KillAll();

    /// <summary>HAProxy's <c>set weight</c> / <c>set server ... weight</c> / Lua's <c>Server.set_weight</c>.</summary>
    public static string? SetWeight(ServerState server, string weight) => server.SetWeight(weight);

    /// <summary>HAProxy's <c>get weight</c>: "3 (initial 10)".</summary>
    public static string GetWeight(ServerState server) => string.Create(CultureInfo.InvariantCulture, $"{server.Weight} (initial {server.InitialWeight})");

    /// <summary>HAProxy's <c>set server ... state ready|drain|maint</c>.</summary>
    public static string? SetState(ServerState server, string state, string updater)
    {
        ServerAdminState? admin = state switch
        {
            "ready" => ServerAdminState.Ready,
            "drain" => ServerAdminState.Drain,
            "maint" => ServerAdminState.Maint,
            _ => null,
        };
        if (admin is not { } a)
        {
            return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.";
        }

        SetState(server, a, updater);
        return null;
    }

    /// <summary>Lua's <c>set_ready</c>, <c>set_drain</c>, <c>set_maint</c>: each state replaces the other two.</summary>
    public static void SetState(ServerState server, ServerAdminState state, string updater)
    {
        string reason = state switch
        {
            ServerAdminState.Maint => "entering forced maintenance",
            ServerAdminState.Drain => "entering forced drain",
            _ => server.Admin == ServerAdminState.Maint ? "leaving forced maintenance" : "leaving forced drain",
        };
        server.SetAdmin(state, $"{reason}, {ReasonFor(updater)}");
    }

    /// <summary>
    /// HAProxy's <c>set server ... health up|stopping|down</c> / Lua's <c>check_force_up</c>,
    /// <c>check_force_nolb</c>, <c>check_force_down</c>: the operational state and the check health
    /// (full for up and stopping, zero for down), so that the next checks go on from there.
    /// </summary>
    public static string? SetHealth(ServerState server, string health, string updater)
    {
        ServerOperState? oper = health switch
        {
            "up" => ServerOperState.Up,
            "stopping" => ServerOperState.NoLb,
            "down" => ServerOperState.Down,
            _ => null,
        };
        if (oper is not { } o)
        {
            return "'set server <srv> health' expects 'up', 'stopping', or 'down'.";
        }

        SetHealth(server, o, updater);
        return null;
    }

    public static void SetHealth(ServerState server, ServerOperState state, string updater)
    {
        server.CheckHealth = state == ServerOperState.Down ? 0 : server.Config.Rise + server.Config.Fall - 1;
        server.SetOper(state, ReasonFor(updater));
    }

    /// <summary>HAProxy's <c>enable health</c> / Lua's <c>check_enable</c>: only a server declared with <c>check</c> has checks to enable.</summary>
    public static string? EnableHealth(ServerState server)
    {
        if (!server.Config.Check)
        {
            return "Health check was not configured on this server, cannot enable.";
        }

        server.CheckEnabled = true;
        return null;
    }

    /// <summary>HAProxy's <c>disable health</c> / Lua's <c>check_disable</c>: the state stays as it is, no check changes it.</summary>
    public static string? DisableHealth(ServerState server)
    {
        if (server.Config.Check)
        {
            server.CheckEnabled = false;
        }

        return null;
    }

    /// <summary>
    /// HAProxy's <c>enable agent</c>. HaLua has no agent checks (no <c>agent-check</c> keyword), so
    /// every server is one without an agent, for which HAProxy refuses.
    /// </summary>
    public static string? EnableAgent(ServerState server) => "Agent was not configured on this server, cannot enable.";

    /// <summary>HAProxy's <c>disable agent</c>: nothing to disable, and HAProxy says nothing.</summary>
    public static string? DisableAgent(ServerState server) => null;

    /// <summary>HAProxy's <c>set server ... agent up|down</c> on a server without an agent.</summary>
    public static string? SetAgent(ServerState server, string state) => "agent checks are not enabled on this server.";

    /// <summary>
    /// HAProxy's <c>set server ... addr ADDR [port PORT]</c> / Lua's <c>set_addr(addr[, port])</c>:
    /// new connections go to the new address (streams in flight keep theirs). The address must be a
    /// literal IPv4 or IPv6 address. Returns whether something changed and HAProxy's description of
    /// what happened ("IP changed from 'a' to 'b' by 'Lua script'"), which Lua returns to the script.
    /// </summary>
    public static (bool Changed, string Message) SetAddress(ServerState server, string address, string? port, string updater)
    {
        if (!TryParseAddress(address, out var ip))
        {
            return (false, $"Invalid addr '{address}' by '{updater}'");
        }

        var old = server.Address;
        var oldIp = old.Address.IsIPv4MappedToIPv6 ? old.Address.MapToIPv4() : old.Address;
        bool ipChanged = !oldIp.Equals(ip);
        var message = new System.Text.StringBuilder(ipChanged ? $"IP changed from '{oldIp}' to '{ip}'" : "no need to change the addr");
        int newPort = old.Port;
        if (port is not null)
        {
            if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p > 65535)
            {
                message.Append(CultureInfo.InvariantCulture, $", problem converting port '{port}' to an int");
            }
            else if (p == old.Port)
            {
                message.Append(", no need to change the port");
            }
            else
            {
                message.Append(CultureInfo.InvariantCulture, $", port changed from '{old.Port}' to '{p}'");
                newPort = p;
            }
        }

        message.Append(CultureInfo.InvariantCulture, $" by '{updater}'");
        bool changed = ipChanged || newPort != old.Port;
        if (changed)
        {
            server.SetAddress(new IPEndPoint(ip, newPort), message.ToString());
        }

        return (changed, message.ToString());
    }

    /// <summary>HAProxy takes a literal address only: dotted-quad IPv4 or IPv6 (no name, no port, no brackets).</summary>
    private static bool TryParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return !text.Contains('[', StringComparison.Ordinal) && IPAddress.TryParse(text, out address!) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }

        var parts = text.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && int.Parse(p, CultureInfo.InvariantCulture) <= 255)
            && IPAddress.TryParse(text, out address!);
    }

    /// <summary>Lua's <c>Server.get_addr</c>: "ip:port" (IPv6 without brackets, as HAProxy 2.6 writes it).</summary>
    public static string AddressText(ServerState server)
    {
        var ep = server.Address;
        var ip = ep.Address.IsIPv4MappedToIPv6 ? ep.Address.MapToIPv4() : ep.Address;
        return string.Create(CultureInfo.InvariantCulture, $"{ip}:{ep.Port}");
    }
}
