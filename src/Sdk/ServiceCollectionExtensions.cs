using Microsoft.Extensions.DependencyInjection;

namespace HaLua.Sdk;

public static class ServiceCollectionExtensions
{
    /// <summary>Registers one <see cref="HaLuaAdminClient"/> (a singleton: it owns a channel) configured by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddHaLuaAdminClient(this IServiceCollection services, Action<HaLuaAdminClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new HaLuaAdminClientOptions();
        configure(options);
        return services.AddSingleton(_ => new HaLuaAdminClient(options));
    }
}
