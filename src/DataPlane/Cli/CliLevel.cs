namespace HaLua.DataPlane.Cli;

/// <summary>
/// HAProxy's stats socket levels. <c>user</c> reads only non-sensitive data and changes nothing;
/// <c>operator</c> reads everything and makes non-sensitive changes; <c>admin</c> does everything.
/// </summary>
internal enum CliLevel { User = 1, Operator = 2, Admin = 3 }

internal static class CliLevels
{
    public static CliLevel Parse(string? word) => word switch
    {
        "user" => CliLevel.User,
        "operator" => CliLevel.Operator,
        _ => CliLevel.Admin,
    };

    public static string Name(CliLevel level) => level switch
    {
        CliLevel.User => "user",
        CliLevel.Operator => "operator",
        _ => "admin",
    };
}
