using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Cli;

/// <summary>
/// The built-in commands. Each writes HAProxy 2.6's answer (the session adds the empty line that
/// ends every answer); every change goes through <see cref="RuntimeOperations"/>, as Lua's and the
/// admin API's do.
/// </summary>
internal static partial class CliCommands
{
    private static readonly ValueTask Done = ValueTask.CompletedTask;

    public static ValueTask Help(CliSession s, string[] args, string? payload)
    {
        s.Write(CliHelp.Help(args, CliDispatcher.LuaKeywords(s)));
        return Done;
    }

    public static ValueTask TogglePrompt(CliSession s, string[] args, string? payload)
    {
        s.Prompt = !s.Prompt;
        return Done;
    }

    public static ValueTask QuitSession(CliSession s, string[] args, string? payload)
    {
        s.Quit = true;
        return Done;
    }

    /// <summary><c>operator</c> and <c>user</c>: a session can lower its level, never raise it.</summary>
    public static ValueTask LowerLevel(CliSession s, string[] args, string? payload)
    {
        var level = CliLevels.Parse(args[0]);
        if (level < s.Level)
        {
            s.Level = level;
        }

        return Done;
    }

    public static ValueTask ShowLevel(CliSession s, string[] args, string? payload)
    {
        s.Write(CliLevels.Name(s.Level) + "\n");
        return Done;
    }

    /// <summary>HaLua's own: the Lua hot reload (as LuaService.Reload and SIGHUP), its result or its errors.</summary>
    public static async ValueTask ReloadLua(CliSession s, string[] args, string? payload)
    {
        // Loading and running the new bodies and inits takes a while: off the caller's thread.
        var result = await Task.Run(() => s.Host.ReloadLua()).ConfigureAwait(false);
        s.Write(result.Done
            ? $"Lua reloaded: generation {result.Generation}.\n"
            : $"Lua reload refused, generation {result.Generation} kept:\n{string.Join("\n", result.Errors)}\n");
    }

    public static ValueTask ShowVersion(CliSession s, string[] args, string? payload)
    {
        s.Write(Program.Version + "\n");
        return Done;
    }

    public static ValueTask ShowBackend(CliSession s, string[] args, string? payload)
    {
        s.Write("# name\n");
        foreach (var px in s.Host.Generation.Proxies.Where(p => p.Backend is not null))
        {
            s.Write(px.Name + "\n");
        }

        return Done;
    }

    /// <summary>A proxy by name or <c>#ID</c> (its uuid).</summary>
    private static ProxyRuntime? FindProxy(CliSession s, string name, Func<ProxyRuntime, bool> filter)
    {
        var proxies = s.Host.Generation.Proxies;
        if (name.StartsWith('#') && int.TryParse(name.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
        {
            return proxies.FirstOrDefault(p => p.Config.Uuid == id && filter(p));
        }

        return proxies.FirstOrDefault(p => p.Name == name && filter(p));
    }

    /// <summary><c>BACKEND/SERVER</c>, or HAProxy's message (with its line end, or without for the commands whose message has none).</summary>
    private static ServerState? FindServer(CliSession s, string[] args, int index, bool newline = true)
    {
        string nl = newline ? "\n" : "";
        if (index >= args.Length || args[index].IndexOf('/', StringComparison.Ordinal) is var slash && slash < 0)
        {
            s.Write("Require 'backend/server'." + nl);
            return null;
        }

        string path = args[index];
        int at = path.IndexOf('/', StringComparison.Ordinal);
        var px = FindProxy(s, path[..at], p => p.Backend is not null);
        if (px?.Backend is not { } be)
        {
            s.Write("No such backend." + nl);
            return null;
        }

        string name = path[(at + 1)..];
        var server = name.StartsWith('#') && int.TryParse(name.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id)
            ? be.Servers.FirstOrDefault(x => x.Id == id)
            : be.FindServer(name);
        if (server is null)
        {
            s.Write("No such server." + nl);
        }

        return server;
    }
}
