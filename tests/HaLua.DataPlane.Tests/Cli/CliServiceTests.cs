using System.Text;
using Google.Protobuf;
using Grpc.Core;
using HaLua.Admin.V1;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Cli;

/// <summary>CliService and ServerService.AddServer/DeleteServer through the SDK: the stats socket's engine behind the admin API.</summary>
public class CliServiceTests
{
    private static async Task<Dictionary<string, int>> SplitAsync(int port, int connections)
    {
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < connections; i++)
        {
            string name = await HaluaProcess.ExchangeAsync(port);
            counts[name] = counts.GetValueOrDefault(name) + 1;
        }

        return counts;
    }

    [Fact]
    public async Task Execute_GivesTheSocketsAnswer_StreamedAsProduced_AtAdminLevel()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);

        Assert.Equal("1 (initial 1)\n\n", await h.Client.ExecuteAsync("get weight app/a"));
        Assert.Equal("admin\n\n", await h.Client.ExecuteAsync("show cli level"));
        Assert.Equal("\n4 (initial 1)\n\n", await h.Client.ExecuteAsync("set weight app/a 4;get weight app/a"));
        Assert.StartsWith("The following commands are valid at this level:\n", await h.Client.ExecuteAsync("help"));
        Assert.StartsWith("Name: HaLua\n", await h.Client.ExecuteAsync("show info"));
        Assert.Equal("hi hello world grpc nil nil\n\n", await h.Client.ExecuteAsync("hello world grpc"));
        Assert.Equal("before\n\n", await h.Client.ExecuteAsync("fail"));

        // A Lua command that yields between its lines: its output comes in several messages.
        var chunks = new List<string>();
        await foreach (var chunk in h.Client.ExecuteStreamAsync("count 50"))
        {
            chunks.Add(Encoding.UTF8.GetString(chunk.Span));
        }

        Assert.Equal(string.Concat(Enumerable.Range(1, 50).Select(i => i + "\n")) + "\n", string.Concat(chunks));
        Assert.True(chunks.Count > 1, $"one chunk: {chunks.Count}");
    }

    [Fact]
    public async Task Interactive_FeedsTheInputToTheCommand_AndPromptRunsMore()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);

        using (var call = h.Client.Cli.Interactive())
        {
            await call.RequestStream.WriteAsync(new CliInput { Command = "echo" });
            await call.RequestStream.WriteAsync(new CliInput { Data = ByteString.CopyFromUtf8("from the caller\n") });
            await call.RequestStream.CompleteAsync();
            var output = new StringBuilder();
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                output.Append(call.ResponseStream.Current.Data.ToStringUtf8());
            }

            Assert.Equal("got [from the caller\n]\n\n", output.ToString());
        }

        using (var call = h.Client.Cli.Interactive())
        {
            await call.RequestStream.WriteAsync(new CliInput { Command = "prompt" });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal("\n> ", call.ResponseStream.Current.Data.ToStringUtf8());
            await call.RequestStream.WriteAsync(new CliInput { Data = ByteString.CopyFromUtf8("get weight app/b\n") });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal("1 (initial 1)\n\n> ", call.ResponseStream.Current.Data.ToStringUtf8());
            await call.RequestStream.WriteAsync(new CliInput { Data = ByteString.CopyFromUtf8("quit\n") });
            Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        }

        using (var call = h.Client.Cli.Interactive())
        {
            await call.RequestStream.WriteAsync(new CliInput { Data = ByteString.CopyFromUtf8("x") });
            var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        }
    }

    [Fact]
    public async Task AddServerAndDeleteServer_OverGrpc_TheNewServerTakesTraffic_ErrorsHaveTheirCodes()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var c = new TestServer("C");
        await using var h = await CliHost.StartAsync(a, b);
        int fe = h.Ports[0];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = await h.Client.WatchAsync(cts.Token);

        var added = await h.Client.AddServerAsync(new AddServerRequest { Backend = "app", Server = "c", Address = "127.0.0.1", Port = c.Port, Weight = 2, Enabled = true });
        Assert.Equal(("c", 3, 2, AdminState.Ready), (added.Name, added.Id, added.Weight, added.AdminState));
        await h.Client.SetAdminStateAsync("app", "a", AdminState.Maint);
        Assert.Equal(new Dictionary<string, int> { ["B"] = 2, ["C"] = 4 }, await SplitAsync(fe, 6));
        Assert.Contains(" c 127.0.0.1 2 0 2 2 ", await h.Client.ExecuteAsync("show servers state app"));
        Assert.Equal("a,b,c\n\n", await h.Client.ExecuteAsync("lua servers"));

        var maint = await h.Client.AddServerAsync(new AddServerRequest { Backend = "app", Server = "d", Address = "::1", Port = 1 });
        Assert.Equal(AdminState.Maint, maint.AdminState);

        var e = await Assert.ThrowsAsync<RpcException>(() => h.Client.AddServerAsync(new AddServerRequest { Backend = "app", Server = "c", Address = "127.0.0.1", Port = 1 }));
        Assert.Equal(StatusCode.AlreadyExists, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.AddServerAsync(new AddServerRequest { Backend = "nope", Server = "x", Address = "127.0.0.1", Port = 1 }));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.AddServerAsync(new AddServerRequest { Backend = "app", Server = "x", Address = "host.example", Port = 1 }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.AddServerAsync(new AddServerRequest { Backend = "app", Server = "x", Address = "127.0.0.1", Port = 1, Weight = 300 }));
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);

        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.DeleteServerAsync("app", "c"));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Contains("Only servers in maintenance mode can be deleted.", e.Status.Detail);
        await h.Client.SetAdminStateAsync("app", "c", AdminState.Maint);
        await h.Client.DeleteServerAsync("app", "c");
        await h.Client.DeleteServerAsync("app", "d");
        e = await Assert.ThrowsAsync<RpcException>(() => h.Client.DeleteServerAsync("app", "c"));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal(["a", "b"], (await h.Client.ListServersAsync("app")).Select(s => s.Name));

        // Watchers see servers come and go (with the changes between).
        var seen = new List<string>();
        await foreach (var ev in events)
        {
            if (ev.What == "server")
            {
                seen.Add($"{ev.Subject} {ev.NewValue}");
                if (seen.Count == 4)
                {
                    break;
                }
            }
        }

        Assert.Equal(["app/c present", "app/d present", "app/c ", "app/d "], seen);
        Assert.Equal(new Dictionary<string, int> { ["B"] = 3 }, await SplitAsync(fe, 3));
    }
}
