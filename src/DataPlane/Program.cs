namespace HaLua.DataPlane;

internal static class Program
{
    public static int Main() => 0;
}
