namespace HaLua.DataPlane.Samples;

/// <summary>A compiled <c>fetch(args),conv(args),...</c> expression.</summary>
internal sealed class SampleExpression
{
    private readonly FetchDescriptor _fetch;
    private readonly string[] _fetchArgs;
    private readonly (ConverterDescriptor Conv, string[] Args)[] _converters;

    private SampleExpression(FetchDescriptor fetch, string[] fetchArgs, (ConverterDescriptor, string[])[] converters)
    {
        _fetch = fetch;
        _fetchArgs = fetchArgs;
        _converters = converters;
    }

    public SampleType OutputType => _converters.Length == 0 ? _fetch.Output : _converters[^1].Conv.Output;

    public string FetchName => _fetch.Name;

    /// <summary>Whether the value may still change while the request is being inspected.</summary>
    public bool DependsOnContent => _fetch.DependsOnContent;

    /// <summary>Reads the HTTP message or the request contents: not available any more when a log line is written.</summary>
    public bool NeedsMessage => _fetch.NeedsMessage || _fetch.DependsOnContent;

    public static SampleExpression Parse(string text, SampleRegistry registry)
    {
        var parts = Split(text);
        var (name, args) = parts[0];
        var fetch = registry.FindFetch(name) ?? throw new FormatException($"unknown fetch method '{name}'");
        CheckArgs(name, args, fetch.MinArgs, fetch.MaxArgs);
        var convs = new (ConverterDescriptor, string[])[parts.Count - 1];
        for (int i = 1; i < parts.Count; i++)
        {
            var (cname, cargs) = parts[i];
            var conv = registry.FindConverter(cname) ?? throw new FormatException($"unknown converter '{cname}'");
            CheckArgs(cname, cargs, conv.MinArgs, conv.MaxArgs);
            if (conv.Compile is { } bind)
            {
                conv = conv with { Convert = bind(cargs) };
            }

            convs[i - 1] = (conv, cargs);
        }

        return new SampleExpression(fetch, args, convs);
    }

    private static void CheckArgs(string name, string[] args, int min, int max)
    {
        if (args.Length < min || args.Length > max)
        {
            throw new FormatException(min == max
                ? $"'{name}' expects {min} argument(s), got {args.Length}"
                : $"'{name}' expects {min} to {max} arguments, got {args.Length}");
        }
    }

    public bool TryEvaluate(ISampleContext ctx, out Sample value)
    {
        if (!_fetch.Fetch(ctx, _fetchArgs, out value))
        {
            return false;
        }

        foreach (var (conv, args) in _converters)
        {
            if (!conv.Convert(ctx, ref value, args))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Splits on top-level commas: name(arg,arg),name,... Arguments may be quoted.</summary>
    private static List<(string Name, string[] Args)> Split(string text)
    {
        var result = new List<(string, string[])>();
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && text[i] is not ('(' or ','))
            {
                i++;
            }

            string name = text[start..i].Trim();
            if (name.Length == 0)
            {
                throw new FormatException($"missing name in expression '{text}'");
            }

            var args = new List<string>();
            if (i < text.Length && text[i] == '(')
            {
                i++;
                var cur = new System.Text.StringBuilder();
                bool closed = false;
                while (i < text.Length)
                {
                    char c = text[i];
                    if (c == '\\' && i + 1 < text.Length)
                    {
                        cur.Append(text[i + 1]);
                        i += 2;
                        continue;
                    }

                    if (c is '"' or '\'')
                    {
                        int end = text.IndexOf(c, i + 1);
                        if (end < 0)
                        {
                            throw new FormatException($"unterminated quote in '{text}'");
                        }

                        cur.Append(text, i + 1, end - i - 1);
                        i = end + 1;
                        continue;
                    }

                    if (c == ',')
                    {
                        args.Add(cur.ToString());
                        cur.Clear();
                        i++;
                        continue;
                    }

                    if (c == ')')
                    {
                        args.Add(cur.ToString());
                        closed = true;
                        i++;
                        break;
                    }

                    cur.Append(c);
                    i++;
                }

                if (!closed)
                {
                    throw new FormatException($"missing ')' in '{text}'");
                }

                if (args is [""])
                {
                    args.Clear();
                }
            }

            result.Add((name, [.. args]));
            if (i < text.Length)
            {
                if (text[i] != ',')
                {
                    throw new FormatException($"unexpected '{text[i]}' in '{text}'");
                }

                i++;
            }
        }

        if (result.Count == 0)
        {
            throw new FormatException("empty expression");
        }

        return result;
    }
}
