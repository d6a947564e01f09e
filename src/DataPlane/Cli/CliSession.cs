using System.Buffers;
using System.Text;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Cli;

/// <summary>
/// One session of HAProxy's runtime text API, over a stats socket connection or an admin API
/// call. Non-interactive (HAProxy's default): the commands of a line (separated by <c>;</c>) run,
/// each answer followed by an empty line, and the session ends when no further line is already
/// there. After <c>prompt</c>: each answer is followed by an empty line and <c>"&gt; "</c>, until
/// <c>quit</c>, the end of the input or the idle timeout. A line ending in <c>&lt;&lt;</c> takes the
/// lines up to an empty one as the payload of its last command. Lua commands
/// (<c>core.register_cli</c>) read the lines that follow through their AppletTCP.
/// </summary>
internal sealed class CliSession
{
    /// <summary>A line longer than this ends the session (HAProxy's is a buffer, 16 kB).</summary>
    private const int MaxLine = 1 << 20;

    /// <summary>Output beyond this is sent while a command still produces it.</summary>
    private const int FlushAt = 16 * 1024;

    private readonly ICliTransport _transport;
    private readonly ArrayBufferWriter<byte> _out = new(FlushAt * 2);
    private readonly TimeSpan _idleTimeout;
    private byte[] _in = new byte[4096];
    private int _start;
    private int _end;

    /// <param name="idleTimeout">How long the session waits for a line (HAProxy's <c>stats timeout</c>, 10 s); infinite for the admin API.</param>
    public CliSession(DataPlaneHost host, ICliTransport transport, CliLevel level, TimeSpan idleTimeout)
    {
        Host = host;
        _transport = transport;
        Level = level;
        _idleTimeout = idleTimeout;
    }

    public DataPlaneHost Host { get; }

    /// <summary>The session's level; <c>operator</c> and <c>user</c> lower it.</summary>
    public CliLevel Level { get; set; }

    /// <summary>Interactive mode (<c>prompt</c>).</summary>
    public bool Prompt { get; set; }

    /// <summary>Set by <c>quit</c>: the session ends after the current command.</summary>
    public bool Quit { get; set; }

    public CancellationToken Cancellation { get; private set; }

    public ReadOnlySpan<byte> Input => _in.AsSpan(_start, _end - _start);

    public bool InputClosed { get; private set; }

    public void Consume(int n) => _start += n;

    /// <summary>No more input will be read (the peer left).</summary>
    public void CloseInput() => InputClosed = true;

    public void Write(string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        int n = Encoding.UTF8.GetBytes(text, _out.GetSpan(max));
        _out.Advance(n);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_out.GetSpan(bytes.Length));
        _out.Advance(bytes.Length);
    }

    /// <summary>Sends the output when a long answer has grown past a buffer's worth.</summary>
    public ValueTask FlushIfFullAsync() => _out.WrittenCount >= FlushAt ? FlushAsync() : ValueTask.CompletedTask;

    public async ValueTask FlushAsync()
    {
        if (_out.WrittenCount == 0)
        {
            return;
        }

        var data = _out.WrittenMemory;
        try
        {
            await _transport.SendAsync(data, Cancellation).ConfigureAwait(false);
        }
        finally
        {
            _out.ResetWrittenCount();
        }
    }

    public int PendingOutput => _out.WrittenCount;

    /// <summary>Serves the session until it ends; never throws for the peer's doing.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Cancellation = cancellationToken;
        try
        {
            while (!Quit)
            {
                string? line = await ReadLineAsync(true).ConfigureAwait(false);
                if (line is null)
                {
                    break;
                }

                string? payload = null;
                if (CliParser.HasPayloadMarker(line, out string head))
                {
                    payload = await ReadPayloadAsync().ConfigureAwait(false);
                    line = head;
                }

                foreach (string command in CliParser.SplitCommands(line))
                {
                    var args = CliParser.Words(command);
                    await CliDispatcher.ExecuteAsync(this, args, payload).ConfigureAwait(false);
                    if (Quit)
                    {
                        break;
                    }

                    Write(Prompt ? "\n> " : "\n");
                }

                await FlushAsync().ConfigureAwait(false);
                if (!Prompt && Input.IndexOf((byte)'\n') < 0)
                {
                    // HAProxy's non-interactive mode: the lines already sent are served, then it closes.
                    break;
                }
            }

            await FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The peer left, the idle timeout expired or halua stops.
        }
    }

    /// <summary>The next line without its end (CR LF or LF); null at the end of the input or after the idle timeout.</summary>
    private async ValueTask<string?> ReadLineAsync(bool idle)
    {
        while (true)
        {
            int nl = Input.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                var line = Input[..nl];
                if (line.Length > 0 && line[^1] == '\r')
                {
                    line = line[..^1];
                }

                string text = Encoding.UTF8.GetString(line);
                Consume(nl + 1);
                return text;
            }

            if (InputClosed)
            {
                if (Input.Length == 0)
                {
                    return null;
                }

                string rest = Encoding.UTF8.GetString(Input).TrimEnd('\r');
                Consume(Input.Length);
                return rest;
            }

            if (_end - _start >= MaxLine)
            {
                return null;
            }

            await ReceiveAsync(idle).ConfigureAwait(false);
        }
    }

    /// <summary>The payload lines up to an empty line (or the end of the input), each with its LF.</summary>
    private async ValueTask<string> ReadPayloadAsync()
    {
        var payload = new StringBuilder();
        while (await ReadLineAsync(true).ConfigureAwait(false) is { Length: > 0 } line)
        {
            payload.Append(line).Append('\n');
        }

        return payload.ToString();
    }

    /// <summary>Reads more input into the buffer.</summary>
    internal async ValueTask ReceiveAsync(bool idle)
    {
        if (InputClosed)
        {
            return;
        }

        if (_start > 0)
        {
            Buffer.BlockCopy(_in, _start, _in, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _in.Length)
        {
            Array.Resize(ref _in, _in.Length * 2);
        }

        int n;
        if (idle && _idleTimeout != Timeout.InfiniteTimeSpan)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
            timeout.CancelAfter(_idleTimeout);
            try
            {
                n = await _transport.ReceiveAsync(_in.AsMemory(_end), timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!Cancellation.IsCancellationRequested)
            {
                n = 0;
            }
        }
        else
        {
            n = await _transport.ReceiveAsync(_in.AsMemory(_end), Cancellation).ConfigureAwait(false);
        }

        if (n == 0)
        {
            InputClosed = true;
        }
        else
        {
            _end += n;
        }
    }
}
