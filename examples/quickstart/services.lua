-- Services of the quickstart example (HAProxy Lua API, runs unchanged on HAProxy).

core.register_service("hello_world", "tcp", function(applet)
   applet:send("hello world\n")
end)

-- A tcp-request action: logs each new connection with the client's address.
core.register_action("greet", { "tcp-req" }, function(txn)
   txn:Info("new echo client from " .. tostring(txn.f:src()))
end)

core.register_service("echo", "tcp", function(applet)
   while true do
      local line = applet:getline()
      if line == "" then break end
      applet:send(line)
   end
end)

core.register_task(function()
   core.Info("quickstart loaded: hello on :10001, echo on :10002, proxy on :10003")
end)
