using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace HaLua.ControlPlane;

/// <summary>
/// Every call but grpc.health.v1 needs the bearer token when one is configured; runtime operations'
/// <see cref="AdminException"/>s become the status they name.
/// </summary>
internal sealed class AdminInterceptor(AdminEndpointOptions options) : Interceptor
{
    private readonly byte[]? _expected = options.Token is null ? null : Encoding.UTF8.GetBytes("Bearer " + options.Token);

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (AdminException e)
        {
            throw new RpcException(new Status(e.Code, e.Message));
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException)
        {
            throw Internal(context, e);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (AdminException e)
        {
            throw new RpcException(new Status(e.Code, e.Message));
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException)
        {
            throw Internal(context, e);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        try
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        catch (AdminException e)
        {
            throw new RpcException(new Status(e.Code, e.Message));
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException)
        {
            throw Internal(context, e);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
        }
        catch (AdminException e)
        {
            throw new RpcException(new Status(e.Code, e.Message));
        }
        catch (Exception e) when (e is not RpcException and not OperationCanceledException)
        {
            throw Internal(context, e);
        }
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
