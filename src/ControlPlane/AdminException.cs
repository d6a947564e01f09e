using Grpc.Core;

namespace HaLua.ControlPlane;

/// <summary>A runtime operation that could not be done; the admin API answers it with <see cref="Code"/> and the message.</summary>
public sealed class AdminException(StatusCode code, string message) : Exception(message)
{
    public StatusCode Code { get; } = code;

    public static AdminException NotFound(string message) => new(StatusCode.NotFound, message);

    public static AdminException InvalidArgument(string message) => new(StatusCode.InvalidArgument, message);

    public static AdminException FailedPrecondition(string message) => new(StatusCode.FailedPrecondition, message);

    public static AdminException Unimplemented(string message) => new(StatusCode.Unimplemented, message);
}
