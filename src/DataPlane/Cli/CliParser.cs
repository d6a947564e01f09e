using System.Text;

namespace HaLua.DataPlane.Cli;

/// <summary>HAProxy's CLI line syntax: <c>;</c> between commands, blanks between words, <c>\</c> escaping the next character.</summary>
internal static class CliParser
{
    /// <summary>HAProxy takes at most this many words per command.</summary>
    public const int MaxWords = 64;

    /// <summary>The commands of a line, split at each <c>;</c> not escaped by a backslash.</summary>
    public static List<string> SplitCommands(string line)
    {
        var commands = new List<string>();
        int start = 0;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\')
            {
                i++;
            }
            else if (line[i] == ';')
            {
                commands.Add(line[start..i]);
                start = i + 1;
            }
        }

        commands.Add(line[start..]);
        return commands;
    }

    /// <summary>The words of a command: blanks (spaces, tabs) separate them unless escaped; a backslash is dropped and the character after it kept.</summary>
    public static string[] Words(string command)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < command.Length; i++)
        {
            char c = command[i];
            if (c is ' ' or '\t')
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }

                continue;
            }

            inWord = true;
            if (c == '\\')
            {
                if (i + 1 < command.Length)
                {
                    word.Append(command[++i]);
                }

                continue;
            }

            word.Append(c);
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words.Count > MaxWords ? [.. words.Take(MaxWords)] : [.. words];
    }

    /// <summary>A line ending with the word <c>&lt;&lt;</c> announces a payload (the lines up to an empty one).</summary>
    public static bool HasPayloadMarker(string line, out string head)
    {
        string trimmed = line.TrimEnd(' ', '\t');
        if (trimmed == "<<" || trimmed.EndsWith(" <<", StringComparison.Ordinal) || trimmed.EndsWith("\t<<", StringComparison.Ordinal))
        {
            head = trimmed[..^2];
            return true;
        }

        head = line;
        return false;
    }
}
