# HaLua: multi-stage build. The runtime image runs `halua` as a non-root user on a config mounted
# at /etc/halua (haproxy.cfg plus its Lua files):
#   docker build -t halua .
#   docker run --rm -v /path/to/conf:/etc/halua:ro -p 8080:8080 halua
# As in HAProxy, relative lua-load paths are resolved from the working directory, /etc/halua.
# The quickstart (it binds 127.0.0.1, hence the host network):
#   docker run --rm --network host -v "$PWD:/etc/halua:ro" halua -f examples/quickstart/haproxy.cfg
# haluactl is in the image too: docker exec CONTAINER /opt/halua/haluactl/haluactl proxy list
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props .editorconfig HaLua.sln ./
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/DataPlane -c Release -o /app --nologo \
 && dotnet publish src/Sdk/Haluactl -c Release -o /app/haluactl --nologo

# The admin API runs on ASP.NET Core's Kestrel: the aspnet runtime image.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
RUN groupadd --system --gid 10001 halua \
 && useradd --system --uid 10001 --gid halua --home-dir /nonexistent --shell /usr/sbin/nologin halua \
 && mkdir -p /etc/halua
COPY --from=build /app /opt/halua
WORKDIR /etc/halua
USER 10001:10001
VOLUME ["/etc/halua"]
ENTRYPOINT ["/opt/halua/halua"]
CMD ["-f", "/etc/halua/haproxy.cfg"]
