using System.Collections.Concurrent;

namespace HaLua.DataPlane.Samples;

/// <summary>HAProxy's variable scopes: a variable name is "SCOPE.NAME".</summary>
internal enum VariableScope { Proc, Sess, Txn, Req, Res }

/// <summary>
/// HAProxy's variables. <c>proc.*</c> are process-wide (every Lua state and stream sees them);
/// <c>sess.*</c>, <c>txn.*</c>, <c>req.*</c> and <c>res.*</c> belong to one stream (in TCP mode a
/// session carries a single transaction, so they share the stream's lifetime). As in HAProxy,
/// <c>req.*</c> live while the request is processed and <c>res.*</c> while the response is: the
/// request's are gone once the response is being processed, and a response variable cannot be
/// set before.
/// </summary>
internal sealed class Variables
{
    private static readonly ConcurrentDictionary<string, Sample> ProcScope = new(StringComparer.Ordinal);
    private Dictionary<string, Sample>? _sess;
    private Dictionary<string, Sample>? _txn;
    private Dictionary<string, Sample>? _req;
    private Dictionary<string, Sample>? _res;
    private readonly bool _processOnly;
    private bool _response;

    public Variables()
    {
    }

    private Variables(bool processOnly) => _processOnly = processOnly;

    /// <summary>Splits "txn.foo" into its scope and name; false for a name without a valid scope (HAProxy refuses those).</summary>
    public static bool TryParse(string fullName, out VariableScope scope, out string name)
    {
        int dot = fullName.IndexOf('.', StringComparison.Ordinal);
        name = dot > 0 ? fullName[(dot + 1)..] : "";
        scope = VariableScope.Proc;
        if (dot <= 0 || name.Length == 0)
        {
            return false;
        }

        switch (fullName.AsSpan(0, dot))
        {
            case "proc": scope = VariableScope.Proc; break;
            case "sess": scope = VariableScope.Sess; break;
            case "txn": scope = VariableScope.Txn; break;
            case "req": scope = VariableScope.Req; break;
            case "res": scope = VariableScope.Res; break;
            default: return false;
        }

        foreach (char ch in name)
        {
            if (!(char.IsAsciiLetterOrDigit(ch) || ch is '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    public bool TryGet(VariableScope scope, string name, out Sample value)
    {
        if (scope == VariableScope.Proc)
        {
            return ProcScope.TryGetValue(name, out value);
        }

        value = default;
        return Table(scope, create: false)?.TryGetValue(name, out value) == true;
    }

    public void Set(VariableScope scope, string name, Sample value)
    {
        if (scope == VariableScope.Proc)
        {
            ProcScope[name] = value;
            return;
        }

        if (Table(scope, create: true) is { } table)
        {
            table[name] = value;
        }
    }

    public void Unset(VariableScope scope, string name)
    {
        if (scope == VariableScope.Proc)
        {
            ProcScope.TryRemove(name, out _);
            return;
        }

        Table(scope, create: false)?.Remove(name);
    }

    /// <summary>A new HTTP transaction on the session: txn.*, req.* and res.* start empty; sess.* stay.</summary>
    public void EndTransaction()
    {
        _txn?.Clear();
        _req?.Clear();
        _res?.Clear();
        _response = false;
    }

    /// <summary>The response is being processed: req.* are gone, res.* can be set.</summary>
    public void BeginResponse()
    {
        _req?.Clear();
        _response = true;
    }

    /// <summary>
    /// Process-wide variables only, for contexts without a stream (tasks, init): the stream scopes
    /// are absent there (reads find nothing, writes are ignored), as in HAProxy, and one shared
    /// instance never holds per-stream tables.
    /// </summary>
    public static Variables ProcessOnly { get; } = new(processOnly: true);

    private Dictionary<string, Sample>? Table(VariableScope scope, bool create) => _processOnly ? null : scope switch
    {
        VariableScope.Req when _response => null,
        VariableScope.Res when !_response => null,
        VariableScope.Sess => create ? _sess ??= new(StringComparer.Ordinal) : _sess,
        VariableScope.Txn => create ? _txn ??= new(StringComparer.Ordinal) : _txn,
        VariableScope.Req => create ? _req ??= new(StringComparer.Ordinal) : _req,
        _ => create ? _res ??= new(StringComparer.Ordinal) : _res,
    };
}
