namespace HaLua.DataPlane.Lua.Net;

/// <summary>
/// The C# object behind a Lua HTTPClient (<c>core.httpclient()</c>): runs one request at a time
/// without blocking a thread. The request belongs to the execution that started it: when that
/// execution ends (its stream died, the state stops), the request is cancelled.
/// </summary>
internal sealed class LuaHttpClient : ILuaWaitable, IDisposable
{
    private Task<HttpClientResponse>? _pending;
    private CancellationTokenSource? _cancel;
    private LuaExecution? _owner;

    public bool Busy => _pending is not null;

    public void Start(HttpClientRequest request, bool verifyCertificate, int worker, LuaExecution exec)
    {
        _cancel = new CancellationTokenSource();
        _pending = HttpClientExchange.RunAsync(request, verifyCertificate, worker, _cancel.Token);
        _owner = exec;
        exec.Track(this);
    }

    /// <summary>The response when the request is over, else null (and the execution waits for it).</summary>
    public HttpClientResponse? Poll(LuaExecution exec)
    {
        if (_pending is not { } pending)
        {
            return null;
        }

        if (!pending.IsCompleted)
        {
            exec.Waiter = this;
            return null;
        }

        Finish();

        // Only a bug could fail the exchange itself (its failures are responses): the script sees a 500.
        return pending.IsCompletedSuccessfully ? pending.Result : HttpClientResponse.Error(500);
    }

    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (_pending is { IsCompleted: false } pending)
        {
            try
            {
                await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // seen by Poll
            }
        }
    }

    private void Finish()
    {
        _pending = null;
        _cancel?.Dispose();
        _cancel = null;
        _owner?.Untrack(this);
        _owner = null;
    }

    public void Dispose()
    {
        if (_pending is null)
        {
            return;
        }

        _cancel?.Cancel();
        Finish();
    }
}
