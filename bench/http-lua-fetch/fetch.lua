core.register_fetches("request-id", function(txn)
  return "id-" .. txn.sf:method()
end)

core.register_converters("tag", function(value)
  return value .. "-tagged"
end)

core.register_service("answer", "http", function(applet)
  local body = applet.headers["x-id"][0] .. "\n"
  applet:set_status(200)
  applet:add_header("content-length", string.len(body))
  applet:add_header("content-type", "text/plain")
  applet:start_response()
  applet:send(body)
end)
