using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace HaLua.ControlPlane;

/// <summary>
/// Every call but grpc.health.v1 needs the bearer token when one is configured; runtime operations'
/// <see cref="AdminException"/>s become the status they name. Each call is counted by method and
/// status code (<c>halua_control_rpcs_total</c>), and each call that changes something is audited.
/// </summary>
internal sealed class AdminInterceptor(AdminEndpointOptions options) : Interceptor
{
    private readonly byte[]? _expected = options.Token is null ? null : Encoding.UTF8.GetBytes("Bearer " + options.Token);

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
        => RunAsync(context, request, () => continuation(request, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
        => RunAsync(context, request, async () =>
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
            return true;
        });

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
        => RunAsync(context, null, () => continuation(requestStream, context));

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
        => RunAsync(context, null, async () =>
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
            return true;
        });

    private async Task<T> RunAsync<T>(ServerCallContext context, object? request, Func<Task<T>> call)
    {
        var code = StatusCode.OK;
        string? detail = null;
        try
        {
            Authorize(context);
            return await call().ConfigureAwait(false);
        }
        catch (AdminException e)
        {
            (code, detail) = (e.Code, e.Message);
            throw new RpcException(new Status(e.Code, e.Message));
        }
        catch (RpcException e)
        {
            (code, detail) = (e.StatusCode, e.Status.Detail);
            throw;
        }
        catch (OperationCanceledException)
        {
            code = StatusCode.Cancelled;
            throw;
        }
        catch (Exception e)
        {
            (code, detail) = (StatusCode.Internal, e.Message);
            throw Internal(context, e);
        }
        finally
        {
            Completed(context, request, code, detail);
        }
    }

    private void Completed(ServerCallContext context, object? request, StatusCode code, string? detail)
    {
        ControlMetrics.Rpc(context.Method, code);
        if (options.AuditLog is not { } audit || !AdminAudit.IsChange(context.Method))
        {
            return;
        }

        var http = context.GetHttpContext();
        audit(new AdminAuditEntry(
            context.Method,
            context.Peer,
            _expected is null ? "none" : "token",
            http.Connection.ClientCertificate?.Subject,
            AdminAudit.Describe(request),
            code.ToString(),
            code == StatusCode.OK ? null : detail));
    }

    /// <summary>A bug, not a refusal: logged with its stack, answered INTERNAL with the message only.</summary>
    private RpcException Internal(ServerCallContext context, Exception e)
    {
        options.ErrorLog?.Invoke($"admin API: {context.Method} failed: {e}");
        return new RpcException(new Status(StatusCode.Internal, $"{context.Method} failed: {e.Message}"));
    }

    private void Authorize(ServerCallContext context)
    {
        if (_expected is null || context.Method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal))
        {
            return;
        }

        string? given = context.RequestHeaders.GetValue("authorization");
        if (given is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _expected))
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, given is null ? "a bearer token is required (authorization: Bearer <token>)" : "invalid bearer token"));
        }
    }
}
