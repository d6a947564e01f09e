using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using HaLua.Admin.V1;

namespace HaLua.ControlPlane.Services;

internal sealed class CliApi(IAdminRuntime runtime) : CliService.CliServiceBase
{
    public override Task Execute(CliRequest request, IServerStreamWriter<CliOutput> responseStream, ServerCallContext context)
        => runtime.ExecuteCliAsync(request.Command, null, data => Write(responseStream, data), context.CancellationToken);

    public override async Task Interactive(IAsyncStreamReader<CliInput> requestStream, IServerStreamWriter<CliOutput> responseStream, ServerCallContext context)
    {
        if (!await requestStream.MoveNext(context.CancellationToken) || requestStream.Current.InputCase != CliInput.InputOneofCase.Command)
        {
            throw AdminException.InvalidArgument("the first message must carry the command");
        }

        string command = requestStream.Current.Command;
        await runtime.ExecuteCliAsync(command, ReadInput(requestStream, context.CancellationToken), data => Write(responseStream, data), context.CancellationToken);
    }

    private static Task Write(IServerStreamWriter<CliOutput> stream, ReadOnlyMemory<byte> data)
        => stream.WriteAsync(new CliOutput { Data = UnsafeByteOperations.UnsafeWrap(data.ToArray()) });

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadInput(IAsyncStreamReader<CliInput> stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await stream.MoveNext(cancellationToken))
        {
            var input = stream.Current;
            if (input.InputCase == CliInput.InputOneofCase.Data)
            {
                yield return input.Data.Memory;
            }
            else if (input.InputCase == CliInput.InputOneofCase.Command)
            {
                throw AdminException.InvalidArgument("only the first message may carry a command");
            }
        }
    }
}
