using System.Text;

namespace HaLua.DataPlane.Http;

/// <summary>
/// The header edits rules make on one head (set-header, add-header, del-header, connection modes):
/// on the first edit the head's fields become a list, edited in rule order; a head nobody edits
/// is forwarded as received.
/// </summary>
internal sealed class HeaderEdits
{
    private List<(string Name, string Value)>? _fields;

    public bool Changed => _fields is not null;

    public void Reset() => _fields = null;

    public void Delete(HttpHead head, ReadOnlySpan<byte> bytes, string name)
        => Fields(head, bytes).RemoveAll(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every field of that name removed, then the new one at the end (HAProxy's set-header).</summary>
    public void Set(HttpHead head, ReadOnlySpan<byte> bytes, string name, string value)
    {
        Delete(head, bytes, name);
        _fields!.Add((name, value));
    }

    public void Add(HttpHead head, ReadOnlySpan<byte> bytes, string name, string value) => Fields(head, bytes).Add((name, value));

    /// <summary>Writes the fields, edited or as received, each followed by CRLF.</summary>
    public void AppendFields(StringBuilder sb, HttpHead head, ReadOnlySpan<byte> bytes)
    {
        if (_fields is not null)
        {
            foreach (var (name, value) in _fields)
            {
                sb.Append(name).Append(": ").Append(value).Append("\r\n");
            }

            return;
        }

        foreach (var f in head.Fields)
        {
            sb.Append(Encoding.Latin1.GetString(f.Name(bytes))).Append(": ").Append(Encoding.Latin1.GetString(f.Value(bytes))).Append("\r\n");
        }
    }

    private List<(string Name, string Value)> Fields(HttpHead head, ReadOnlySpan<byte> bytes)
    {
        if (_fields is null)
        {
            _fields = new List<(string, string)>(head.FieldCount + 4);
            foreach (var f in head.Fields)
            {
                _fields.Add((Encoding.Latin1.GetString(f.Name(bytes)), Encoding.Latin1.GetString(f.Value(bytes))));
            }
        }

        return _fields;
    }
}
