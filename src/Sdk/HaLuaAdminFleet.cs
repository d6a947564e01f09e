namespace HaLua.Sdk;

/// <summary>The outcome of one operation on one data plane of a fleet.</summary>
public sealed record InstanceResult<T>(string Address, T? Value, Exception? Error)
{
    public bool Succeeded => Error is null;
}

/// <summary>
/// Several data planes driven together (e.g. every pod of a deployment): an operation runs on all
/// of them at once, and each instance's result or error is reported on its own; one failure does
/// not hide the others' results.
/// </summary>
public sealed class HaLuaAdminFleet : IDisposable
{
    public HaLuaAdminFleet(IEnumerable<HaLuaAdminClientOptions> instances)
    {
        ArgumentNullException.ThrowIfNull(instances);
        Clients = [.. instances.Select(o => new HaLuaAdminClient(o))];
        if (Clients.Count == 0)
        {
            throw new ArgumentException("a fleet needs at least one address", nameof(instances));
        }
    }

    public HaLuaAdminFleet(IEnumerable<string> addresses, string? token = null)
        : this(addresses.Select(a => new HaLuaAdminClientOptions { Address = a, Token = token }))
    {
    }

    public IReadOnlyList<HaLuaAdminClient> Clients { get; }

    /// <summary>Runs <paramref name="operation"/> on every instance concurrently; results in the order of the addresses.</summary>
    public async Task<IReadOnlyList<InstanceResult<T>>> RunAsync<T>(Func<HaLuaAdminClient, CancellationToken, Task<T>> operation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var tasks = Clients.Select(async c =>
        {
            try
            {
                return new InstanceResult<T>(c.Address, await operation(c, cancellationToken).ConfigureAwait(false), null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                return new InstanceResult<T>(c.Address, default, ex);
            }
        });
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var c in Clients)
        {
            c.Dispose();
        }
    }
}
