using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Cli;

internal static partial class CliCommands
{
    private const string Updater = RuntimeOperations.CliUpdater;

    public static ValueTask GetWeight(CliSession s, string[] args, string? payload)
    {
        if (FindServer(s, args, 2) is { } server)
        {
            s.Write(RuntimeOperations.GetWeight(server) + "\n");
        }

        return Done;
    }

    public static ValueTask SetWeight(CliSession s, string[] args, string? payload)
    {
        if (FindServer(s, args, 2) is { } server)
        {
            WriteWeightError(s, RuntimeOperations.SetWeight(server, args.Length > 3 ? args[3] : ""));
        }

        return Done;
    }

    /// <summary>HAProxy ends its weight messages with a line end, except the two of its number parser.</summary>
    private static void WriteWeightError(CliSession s, string? error)
    {
        if (error is not null)
        {
            bool parser = error.StartsWith("Empty weight", StringComparison.Ordinal) || error.StartsWith("Trailing garbage", StringComparison.Ordinal);
            s.Write(parser ? error : error + "\n");
        }
    }

    private const string SetServerUsage = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n";

    public static ValueTask SetServer(CliSession s, string[] args, string? payload)
    {
        if (FindServer(s, args, 2) is not { } server)
        {
            return Done;
        }

        string what = args.Length > 3 ? args[3] : "";
        string? value = args.Length > 4 ? args[4] : null;
        switch (what)
        {
            case "weight":
                WriteWeightError(s, RuntimeOperations.SetWeight(server, value ?? ""));
                break;
            case "state":
                WriteLine(s, RuntimeOperations.SetState(server, value ?? "", Updater));
                break;
            case "health":
                WriteLine(s, RuntimeOperations.SetHealth(server, value ?? "", Updater));
                break;
            case "agent":
                WriteLine(s, value is "up" or "down" ? RuntimeOperations.SetAgent(server, value) : "'set server <srv> agent' expects 'up' or 'down'.");
                break;
            case "addr":
                if (value is null)
                {
                    s.Write("set server <b>/<s> addr requires an address and optionally a port.\n");
                    break;
                }

                string? port = args.Length > 6 && args[5] == "port" ? args[6] : null;
                s.Write(RuntimeOperations.SetAddress(server, value, port, Updater).Message + "\n");
                break;
            case "agent-addr" or "agent-port" or "agent-send" or "check-addr" or "check-port" or "fqdn" or "ssl":
                s.Write($"'set server <srv> {what}' is not supported by HaLua.\n");
                break;
            default:
                s.Write(SetServerUsage);
                break;
        }

        return Done;
    }

    private static void WriteLine(CliSession s, string? message)
    {
        if (message is not null)
        {
            s.Write(message + "\n");
        }
    }

    /// <summary><c>enable server</c> (leave maintenance) / <c>disable server</c> (enter it).</summary>
    public static ValueTask EnableServer(CliSession s, string[] args, string? payload)
    {
        if (FindServer(s, args, 2) is not { } server)
        {
            return Done;
        }

        if (args[0] == "disable")
        {
            RuntimeOperations.SetState(server, ServerAdminState.Maint, Updater);
        }
        else if (server.Admin == ServerAdminState.Maint)
        {
            RuntimeOperations.SetState(server, ServerAdminState.Ready, Updater);
        }

        return Done;
    }

    public static ValueTask Health(CliSession s, string[] args, string? payload)
    {
        if (FindServer(s, args, 2) is { } server)
        {
            WriteLine(s, args[0] == "enable" ? RuntimeOperations.EnableHealth(server) : RuntimeOperations.DisableHealth(server));
        }

        return Done;
    }

    public static ValueTask Agent(CliSession s, string[] args, string? payload)
    {
        if (FindServer(s, args, 2) is { } server)
        {
            WriteLine(s, args[0] == "enable" ? RuntimeOperations.EnableAgent(server) : RuntimeOperations.DisableAgent(server));
        }

        return Done;
    }

    public static ValueTask ShutdownSessions(CliSession s, string[] args, string? payload)
    {
        if (FindServer(s, args, 3) is { } server)
        {
            RuntimeOperations.ShutdownSessions(server);
        }

        return Done;
    }

    /// <summary><c>enable|disable|shutdown frontend NAME</c>.</summary>
    public static ValueTask Frontend(CliSession s, string[] args, string? payload)
    {
        if (args.Length < 3)
        {
            s.Write("A frontend name is expected.\n");
            return Done;
        }

        if (FindProxy(s, args[2], p => p.IsFrontend) is not { } px)
        {
            s.Write("No such frontend.\n");
            return Done;
        }

        WriteLine(s, args[0] switch
        {
            "enable" => RuntimeOperations.Resume(px),
            "disable" => RuntimeOperations.Pause(px),
            _ => RuntimeOperations.Stop(px),
        });
        return Done;
    }

    public static async ValueTask AddServer(CliSession s, string[] args, string? payload)
    {
        if (!TrySplitPath(args, out string backend, out string name))
        {
            s.Write("Require 'backend/server'.");
            return;
        }

        var result = await s.Host.AddServerAsync(backend, name, args[3..]).ConfigureAwait(false);
        s.Write(result.Message);
    }

    public static async ValueTask DeleteServer(CliSession s, string[] args, string? payload)
    {
        if (!TrySplitPath(args, out string backend, out string name))
        {
            s.Write("Require 'backend/server'.");
            return;
        }

        var result = await s.Host.DeleteServerAsync(backend, name).ConfigureAwait(false);
        s.Write(result.Message);
    }

    private static bool TrySplitPath(string[] args, out string backend, out string name)
    {
        backend = name = "";
        if (args.Length < 3 || args[2].IndexOf('/', StringComparison.Ordinal) is var at && at <= 0)
        {
            return false;
        }

        backend = args[2][..at];
        name = args[2][(at + 1)..];
        return name.Length > 0;
    }
}
