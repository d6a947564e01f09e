namespace HaLua.DataPlane.Cli;

/// <summary>Runs one command: the session to write to, its words (the keyword's included), and the payload of a <c>&lt;&lt;</c> line.</summary>
internal delegate ValueTask CliHandler(CliSession session, string[] args, string? payload);

/// <summary>A command: the words that select it, its line in <c>help</c> (HAProxy's text), the level it needs.</summary>
internal sealed record CliKeyword(string[] Words, string Usage, CliLevel Level, CliHandler Handler)
{
    /// <summary>The command's words start <paramref name="args"/>.</summary>
    public bool Matches(string[] args)
    {
        if (args.Length < Words.Length)
        {
            return false;
        }

        for (int i = 0; i < Words.Length; i++)
        {
            if (args[i] != Words[i])
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// The built-in commands HaLua serves, with HAProxy 2.6's usage lines and levels (user: read-only
/// commands; operator: also the changes of maps and ACL files; admin: everything).
/// </summary>
internal static class CliKeywords
{
    private static CliKeyword K(string words, string usage, CliLevel level, CliHandler handler)
        => new(words.Split(' '), usage, level, handler);

    private const CliLevel U = CliLevel.User, O = CliLevel.Operator, A = CliLevel.Admin;

    /// <summary>In HAProxy's help order (sorted by usage line).</summary>
    public static readonly CliKeyword[] BuiltIn =
    [
        K("add acl", "add acl [@<ver>] <acl> <pattern>        : add an acl entry", O, CliCommands.AddPattern),
        K("add map", "add map [@<ver>] <map> <key> <val>      : add a map entry (payload supported instead of key/val)", O, CliCommands.AddPattern),
        K("add server", "add server <bk>/<srv>                   : create a new server", A, CliCommands.AddServer),
        K("clear acl", "clear acl [@<ver>] <acl>                : clear the contents of this acl", O, CliCommands.ClearPattern),
        K("clear map", "clear map [@<ver>] <map>                : clear the contents of this map", O, CliCommands.ClearPattern),
        K("commit acl", "commit acl @<ver> <acl>                 : commit the ACL at this version", O, CliCommands.CommitPattern),
        K("commit map", "commit map @<ver> <map>                 : commit the map at this version", O, CliCommands.CommitPattern),
        K("del acl", "del acl <acl> [<key>|#<ref>]            : delete acl entries matching <key>", O, CliCommands.DeletePattern),
        K("del map", "del map <map> [<key>|#<ref>]            : delete map entries matching <key>", O, CliCommands.DeletePattern),
        K("del server", "del server <bk>/<srv>                   : remove a dynamically added server", A, CliCommands.DeleteServer),
        K("disable agent", "disable agent                           : disable agent checks", A, CliCommands.Agent),
        K("disable frontend", "disable frontend <frontend>             : temporarily disable specific frontend", A, CliCommands.Frontend),
        K("disable health", "disable health                          : disable health checks", A, CliCommands.Health),
        K("disable server", "disable server (DEPRECATED)             : disable a server for maintenance (use 'set server' instead)", A, CliCommands.EnableServer),
        K("enable agent", "enable agent                            : enable agent checks", A, CliCommands.Agent),
        K("enable frontend", "enable frontend <frontend>              : re-enable specific frontend", A, CliCommands.Frontend),
        K("enable health", "enable health                           : enable health checks", A, CliCommands.Health),
        K("enable server", "enable server  (DEPRECATED)             : enable a disabled server (use 'set server' instead)", A, CliCommands.EnableServer),
        K("get acl", "get acl <acl> <value>                   : report the patterns matching a sample for an ACL", U, CliCommands.GetPattern),
        K("get map", "get map <acl> <value>                   : report the keys and values matching a sample for a map", U, CliCommands.GetPattern),
        K("get weight", "get weight <bk>/<srv>                   : report a server's current weight", U, CliCommands.GetWeight),
        K("operator", "operator                                : lower the level of the current CLI session to operator", O, CliCommands.LowerLevel),
        K("prepare acl", "prepare acl <acl>                       : prepare a new version for atomic ACL replacement", O, CliCommands.PreparePattern),
        K("prepare map", "prepare map <acl>                       : prepare a new version for atomic map replacement", O, CliCommands.PreparePattern),
        K("reload lua", "reload lua                              : reload the Lua files in place (HaLua: hot reload, all or nothing)", A, CliCommands.ReloadLua),
        K("set map", "set map <map> [<key>|#<ref>] <value>    : modify a map entry", O, CliCommands.SetPattern),
        K("set server", "set server <bk>/<srv> [opts]            : change a server's state, weight, address or ssl", A, CliCommands.SetServer),
        K("set weight", "set weight <bk>/<srv>  (DEPRECATED)     : change a server's weight (use 'set server' instead)", A, CliCommands.SetWeight),
        K("show acl", "show acl [@<ver>] <acl>]                : report available acls or dump an acl's contents", U, CliCommands.ShowPattern),
        K("show backend", "show backend                            : list backends in the current running config", U, CliCommands.ShowBackend),
        K("show cli level", "show cli level                          : display the level of the current CLI session", U, CliCommands.ShowLevel),
        K("show info", "show info [desc|json|typed|float]*      : report information about the running process", U, CliCommands.ShowInfo),
        K("show map", "show map [@ver] [map]                   : report available maps or dump a map's contents", U, CliCommands.ShowPattern),
        K("show servers state", "show servers state [<backend>]          : dump volatile server information (all or for a single backend)", U, CliCommands.ShowServersState),
        K("show stat", "show stat [desc|json|no-maint|typed|up]*: report counters for each proxy and server", U, CliCommands.ShowStat),
        K("show version", "show version                            : show version of the current process", U, CliCommands.ShowVersion),
        K("shutdown frontend", "shutdown frontend <frontend>            : stop a specific frontend", A, CliCommands.Frontend),
        K("shutdown sessions server", "shutdown sessions server <bk>/<srv>     : kill sessions on a server", A, CliCommands.ShutdownSessions),
        K("user", "user                                    : lower the level of the current CLI session to user", U, CliCommands.LowerLevel),
    ];

    /// <summary>Always listed last, in this order.</summary>
    public static readonly CliKeyword[] Session =
    [
        K("help", "help [<command>]                        : list matching or all commands", U, CliCommands.Help),
        K("prompt", "prompt                                  : toggle interactive mode with prompt", U, CliCommands.TogglePrompt),
        K("quit", "quit                                    : disconnect", U, CliCommands.QuitSession),
    ];
}
