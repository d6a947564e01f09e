using HaLua.Admin.V1;

namespace HaLua.Sdk;

public sealed partial class HaLuaAdminClient
{
    public async Task<IReadOnlyList<PatternFile>> ListMapsAsync(CancellationToken cancellationToken = default)
        => (await Maps.ListMapsAsync(new ListPatternFilesRequest(), Options(cancellationToken)).ConfigureAwait(false)).Files;

    /// <param name="version">0: the current entries; else a prepared version.</param>
    public async Task<IReadOnlyList<PatternEntry>> ShowMapAsync(string map, long version = 0, CancellationToken cancellationToken = default)
        => (await Maps.ShowMapAsync(new ShowPatternsRequest { Name = map, Version = version }, Options(cancellationToken)).ConfigureAwait(false)).Entries;

    /// <param name="method">str, beg, end, sub, dir, dom, reg, ip, int.</param>
    public async Task<LookupResponse> LookupMapAsync(string map, string key, string method = "str", bool ignoreCase = false, CancellationToken cancellationToken = default)
        => await Maps.LookupMapAsync(new LookupRequest { Name = map, Key = key, Method = method, IgnoreCase = ignoreCase }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<EditResponse> SetMapAsync(string map, string key, string value, bool persist = false, CancellationToken cancellationToken = default)
        => await Maps.SetMapEntryAsync(new SetEntryRequest { Name = map, Key = key, Value = value, Persist = persist }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<EditResponse> AddMapAsync(string map, string key, string value, bool persist = false, CancellationToken cancellationToken = default)
        => await Maps.AddMapEntryAsync(new AddEntryRequest { Name = map, Key = key, Value = value, Persist = persist }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<EditResponse> DeleteMapAsync(string map, string key, bool persist = false, CancellationToken cancellationToken = default)
        => await Maps.DeleteMapEntryAsync(new DeleteEntryRequest { Name = map, Key = key, Persist = persist }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<EditResponse> ClearMapAsync(string map, bool persist = false, CancellationToken cancellationToken = default)
        => await Maps.ClearMapAsync(new ClearRequest { Name = map, Persist = persist }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<long> PrepareMapAsync(string map, CancellationToken cancellationToken = default)
        => (await Maps.PrepareMapAsync(new PrepareRequest { Name = map }, Options(cancellationToken)).ConfigureAwait(false)).Version;

    public async Task<EditResponse> AddMapToVersionAsync(string map, long version, string key, string value, CancellationToken cancellationToken = default)
        => await Maps.AddMapEntryToVersionAsync(new AddEntryRequest { Name = map, Version = version, Key = key, Value = value }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<EditResponse> CommitMapAsync(string map, long version, bool persist = false, CancellationToken cancellationToken = default)
        => await Maps.CommitMapAsync(new CommitRequest { Name = map, Version = version, Persist = persist }, Options(cancellationToken)).ConfigureAwait(false);

    /// <summary>Replaces a map's entries atomically: prepare, fill, commit.</summary>
    public async Task<EditResponse> ReplaceMapAsync(string map, IEnumerable<KeyValuePair<string, string>> entries, bool persist = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        long version = await PrepareMapAsync(map, cancellationToken).ConfigureAwait(false);
        foreach (var (key, value) in entries)
        {
            await AddMapToVersionAsync(map, version, key, value, cancellationToken).ConfigureAwait(false);
        }

        return await CommitMapAsync(map, version, persist, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<PatternFile>> ListAclsAsync(CancellationToken cancellationToken = default)
        => (await Acls.ListAclsAsync(new ListPatternFilesRequest(), Options(cancellationToken)).ConfigureAwait(false)).Files;

    public async Task<IReadOnlyList<PatternEntry>> ShowAclAsync(string acl, long version = 0, CancellationToken cancellationToken = default)
        => (await Acls.ShowAclAsync(new ShowPatternsRequest { Name = acl, Version = version }, Options(cancellationToken)).ConfigureAwait(false)).Entries;

    public async Task<LookupResponse> LookupAclAsync(string acl, string key, string method = "str", bool ignoreCase = false, CancellationToken cancellationToken = default)
        => await Acls.LookupAclAsync(new LookupRequest { Name = acl, Key = key, Method = method, IgnoreCase = ignoreCase }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<EditResponse> AddAclAsync(string acl, string pattern, bool persist = false, CancellationToken cancellationToken = default)
        => await Acls.AddAclEntryAsync(new AddEntryRequest { Name = acl, Key = pattern, Persist = persist }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<EditResponse> DeleteAclAsync(string acl, string pattern, bool persist = false, CancellationToken cancellationToken = default)
        => await Acls.DeleteAclEntryAsync(new DeleteEntryRequest { Name = acl, Key = pattern, Persist = persist }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<EditResponse> ClearAclAsync(string acl, bool persist = false, CancellationToken cancellationToken = default)
        => await Acls.ClearAclAsync(new ClearRequest { Name = acl, Persist = persist }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<long> PrepareAclAsync(string acl, CancellationToken cancellationToken = default)
        => (await Acls.PrepareAclAsync(new PrepareRequest { Name = acl }, Options(cancellationToken)).ConfigureAwait(false)).Version;

    public async Task<EditResponse> AddAclToVersionAsync(string acl, long version, string pattern, CancellationToken cancellationToken = default)
        => await Acls.AddAclEntryToVersionAsync(new AddEntryRequest { Name = acl, Version = version, Key = pattern }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<EditResponse> CommitAclAsync(string acl, long version, bool persist = false, CancellationToken cancellationToken = default)
        => await Acls.CommitAclAsync(new CommitRequest { Name = acl, Version = version, Persist = persist }, Options(cancellationToken)).ConfigureAwait(false);
}
