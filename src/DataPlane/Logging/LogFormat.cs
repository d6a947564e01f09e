using System.Text;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Logging;

/// <summary>HAProxy's per-variable options: <c>%{+Q,-M,+X,+E}var</c>.</summary>
[Flags]
internal enum LogOptions : byte
{
    None = 0,

    /// <summary>M: a missing value is written "-".</summary>
    Mandatory = 1,

    /// <summary>Q: text in double quotes.</summary>
    Quote = 2,

    /// <summary>X: numbers and addresses in hexadecimal.</summary>
    Hex = 4,

    /// <summary>E: '"', '\' and ']' escaped with '\'.</summary>
    Escape = 8,
}

/// <summary>
/// A compiled log-format string (HAProxy's section 8.2.4): literal text, <c>%%</c>, the
/// <c>%var</c> variables of <see cref="LogVariables"/> and <c>%[expression]</c> samples, each with
/// optional <c>%{+Q}</c>-style options. One engine serves the log lines (<c>log-format</c>,
/// <c>option httplog/tcplog</c>: spaces merged, missing values "-") and the rule values
/// (<c>set-header</c>, <c>return lf-string</c>: text as written, missing values empty).
/// </summary>
internal sealed class LogFormat
{
    /// <summary>HAProxy's <c>option httplog</c> format.</summary>
    public const string HttpLog = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";

    /// <summary>HAProxy's <c>option httplog clf</c> format (Common Log Format, then HAProxy's fields).</summary>
    public const string ClfLog = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";

    /// <summary>HAProxy's <c>option tcplog</c> format.</summary>
    public const string TcpLog = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";

    private readonly Node[] _nodes;
    private readonly string? _constant;

    private LogFormat(string source, Node[] nodes)
    {
        Source = source;
        _nodes = nodes;
        if (nodes.All(n => n.Kind == NodeKind.Text))
        {
            _constant = string.Concat(nodes.Select(n => Encoding.Latin1.GetString(n.Text!)));
        }

        UsesStreamLog = nodes.Any(n => n.Kind == NodeKind.Variable);
    }

    private enum NodeKind : byte { Text, Separator, Variable, Sample }

    private readonly record struct Node(NodeKind Kind, LogVariable Variable, LogOptions Options, byte[]? Text = null, SampleExpression? Sample = null);

    public string Source { get; }

    /// <summary>Reads a stream's log values (%t, %r, %ST...): its stream must keep a <see cref="StreamLog"/>.</summary>
    public bool UsesStreamLog { get; }

    /// <summary>A rule value (set-header, return lf-string, redirect): spaces as written, missing values empty.</summary>
    public static LogFormat Compile(string text, SampleRegistry registry) => Parse(text, registry, forLog: false, http: true);

    /// <summary>A log line: spaces merged into one separator, missing values "-", samples of the request or response refused (gone when the line is written).</summary>
    public static LogFormat CompileLog(string text, SampleRegistry registry, bool http) => Parse(text, registry, forLog: true, http);

    /// <summary>The value for a rule, from the stream's current state.</summary>
    public string Evaluate(ISampleContext ctx)
    {
        if (_constant is { } constant)
        {
            return constant;
        }

        var buffer = LogBuffer.Rent();
        try
        {
            Write(buffer, ctx, ctx.Log);
            return buffer.ToString();
        }
        finally
        {
            LogBuffer.Return(buffer);
        }
    }

    /// <summary>Appends the formatted text. A separator writes one space unless the text already ends with one (HAProxy's rule).</summary>
    public void Write(LogBuffer buffer, ISampleContext ctx, StreamLog? log)
    {
        bool lastIsSpace = true;
        foreach (ref readonly var node in _nodes.AsSpan())
        {
            int before = buffer.Length;
            switch (node.Kind)
            {
                case NodeKind.Separator:
                    if (!lastIsSpace)
                    {
                        buffer.Append((byte)' ');
                        lastIsSpace = true;
                    }

                    continue;
                case NodeKind.Text:
                    buffer.Append(node.Text);
                    break;
                case NodeKind.Sample:
                    if (node.Sample!.TryEvaluate(ctx, out var value))
                    {
                        LogVariables.WriteText(buffer, value.AsString, node.Options);
                    }
                    else
                    {
                        LogVariables.WriteText(buffer, ReadOnlySpan<char>.Empty, node.Options);
                    }

                    break;
                default:
                    LogVariables.Write(buffer, node.Variable, node.Options, ctx, log);
                    break;
            }

            if (buffer.Length != before)
            {
                lastIsSpace = false;
            }
        }
    }

    private static LogFormat Parse(string text, SampleRegistry registry, bool forLog, bool http)
    {
        var nodes = new List<Node>();
        var literal = new StringBuilder();
        var defaults = forLog ? LogOptions.Mandatory : LogOptions.None;

        void Flush()
        {
            if (literal.Length > 0)
            {
                var s = literal.ToString();
                // Log lines carry the configuration's text as UTF-8; rule values are Latin-1 strings, as HTTP fields.
                byte[] bytes = forLog || s.AsSpan().ContainsAnyExceptInRange('\0', '\u00FF') ? Encoding.UTF8.GetBytes(s) : Encoding.Latin1.GetBytes(s);
                nodes.Add(new Node(NodeKind.Text, default, LogOptions.None, bytes));
                literal.Clear();
            }
        }

        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == ' ' && forLog)
            {
                Flush();
                if (nodes.Count == 0 || nodes[^1].Kind != NodeKind.Separator)
                {
                    nodes.Add(new Node(NodeKind.Separator, default, LogOptions.None));
                }

                i++;
                continue;
            }

            if (c != '%')
            {
                literal.Append(c);
                i++;
                continue;
            }

            if (i + 1 >= text.Length)
            {
                throw new FormatException($"truncated line after '%' in '{text}'");
            }

            if (text[i + 1] == '%')
            {
                literal.Append('%');
                i += 2;
                continue;
            }

            int at = i + 1;
            var options = defaults;
            string? args = null;
            if (text[at] == '{')
            {
                int close = text.IndexOf('}', at);
                if (close < 0)
                {
                    throw new FormatException($"missing '}}' after '%{{' in '{text}'");
                }

                args = text[(at + 1)..close];
                options = ApplyOptions(options, args);
                at = close + 1;
            }

            if (at < text.Length && text[at] == '[')
            {
                int end = ExpressionEnd(text, at + 1);
                if (end < 0)
                {
                    throw new FormatException($"missing ']' after '{text[(at + 1)..]}'");
                }

                string source = text[(at + 1)..end];
                var expression = SampleExpression.Parse(source, registry);
                if (forLog && expression.NeedsMessage)
                {
                    throw new FormatException($"sample fetch '{expression.FetchName}' may not be used in a log line: it reads the request or response, which is gone when the line is written");
                }

                Flush();
                nodes.Add(new Node(NodeKind.Sample, default, options, Sample: expression));
                i = end + 1;
                continue;
            }

            if (at < text.Length && char.IsAsciiLetter(text[at]))
            {
                int end = at;
                while (end < text.Length && char.IsAsciiLetterOrDigit(text[end]))
                {
                    end++;
                }

                string name = text[at..end];
                i = end;
                if (name == "o")
                {
                    // %{...}o sets the options of every variable after it.
                    defaults = options;
                    continue;
                }

                var variable = LogVariables.Find(name)
                    ?? throw new FormatException($"no such format variable '{name}'. If you wanted to emit the '%' character verbatim, you need to use '%%'");
                if (!http && LogVariables.IsHttpOnly(variable))
                {
                    throw new FormatException($"format variable '{name}' is reserved for HTTP mode");
                }

                Flush();
                nodes.Add(new Node(NodeKind.Variable, variable, options));
                continue;
            }

            if (args is not null)
            {
                throw new FormatException($"parse argument modifier without variable name near '%{{{args}}}'");
            }

            throw new FormatException($"unexpected variable name near '{text[at]}' at position {at} in '{text}'. Maybe you want to write a single '%', use the syntax '%%'");
        }

        Flush();
        return new LogFormat(text, [.. nodes]);
    }

    /// <summary>"+Q,-M,...": HAProxy's option letters; unknown ones are ignored as HAProxy does.</summary>
    private static LogOptions ApplyOptions(LogOptions options, string args)
    {
        foreach (var arg in args.Split(','))
        {
            if (arg.Length != 2 || arg[0] is not ('+' or '-'))
            {
                continue;
            }

            var flag = arg[1] switch
            {
                'M' => LogOptions.Mandatory,
                'Q' => LogOptions.Quote,
                'X' => LogOptions.Hex,
                'E' => LogOptions.Escape,
                _ => LogOptions.None,
            };
            options = arg[0] == '+' ? options | flag : options & ~flag;
        }

        return options;
    }

    /// <summary>The ']' that closes a sample expression: outside parentheses and quotes.</summary>
    private static int ExpressionEnd(string text, int from)
    {
        int depth = 0;
        char quote = '\0';
        for (int i = from; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\\')
            {
                i++;
            }
            else if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '(')
            {
                depth++;
            }
            else if (c == ')')
            {
                depth--;
            }
            else if (c == ']' && depth <= 0)
            {
                return i;
            }
        }

        return -1;
    }
}
