using System.Reflection;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Control;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane;

/// <summary>The <c>halua</c> command: HAProxy's command line, foreground only.</summary>
internal static class Program
{
    private const string Usage = """
        Usage: halua -f <cfgfile|cfgdir> [-f ...] [-c] [-d] [-db] [-q] [-v] [-V]
          -f FILE   load a configuration file (HAProxy syntax); may be repeated; a directory loads its *.cfg files
          -c        check the configuration and the Lua files, then exit (0 = valid, 1 = errors, all listed)
          -d        debug mode: foreground, Lua debug logs on stderr
          -db       foreground (HaLua always runs in the foreground; accepted for compatibility)
          -q        quiet: no notices on stderr
          -v, -vv   print the version and exit
          --help    this text
        Signals: SIGTERM/SIGINT stop gracefully (stop accepting, let streams finish up to hard-stop-after);
                 SIGHUP reloads the Lua files in place (hot reload: all or nothing, no connection dropped).
        """;

    public static int Main(string[] args)
    {
        // Socket completions run on the event thread, as HAProxy's event loop runs its streams:
        // measured here, this doubles a Lua echo service's round trips per second. Lua slices are
        // bounded (tune.lua.forced-yield) and nothing on the data path blocks. Set before any socket exists.
        if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
        {
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        }

        var files = new List<string>();
        bool check = false, debug = false, quiet = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "-f":
                    if (++i >= args.Length)
                    {
                        Console.Error.WriteLine("halua: -f needs a file name");
                        return 1;
                    }

                    AddConfigPath(files, args[i]);
                    break;
                case "-c":
                    check = true;
                    break;
                case "-d":
                    debug = true;
                    break;
                case "-db":
                case "-V":
                    break;
                case "-q":
                    quiet = true;
                    break;
                case "-v":
                case "-vv":
                case "--version":
                    Console.WriteLine($"HaLua version {Version} - a HAProxy-compatible Lua proxy data plane");
                    Console.WriteLine($"Running on: .NET {Environment.Version} {RuntimeInformation.OSDescription} {RuntimeInformation.ProcessArchitecture}");
                    Console.WriteLine("Built with Lua version : Lua 5.4");
                    return 0;
                case "-h":
                case "--help":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    Console.Error.WriteLine($"halua: unknown option '{args[i]}'");
                    Console.Error.WriteLine(Usage);
                    return 1;
            }
        }

        if (files.Count == 0)
        {
            Console.Error.WriteLine("halua: no configuration file (-f FILE)");
            Console.Error.WriteLine(Usage);
            return 1;
        }

        ProcessLog.Instance = new ProcessLog(debug, quiet);
        return check ? Check(files) : Run(files);
    }

    public static string Version => typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static void AddConfigPath(List<string> files, string path)
    {
        if (Directory.Exists(path))
        {
            files.AddRange(Directory.GetFiles(path, "*.cfg").Order(StringComparer.Ordinal));
        }
        else
        {
            files.Add(path);
        }
    }

    private static int Check(List<string> files)
    {
        var (generation, errors) = GenerationBuilder.Build(files);
        generation?.Dispose();
        foreach (var e in errors)
        {
            ProcessLog.Instance.Alert(e);
        }

        if (errors.Count > 0)
        {
            ProcessLog.Instance.Alert($"Fatal errors found in configuration ({errors.Count}).");
            return 1;
        }

        Console.WriteLine("Configuration file is valid");
        return 0;
    }

    private static int Run(List<string> files)
    {
        var (generation, errors) = GenerationBuilder.Build(files);
        if (generation is null || errors.Count > 0)
        {
            foreach (var e in errors)
            {
                ProcessLog.Instance.Alert(e);
            }

            ProcessLog.Instance.Alert($"Fatal errors found in configuration ({errors.Count}).");
            generation?.Dispose();
            return 1;
        }

        using var stop = new ManualResetEventSlim();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        var server = new DataPlaneHost(generation);
        // SIGHUP: Lua hot reload (HAProxy reloads the whole process on a signal; HaLua reloads the Lua files in place).
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
        {
            c.Cancel = true;
            ThreadPool.QueueUserWorkItem(_ => server.ReloadLua());
        });
        try
        {
            var startErrors = server.Start();
            if (startErrors.Count > 0)
            {
                foreach (var e in startErrors)
                {
                    ProcessLog.Instance.Alert(e);
                }

                server.StopAsync(TimeSpan.Zero).GetAwaiter().GetResult();
                return 1;
            }

            AdminApi? admin = null;
            var global = generation.Config.Global;
            try
            {
                admin = AdminApi.Start(global, server);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException or FormatException)
            {
                var lines = new[] { (global.AdminApi?.Location, "admin-api", global.AdminApi?.Endpoint), (global.Metrics?.Location, "metrics", global.Metrics?.Endpoint) }
                    .Where(x => x.Item1 is not null)
                    .Select(x => $"{x.Item1}: '{x.Item2}' on {x.Item3}");
                ProcessLog.Instance.Alert($"cannot start the admin/metrics endpoint ({string.Join(", ", lines)}): {ex.Message}");
                server.StopAsync(TimeSpan.Zero).GetAwaiter().GetResult();
                return 1;
            }

            var (statsSockets, socketErrors) = Cli.StatsSocket.StartAll(generation.Config.Global.StatsSockets, server);
            if (socketErrors.Count > 0)
            {
                foreach (var e in socketErrors)
                {
                    ProcessLog.Instance.Alert(e);
                }

                foreach (var socket in statsSockets)
                {
                    socket.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }

                admin?.DisposeAsync().AsTask().GetAwaiter().GetResult();
                server.StopAsync(TimeSpan.Zero).GetAwaiter().GetResult();
                return 1;
            }

            stop.Wait();
            ProcessLog.Instance.Notice("Stopping: no more new connections; waiting for the streams to finish.");
            foreach (var socket in statsSockets)
            {
                socket.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            admin?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            server.StopAsync(generation.Config.Global.HardStopAfter).GetAwaiter().GetResult();
        }
        finally
        {
            server.Dispose();
        }

        return 0;
    }
}
