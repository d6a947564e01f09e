using HaLua.DataPlane.Logging;

namespace HaLua.DataPlane.Cli;

/// <summary>Finds the command a line names (built-in, then Lua's <c>core.register_cli</c> ones) and runs it at the session's level.</summary>
internal static class CliDispatcher
{
    public static async ValueTask ExecuteAsync(CliSession session, string[] args, string? payload)
    {
        var lua = LuaKeywords(session);
        var keyword = Find(args, lua);
        if (keyword is null)
        {
            session.Write(CliHelp.Unknown(args, lua));
            return;
        }

        if (session.Level < keyword.Level)
        {
            session.Write("Permission denied\n");
            return;
        }

        try
        {
            await keyword.Handler(session, args, payload).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not (OperationCanceledException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException))
        {
            ProcessLog.Instance.Alert($"CLI command '{string.Join(' ', args)}' failed: {ex}");
            session.Write("Internal error.\n");
        }
    }

    private static CliKeyword? Find(string[] args, IReadOnlyList<CliKeyword> lua)
    {
        if (args.Length == 0)
        {
            return null;
        }

        foreach (var k in CliKeywords.BuiltIn)
        {
            if (k.Matches(args))
            {
                return k;
            }
        }

        foreach (var k in lua)
        {
            if (k.Matches(args))
            {
                return k;
            }
        }

        foreach (var k in CliKeywords.Session)
        {
            if (k.Matches(args))
            {
                return k;
            }
        }

        return null;
    }

    /// <summary>The running Lua generation's commands (a hot reload changes them), usable at every level as in HAProxy.</summary>
    internal static IReadOnlyList<CliKeyword> LuaKeywords(CliSession session)
    {
        var commands = session.Host.Generation.Lua.CliCommands;
        lock (commands)
        {
            return [.. commands.Values.Select(reg => new CliKeyword(
                [.. reg.CliPath],
                reg.Usage ?? "",
                CliLevel.User,
                (s, a, _) => CliLuaCommand.RunAsync(s, reg, a)))];
        }
    }
}
