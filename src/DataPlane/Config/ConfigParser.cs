using System.Collections.Immutable;

namespace HaLua.DataPlane.Config;

/// <summary>
/// Parses HAProxy configuration files into <see cref="HaLuaConfig"/>. Collects every error (each
/// names file:line, the section and the keyword) instead of stopping at the first, so that
/// <c>halua -c</c> lists them all. Nothing unknown is ignored.
/// </summary>
internal sealed partial class ConfigParser
{
    private static readonly HashSet<string> UnsupportedSections =
        ["userlist", "peers", "resolvers", "mailers", "program", "http-errors", "cache", "ring", "log-forward", "fcgi-app", "crt-store", "traces"];

    private readonly Func<string, string?> _env;
    private readonly List<ConfigError> _errors = [];
    private readonly List<string> _warnings = [];
    private GlobalConfig _global = new();
    private readonly List<ProxyBuilder> _proxies = [];
    private readonly Dictionary<string, ProxyBuilder> _namedDefaults = new(StringComparer.Ordinal);
    private ProxyBuilder _defaults = ProxyBuilder.NewDefaults(null, default);

    private ConfigParser(Func<string, string?>? env) => _env = env ?? Environment.GetEnvironmentVariable;

    /// <summary>The result of a parse: a config only when there are no errors.</summary>
    public sealed record Result(HaLuaConfig? Config, IReadOnlyList<ConfigError> Errors, IReadOnlyList<string> Warnings)
    {
        /// <summary>The global section as far as it parsed, even with errors (so the Lua files can still be checked).</summary>
        public GlobalConfig? PartialGlobal { get; init; }
    }

    public static Result ParseFiles(IReadOnlyList<string> files, Func<string, string?>? env = null)
    {
        var p = new ConfigParser(env);
        foreach (var f in files)
        {
            string text;
            try
            {
                text = File.ReadAllText(f);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                p._errors.Add(new ConfigError(new SourceLocation(f, 0), "-", "-f", $"cannot open configuration file: {ex.Message}"));
                continue;
            }

            p.ParseText(text, f);
        }

        return p.Finish();
    }

    public static Result Parse(string text, string fileName = "haproxy.cfg", Func<string, string?>? env = null)
    {
        var p = new ConfigParser(env);
        p.ParseText(text, fileName);
        return p.Finish();
    }

    private enum Section { None, Global, Defaults, Proxy, Skipped }

    private Section _section;
    private string _sectionName = "";
    private ProxyBuilder? _current;

    private void ParseText(string text, string file)
    {
        _section = Section.None;
        _current = null;
        var lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            var loc = new SourceLocation(file, n + 1);
            var (line, err) = ConfigTokenizer.Tokenize(lines[n].TrimEnd('\r'), loc, _env);
            if (err is not null)
            {
                Error(loc, "-", err);
                continue;
            }

            if (line!.Words.Count == 0)
            {
                continue;
            }

            ParseLine(line);
        }
    }

    private void ParseLine(ConfigLine line)
    {
        var w = line.Words;
        string kw = w[0];
        switch (kw)
        {
            case "global":
                _section = Section.Global;
                _sectionName = "global";
                if (w.Count > 1)
                {
                    Error(line.Location, kw, "'global' takes no argument");
                }

                return;
            case "defaults":
                _section = Section.Defaults;
                string? dname = w.Count > 1 ? w[1] : null;
                _sectionName = dname is null ? "defaults" : $"defaults {dname}";
                var baseDefaults = FromClause(line, 2) ?? ProxyBuilder.NewDefaults(null, line.Location);
                _defaults = baseDefaults.Derive(dname ?? "", ProxyCapabilities.None, line.Location, isDefaults: true);
                if (dname is not null)
                {
                    _namedDefaults[dname] = _defaults;
                }

                _current = _defaults;
                return;
            case "frontend":
            case "backend":
            case "listen":
                StartProxy(line);
                return;
        }

        if (UnsupportedSections.Contains(kw))
        {
            _section = Section.Skipped;
            _sectionName = kw;
            Error(line.Location, kw, $"section '{kw}' is not supported");
            return;
        }

        switch (_section)
        {
            case Section.Global:
                ParseGlobal(line);
                break;
            case Section.Defaults:
            case Section.Proxy:
                ParseProxyKeyword(line, _current!);
                break;
            case Section.Skipped:
                break;
            default:
                Error(line.Location, kw, $"unknown keyword '{kw}' out of section");
                break;
        }
    }

    private ProxyBuilder? FromClause(ConfigLine line, int at)
    {
        var w = line.Words;
        if (w.Count <= at)
        {
            return null;
        }

        if (w[at] != "from" || w.Count != at + 2)
        {
            Error(line.Location, w[0], $"unexpected argument '{w[at]}' (expected 'from <defaults>')");
            return null;
        }

        if (!_namedDefaults.TryGetValue(w[at + 1], out var d))
        {
            Error(line.Location, w[0], $"defaults section '{w[at + 1]}' not found");
            return null;
        }

        return d;
    }

    private void StartProxy(ConfigLine line)
    {
        var w = line.Words;
        string kw = w[0];
        _section = Section.Proxy;
        if (w.Count < 2)
        {
            Error(line.Location, kw, $"'{kw}' needs a name");
            _sectionName = kw;
            _current = _defaults.Derive("", ProxyCapabilities.None, line.Location, isDefaults: false);
            return;
        }

        string name = w[1];
        _sectionName = $"{kw} {name}";
        var cap = kw switch
        {
            "frontend" => ProxyCapabilities.Frontend,
            "backend" => ProxyCapabilities.Backend,
            _ => ProxyCapabilities.Listen,
        };
        if (!IsValidName(name))
        {
            Error(line.Location, kw, $"invalid character in proxy name '{name}'");
        }

        foreach (var other in _proxies)
        {
            if (other.Name == name && (other.Capabilities & cap) != 0)
            {
                Error(line.Location, kw, $"{kw} '{name}' has the same name as another proxy declared at {other.Location}");
            }
        }

        var from = FromClause(line, 2) ?? _defaults;
        _current = from.Derive(name, cap, line.Location, isDefaults: false);
        _proxies.Add(_current);
    }

    internal static bool IsValidName(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    private void Error(SourceLocation loc, string keyword, string message) => _errors.Add(new ConfigError(loc, _sectionName.Length == 0 ? "-" : _sectionName, keyword, message));

    private Result Finish()
    {
        Validate();
        if (_errors.Count > 0)
        {
            return new Result(null, _errors, _warnings) { PartialGlobal = _global };
        }

        int uuid = 2;
        var proxies = _proxies.Select(p => p.Build(uuid++)).ToImmutableArray();
        return new Result(new HaLuaConfig(_global, proxies), _errors, _warnings);
    }
}
