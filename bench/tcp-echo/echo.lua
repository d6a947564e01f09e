-- Lua TCP echo service: one line in, the same line out.
core.register_service("echo", "tcp", function(applet)
    while true do
        local line = applet:getline()
        if line == "" then break end
        applet:send(line)
    end
end)
