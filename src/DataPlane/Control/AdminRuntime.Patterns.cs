using System.Globalization;
using HaLua.Admin.V1;
using HaLua.ControlPlane;
using HaLua.DataPlane.Maps;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Control;

internal sealed partial class AdminRuntime
{
    private readonly PatternAdmin _maps;
    private readonly PatternAdmin _acls;

    public IPatternAdmin Patterns(bool maps) => maps ? _maps : _acls;

    /// <summary>The maps or the ACL files of the shared pattern store (the same structures the converters, ACLs and Lua use).</summary>
    private sealed class PatternAdmin(AdminRuntime owner, bool maps) : IPatternAdmin
    {
        private string Kind => maps ? "map" : "ACL file";

        private PatternStore Store => owner.Generation.Samples.Patterns;

        public IReadOnlyList<PatternFile> List()
            => [.. Store.List().Where(r => r.IsMap == maps).Select(r => new PatternFile { Name = r.Name, Entries = r.Entries, Version = Store.Find(r.Name)!.Version })];

        public IReadOnlyList<Admin.V1.PatternEntry> Show(string name, long version)
        {
            var reference = Find(name);
            if (version == 0)
            {
                return [.. reference.Entries().Select(e => new Admin.V1.PatternEntry { Id = Id(e.Seq), Key = e.Key, Value = e.Value ?? "" })];
            }

            var entries = reference.PreparedEntries(version) ?? throw AdminException.NotFound($"no prepared version {version} of {Kind} '{name}'");
            return [.. entries.Select((e, i) => new Admin.V1.PatternEntry { Id = Id(i + 1), Key = e.Key, Value = e.Value ?? "" })];
        }

        public LookupResponse Lookup(string name, string key, string method, bool ignoreCase)
        {
            var reference = Find(name);
            if (!MatchMethods.TryParse(method.Length == 0 ? "str" : method, out var m))
            {
                throw AdminException.InvalidArgument($"unknown match method '{method}' (str, beg, end, sub, dir, dom, reg, ip, int...)");
            }

            PatternIndex index;
            try
            {
                index = reference.GetIndex(m, ignoreCase);
            }
            catch (FormatException ex)
            {
                throw AdminException.FailedPrecondition(ex.Message);
            }

            Sample sample;
            if (m == MatchMethod.Int)
            {
                sample = long.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n)
                    ? Sample.FromInt(n)
                    : throw AdminException.InvalidArgument($"'{key}' is not an integer");
            }
            else if (m == MatchMethod.Ip)
            {
                sample = System.Net.IPAddress.TryParse(key, out var ip) ? Sample.FromIp(ip) : throw AdminException.InvalidArgument($"'{key}' is not an IP address");
            }
            else
            {
                sample = Sample.FromString(key);
            }

            return index.Match(sample) is { } entry
                ? new LookupResponse { Found = true, Key = entry.Key, Value = entry.Value ?? "" }
                : new LookupResponse { Found = false };
        }

        // The edits go through the store's own (the same the Lua core.set_map family's reference calls use);
        // Find first refuses a map named through the ACL service and the other way round.
        public EditResponse Set(string name, string key, string value, bool persist)
            => Done(Find(name), Applied(Store.Set(name, key, value), name, key), persist);

        public EditResponse Add(string name, string key, string value, bool persist)
            => Done(Find(name), Applied(Store.Add(name, key, maps ? value : null), name, key), persist);

        public EditResponse Delete(string name, string key, bool persist)
            => Done(Find(name), Applied(Store.Delete(name, key), name, key), persist);

        public EditResponse Clear(string name, bool persist)
            => Done(Find(name), Applied(Store.Clear(name), name, ""), persist);

        /// <summary>How many entries an edit changed, or the admin API's error for why it could not.</summary>
        private int Applied(PatternEditResult result, string name, string key) => result.Status switch
        {
            PatternEditStatus.Done => result.Entries,
            PatternEditStatus.UnknownKey => throw AdminException.NotFound($"key '{key}' not found in {Kind} '{name}'"),
            PatternEditStatus.UnknownReference => throw AdminException.NotFound($"no {Kind} named '{name}'"),
            _ => throw AdminException.InvalidArgument(result.Message ?? "invalid entry"),
        };

        public long Prepare(string name) => Find(name).Prepare();

        public EditResponse AddToVersion(string name, long version, string key, string value)
        {
            var reference = Find(name);
            if (!reference.AddToVersion(version, key, maps ? value : null, out int count, out var error))
            {
                throw error!.StartsWith("unknown version", StringComparison.Ordinal) ? AdminException.NotFound(error) : AdminException.InvalidArgument(error);
            }

            return new EditResponse { Entries = count, Changed = 1 };
        }

        public EditResponse Commit(string name, long version, bool persist)
        {
            var reference = Find(name);
            if (!reference.Commit(version, out int count, out var error))
            {
                throw error!.StartsWith("unknown version", StringComparison.Ordinal) ? AdminException.NotFound(error) : AdminException.InvalidArgument(error);
            }

            return Done(reference, count, persist);
        }

        private PatternReference Find(string name)
        {
            var reference = Store.Find(name);
            if (reference is null || reference.IsMap != maps)
            {
                throw AdminException.NotFound($"no {Kind} named '{name}'");
            }

            return reference;
        }

        private EditResponse Done(PatternReference reference, int changed, bool persist)
        {
            if (persist)
            {
                try
                {
                    reference.Persist();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw new AdminException(Grpc.Core.StatusCode.Internal, $"the change is made but the file '{reference.Name}' could not be written: {ex.Message}");
                }
            }

            owner.Publish(maps ? "map" : "acl", reference.Name, "entries", "", reference.Count.ToString(CultureInfo.InvariantCulture), "changed by the admin API");
            return new EditResponse { Entries = reference.Count, Changed = changed };
        }

        /// <summary>HAProxy's entry reference as "show map" prints it.</summary>
        private static string Id(long seq) => "0x" + seq.ToString("x", CultureInfo.InvariantCulture);
    }
}
