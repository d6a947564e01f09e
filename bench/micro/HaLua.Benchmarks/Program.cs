using BenchmarkDotNet.Running;

namespace HaLua.Benchmarks;

/// <summary>
/// Micro-benchmarks of data-path pieces (the end-to-end comparisons with HAProxy are the scripts
/// in bench/). Run: dotnet run -c Release --project bench/micro/HaLua.Benchmarks -- --filter '*'
/// </summary>
internal static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
