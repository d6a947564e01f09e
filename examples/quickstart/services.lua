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

-- The HAProxy Lua manual's HTTP hello world.
core.register_service("hello-world", "http", function(applet)
   local response = "Hello World !"
   applet:set_status(200)
   applet:add_header("content-length", string.len(response))
   applet:add_header("content-type", "text/plain")
   applet:start_response()
   applet:send(response)
end)

core.register_task(function()
   core.Info("quickstart loaded: hello on :10001, echo on :10002, TCP proxy on :10003, HTTP hello on :10004, HTTP proxy on :10005")
end)
