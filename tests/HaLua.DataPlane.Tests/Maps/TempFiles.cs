using System.Text;

namespace HaLua.DataPlane.Tests.Maps;

/// <summary>A temporary folder of map and pattern files, deleted with the test class.</summary>
internal sealed class TempFiles : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("halua-maps-").FullName;

    /// <summary>The path of a file in the folder.</summary>
    public string this[string name] => Path.Combine(Dir, name);

    /// <summary>Writes a file (characters as bytes, Latin-1) and returns its path.</summary>
    public string Write(string name, string content)
    {
        File.WriteAllBytes(this[name], Encoding.Latin1.GetBytes(content));
        return this[name];
    }

    public void Dispose() => Directory.Delete(Dir, true);
}
