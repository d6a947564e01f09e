-- HaLua prelude: HAProxy's Lua classes built over the raw C# functions.
-- C# never raises a Lua error nor yields (that would longjmp through managed frames): a raw
-- function returns ERR, message (raised here, at the caller's level) or YIELD (we yield here
-- to the scheduler, which resumes us when what the function waits for is ready).
local raw, ERR, YIELD, fetch_names, converter_names = ...

local error, yield, type, setmetatable, rawget, rawset, tostring, select =
      error, coroutine.yield, type, setmetatable, rawget, rawset, tostring, select
local tconcat, tinsert = table.concat, table.insert

local function chk(a, b, ...)
  if a == ERR then error(b, 2) end
  return a, b, ...
end

-- May fail.
local function wrap(f)
  return function(...) return chk(f(...)) end
end

-- Blocking, retried: the function returns YIELD until its result is ready.
local function wrap_block(f)
  return function(...)
    local a, b, c, d = f(...)
    while a == YIELD do
      yield()
      a, b, c, d = f(...)
    end
    if a == ERR then error(b, 2) end
    return a, b, c, d
  end
end

-- Blocking once: YIELD, results -> yield, then return the results.
local function wrap_wait(f)
  return function(...)
    local a, b, c, d = f(...)
    if a == YIELD then
      yield()
      return b, c, d
    end
    if a == ERR then error(b, 2) end
    return a, b, c, d
  end
end

local classes = {}
local function class(name)
  local methods = {}
  local mt = { __index = methods, __name = name, __metatable = name }
  classes[name] = mt
  return methods, mt
end

---------------------------------------------------------------------------------------------
-- core
---------------------------------------------------------------------------------------------
core = {
  emerg = 0, alert = 1, crit = 2, err = 3, warning = 4, notice = 5, info = 6, debug = 7,
}

local raw_log = raw.log
core.log = wrap(raw_log)
function core.Debug(msg) return chk(raw_log(7, msg)) end
function core.Info(msg) return chk(raw_log(6, msg)) end
function core.Warning(msg) return chk(raw_log(4, msg)) end
function core.Alert(msg) return chk(raw_log(1, msg)) end

core.register_service = wrap(raw.register_service)
core.register_action = wrap(raw.register_action)
core.register_fetches = wrap(raw.register_fetches)
core.register_converters = wrap(raw.register_converters)
core.register_init = wrap(raw.register_init)
core.register_task = wrap(raw.register_task)
core.register_cli = wrap(raw.register_cli)

core.msleep = wrap_wait(raw.msleep)
function core.sleep(s)
  local a, b = raw.sleep(s)
  if a == YIELD then yield() return end
  if a == ERR then error(b, 2) end
end

function core.yield()
  local a, b = raw.yield()
  if a == ERR then error(b, 2) end
  yield()
end

function core.done(...)
  local a, b = raw.done()
  if a == ERR then error(b, 2) end
  yield(...)
end

core.now = wrap(raw.now)
core.get_info = wrap(raw.get_info)
core.set_nice = wrap(raw.set_nice)
core.http_date = wrap(raw.http_date)
core.imf_date = wrap(raw.imf_date)
core.rfc850_date = wrap(raw.rfc850_date)
core.asctime_date = wrap(raw.asctime_date)
core.parse_addr = wrap(raw.parse_addr)
core.match_addr = wrap(raw.match_addr)
core.tokenize = wrap(raw.tokenize)

core.set_map = wrap(raw.set_map)
core.del_map = wrap(raw.del_map)
core.add_acl = wrap(raw.add_acl)
core.del_acl = wrap(raw.del_acl)

-- Concat: parts kept in a table, joined once by dump(): linear time.
local Concat, Concat_mt = class("Concat")
function core.concat()
  return setmetatable({ n = 0, parts = {} }, Concat_mt)
end
function Concat.add(c, s)
  local t = type(s)
  if t ~= "string" and t ~= "number" then
    error("Concat.add: bad argument #1 (string expected, got " .. t .. ")", 2)
  end
  local n = c.n + 1
  c.n = n
  c.parts[n] = s
end
function Concat.dump(c)
  return tconcat(c.parts, "", 1, c.n)
end

---------------------------------------------------------------------------------------------
-- Fetches / Converters: one method per registry entry (dots written as underscores).
---------------------------------------------------------------------------------------------
local Fetches = class("Fetches")
local Converters = class("Converters")
local raw_fetch, raw_convert = raw.fetch, raw.convert

local function sample_methods(names, rawf, methods, stringify)
  for id, name in ipairs(names) do
    local f
    if stringify then
      f = function(self, ...)
        local v = chk(rawf(self, id, ...))
        if v == nil then return "" end
        return tostring(v)
      end
    else
      f = function(self, ...) return chk(rawf(self, id, ...)) end
    end
    methods[name] = f
    local u = name:gsub("%.", "_"):gsub("-", "_")
    methods[u] = f
  end
end
sample_methods(fetch_names, raw_fetch, Fetches, false)
sample_methods(converter_names, raw_convert, Converters, false)
-- The string variants are separate classes so `sf`/`sc` always return strings.
local SFetches = class("SFetches")
local SConverters = class("SConverters")
sample_methods(fetch_names, raw_fetch, SFetches, true)
sample_methods(converter_names, raw_convert, SConverters, true)

---------------------------------------------------------------------------------------------
-- Map: a map file's index for one match method, shared with the configuration's converters.
---------------------------------------------------------------------------------------------
local MapMethods, Map_mt = class("Map")
Map = MapMethods
-- HAProxy's PAT_MATCH_* numbers; the names without "_" are the 1.8 spellings ("end" is a keyword).
for name, id in pairs({ found = 0, bool = 1, int = 2, ip = 3, len = 5, str = 6, beg = 7, sub = 8,
                        dir = 9, dom = 10, ["end"] = 11, reg = 12 }) do
  Map["_" .. name] = id
  Map[name] = id
end
local raw_map_new, raw_map_lookup = raw.map_new, raw.map_lookup
function Map.new(file, method)
  local h, e = raw_map_new(file, method)
  if h == ERR then error(e, 2) end
  return setmetatable({ [0] = h }, Map_mt)
end
Map.lookup = wrap(raw_map_lookup)
function Map.slookup(map, str)
  local v, e = raw_map_lookup(map, str)
  if v == ERR then error(e, 2) end
  if v == nil then return "" end
  return v
end

---------------------------------------------------------------------------------------------
-- act: what an action returns (HAProxy's enum act_return), and when a yielding one runs again.
---------------------------------------------------------------------------------------------
act = { CONTINUE = 0, STOP = 1, YIELD = 2, ERROR = 3, DONE = 4, DENY = 5, ABORT = 6, INVALID = 7 }
act.wake_time = wrap(raw.act_wake_time)

---------------------------------------------------------------------------------------------
-- Regex: PCRE syntax on .NET regexes (RegexClass), a match timeout, HAProxy's results.
---------------------------------------------------------------------------------------------
local RegexMethods, Regex_mt = class("Regex")
Regex = {}
do
  local raw_regex_new = raw.regex_new
  function Regex.new(pattern, case_sensitive)
    local ok, r = raw_regex_new(pattern, case_sensitive)
    if ok == ERR then error(r, 2) end
    if not ok then return false, r end
    return true, setmetatable({ [0] = r }, Regex_mt)
  end
  RegexMethods.exec = wrap(raw.regex_exec)
  RegexMethods.match = wrap(raw.regex_match)
  Regex.exec = RegexMethods.exec
  Regex.match = RegexMethods.match
end

---------------------------------------------------------------------------------------------
-- Channel (TCP mode; HTTP mode refuses raw writes as HAProxy 2.x does)
---------------------------------------------------------------------------------------------
local Channel = class("Channel")
Channel.dup = wrap_block(raw.channel_dup)
Channel.get = wrap_block(raw.channel_get)
Channel.getline = wrap_block(raw.channel_getline)
Channel.set = wrap(raw.channel_set)
Channel.append = wrap(raw.channel_append)
Channel.send = wrap_block(raw.channel_send)
Channel.get_in_len = wrap(raw.channel_get_in_len)
Channel.get_out_len = wrap(raw.channel_get_out_len)
Channel.get_in_length = Channel.get_in_len
Channel.get_out_length = Channel.get_out_len
Channel.forward = wrap(raw.channel_forward)
Channel.is_full = wrap(raw.channel_is_full)

---------------------------------------------------------------------------------------------
-- HTTP (txn.http): req_* in http-req actions, res_* in http-res actions
---------------------------------------------------------------------------------------------
local HTTP = class("HTTP")
do
  local get, add, set, del = raw.http_get_headers, raw.http_add_header, raw.http_set_header, raw.http_del_header
  local rep_h, rep_v = raw.http_rep_header, raw.http_rep_value
  function HTTP.req_get_headers(h) return chk(get(h, false)) end
  function HTTP.res_get_headers(h) return chk(get(h, true)) end
  function HTTP.req_add_header(h, n, v) return chk(add(h, false, n, v)) end
  function HTTP.res_add_header(h, n, v) return chk(add(h, true, n, v)) end
  function HTTP.req_set_header(h, n, v) return chk(set(h, false, n, v)) end
  function HTTP.res_set_header(h, n, v) return chk(set(h, true, n, v)) end
  function HTTP.req_del_header(h, n) return chk(del(h, false, n)) end
  function HTTP.res_del_header(h, n) return chk(del(h, true, n)) end
  function HTTP.req_rep_header(h, n, r, s) return chk(rep_h(h, false, n, r, s)) end
  function HTTP.res_rep_header(h, n, r, s) return chk(rep_h(h, true, n, r, s)) end
  function HTTP.req_rep_value(h, n, r, s) return chk(rep_v(h, false, n, r, s)) end
  function HTTP.res_rep_value(h, n, r, s) return chk(rep_v(h, true, n, r, s)) end
  HTTP.req_set_method = wrap(raw.http_set_method)
  HTTP.req_set_path = wrap(raw.http_set_path)
  HTTP.req_set_query = wrap(raw.http_set_query)
  HTTP.req_set_uri = wrap(raw.http_set_uri)
  HTTP.res_set_status = wrap(raw.http_set_status)
end

---------------------------------------------------------------------------------------------
-- TXN
---------------------------------------------------------------------------------------------
local TXN = class("TXN")
local raw_txn_log = raw.txn_log
TXN.log = wrap(raw_txn_log)
function TXN.deflog(txn, msg) return chk(raw_txn_log(txn, -1, msg)) end
function TXN.Debug(txn, msg) return chk(raw_txn_log(txn, 7, msg)) end
function TXN.Info(txn, msg) return chk(raw_txn_log(txn, 6, msg)) end
function TXN.Warning(txn, msg) return chk(raw_txn_log(txn, 4, msg)) end
function TXN.Alert(txn, msg) return chk(raw_txn_log(txn, 1, msg)) end
TXN.get_priv = wrap(raw.get_priv)
TXN.set_priv = wrap(raw.set_priv)
TXN.set_var = wrap(raw.set_var)
TXN.unset_var = wrap(raw.unset_var)
TXN.get_var = wrap(raw.get_var)
TXN.set_loglevel = wrap(raw.txn_set_loglevel)
TXN.set_tos = wrap(raw.txn_set_tos)
TXN.set_mark = wrap(raw.txn_set_mark)
function TXN.done(txn, reply)
  local a, b = raw.txn_done(txn, reply)
  if a == ERR then error(b, 2) end
  yield()
end

---------------------------------------------------------------------------------------------
-- Reply (HAProxy 2.2+): a plain table {status, reason, headers, body} with methods;
-- txn:done(reply) sends it from an HTTP action (ReplyClass builds the response).
---------------------------------------------------------------------------------------------
local Reply, Reply_mt = class("Reply")
do
  local raw_reason, tointeger, floor = raw.http_reason, math.tointeger, math.floor
  local function str(fn, n, v)
    local t = type(v)
    if t == "string" then return v end
    if t == "number" then return tostring(v) end
    error("Reply." .. fn .. ": bad argument #" .. n .. " (string expected, got " .. t .. ")", 3)
  end
  local function int(v) return tointeger(v) or floor(v) end
  function Reply.set_status(r, status, reason)
    if type(status) ~= "number" then
      error("Reply.set_status: bad argument #1 (number expected, got " .. type(status) .. ")", 2)
    end
    status = int(status)
    r.status = status
    if reason ~= nil then r.reason = str("set_status", 2, reason) else r.reason = chk(raw_reason(status)) end
  end
  function Reply.add_header(r, name, value)
    name, value = str("add_header", 1, name), str("add_header", 2, value)
    local h = r.headers
    if type(h) ~= "table" then h = {} r.headers = h end
    local l = h[name]
    if type(l) ~= "table" then
      l = (l ~= nil) and { l } or {}
      h[name] = l
    end
    l[#l + 1] = value
  end
  function Reply.del_header(r, name)
    name = str("del_header", 1, name)
    if type(r.headers) == "table" then r.headers[name] = nil end
  end
  function Reply.set_body(r, body) r.body = str("set_body", 1, body) end

  -- txn:reply([t]): status 200 and its reason unless t says otherwise; t's headers copied as lists.
  function TXN.reply(txn, t)
    local r = setmetatable({ status = 200, reason = "OK", headers = {} }, Reply_mt)
    if type(t) ~= "table" then return r end
    if type(t.status) == "number" and t.status ~= 0 then r:set_status(t.status) end
    if type(t.reason) == "string" then r.reason = t.reason end
    if type(t.body) == "string" then r.body = t.body end
    if type(t.headers) == "table" then
      for name, v in pairs(t.headers) do
        if type(name) == "string" or type(name) == "number" then
          if type(v) == "table" then
            for _, x in ipairs(v) do Reply.add_header(r, name, x) end
          elseif type(v) == "string" or type(v) == "number" then
            Reply.add_header(r, name, v)
          end
        end
      end
    end
    return r
  end
end

---------------------------------------------------------------------------------------------
-- AppletTCP
---------------------------------------------------------------------------------------------
local AppletTCP = class("AppletTCP")
AppletTCP.getline = wrap_block(raw.applet_tcp_getline)
AppletTCP.receive = wrap_block(raw.applet_tcp_receive)
AppletTCP.send = wrap_wait(raw.applet_tcp_send)
AppletTCP.get_priv = TXN.get_priv
AppletTCP.set_priv = TXN.set_priv
AppletTCP.set_var = TXN.set_var
AppletTCP.unset_var = TXN.unset_var
AppletTCP.get_var = TXN.get_var

---------------------------------------------------------------------------------------------
-- AppletHTTP
---------------------------------------------------------------------------------------------
local AppletHTTP = class("AppletHTTP")
AppletHTTP.set_status = wrap(raw.applet_http_set_status)
AppletHTTP.add_header = wrap(raw.applet_http_add_header)
AppletHTTP.start_response = wrap(raw.applet_http_start_response)
AppletHTTP.getline = wrap_block(raw.applet_http_getline)
AppletHTTP.receive = wrap_block(raw.applet_http_receive)
AppletHTTP.send = wrap_wait(raw.applet_http_send)
AppletHTTP.get_priv = TXN.get_priv
AppletHTTP.set_priv = TXN.set_priv
AppletHTTP.set_var = TXN.set_var
AppletHTTP.unset_var = TXN.unset_var
AppletHTTP.get_var = TXN.get_var

---------------------------------------------------------------------------------------------
-- Socket (core.tcp) and HTTPClient (core.httpclient): their waiting calls return YIELD while
-- the I/O is pending and are called again with again = true, which keeps the first call's
-- deadline (LuaSocket's timeout per operation).
---------------------------------------------------------------------------------------------
local Socket, Socket_mt = class("Socket")
local HTTPClient, HTTPClient_mt = class("HTTPClient")
do
  local function io(f)
    return function(s, a, b, c)
      local r1, r2, r3 = f(s, false, a, b, c)
      while r1 == YIELD do
        yield()
        r1, r2, r3 = f(s, true, a, b, c)
      end
      if r1 == ERR then error(r2, 2) end
      -- As many results as the call gives: data; nil, err; or nil, err, partial.
      if r3 ~= nil then return r1, r2, r3 end
      if r2 ~= nil then return r1, r2 end
      return r1
    end
  end
  local function new(f, mt)
    return function()
      local h, e = f()
      if h == ERR then error(e, 2) end
      return setmetatable({ [0] = h }, mt)
    end
  end
  core.tcp = new(raw.socket_new, Socket_mt)
  Socket.connect = io(raw.socket_connect)
  Socket.connect_ssl = io(raw.socket_connect_ssl)
  Socket.send = io(raw.socket_send)
  Socket.receive = io(raw.socket_receive)
  -- One result (settimeout, getpeername, getsockname) or none (close, setoption), as HAProxy.
  local function one(f)
    return function(...)
      local r, e = f(...)
      if r == ERR then error(e, 2) end
      return r
    end
  end
  local function none(f)
    return function(...)
      local r, e = f(...)
      if r == ERR then error(e, 2) end
    end
  end
  Socket.settimeout = one(raw.socket_settimeout)
  Socket.getpeername = one(raw.socket_getpeername)
  Socket.getsockname = one(raw.socket_getsockname)
  Socket.close = none(raw.socket_close)
  Socket.setoption = none(raw.socket_setoption)

  core.httpclient = new(raw.httpclient_new, HTTPClient_mt)
  local raw_request = raw.httpclient_request
  for _, m in ipairs({ "GET", "HEAD", "PUT", "POST", "DELETE" }) do
    HTTPClient[m:lower()] = function(hc, req)
      local r, e = raw_request(hc, false, m, req)
      while r == YIELD do
        yield()
        r, e = raw_request(hc, true, m, req)
      end
      if r == ERR then error(e, 2) end
      return r
    end
  end
end

-- Proxy, Server, Listener: live objects over the runtime (core.proxies, set after the body)
---------------------------------------------------------------------------------------------
local Proxy = class("Proxy")
do
  local op = raw.proxy_op
  function Proxy.pause(px) return chk(op(px, 1)) end
  function Proxy.resume(px) return chk(op(px, 2)) end
  function Proxy.stop(px) return chk(op(px, 3)) end
  function Proxy.shut_bcksess(px) return chk(op(px, 4)) end
  Proxy.get_cap = wrap(raw.proxy_get_cap)
  Proxy.get_mode = wrap(raw.proxy_get_mode)
  Proxy.get_stats = wrap(raw.proxy_get_stats)
end

local Server = class("Server")
do
  local op = raw.server_op
  for name, id in pairs({ set_ready = 1, set_drain = 2, set_maint = 3, check_enable = 4, check_disable = 5,
                          check_force_up = 6, check_force_nolb = 7, check_force_down = 8, agent_enable = 9,
                          agent_disable = 10, agent_force_up = 11, agent_force_down = 12, shut_sess = 13 }) do
    Server[name] = function(sv) return chk(op(sv, id)) end
  end
  Server.get_name = wrap(raw.server_get_name)
  Server.get_puid = wrap(raw.server_get_puid)
  Server.is_draining = wrap(raw.server_is_draining)
  Server.get_weight = wrap(raw.server_get_weight)
  Server.set_weight = wrap(raw.server_set_weight)
  Server.get_addr = wrap(raw.server_get_addr)
  Server.set_addr = wrap(raw.server_set_addr)
  Server.get_stats = wrap(raw.server_get_stats)
end

local Listener = class("Listener")
Listener.get_stats = wrap(raw.listener_get_stats)

---------------------------------------------------------------------------------------------
-- Lazy attributes: f, sf, c, sc (and a TXN's req, res, http) are made on first use, so an
-- object costs one table until a script reads them (what HAProxy makes eagerly, HaLua makes
-- when asked: the same objects, fewer allocations per request).
---------------------------------------------------------------------------------------------
do
  local function sample_maker(mt)
    return function(t) return setmetatable({ [0] = rawget(t, 0) }, mt) end
  end
  local samples = {
    f = sample_maker(classes.Fetches), sf = sample_maker(classes.SFetches),
    c = sample_maker(classes.Converters), sc = sample_maker(classes.SConverters),
  }
  local txn_channel, txn_http = raw.txn_channel, raw.txn_http
  local txn_makers = {
    f = samples.f, sf = samples.sf, c = samples.c, sc = samples.sc,
    req = function(t) return chk(txn_channel(t, true)) end,
    res = function(t) return chk(txn_channel(t, false)) end,
    http = function(t) return chk(txn_http(t)) end,
  }
  local function lazy(name, makers)
    local mt = classes[name]
    local methods = mt.__index
    mt.__index = function(t, k)
      local m = methods[k]
      if m ~= nil then return m end
      local make = makers[k]
      if make ~= nil then
        local v = make(t)
        rawset(t, k, v)
        return v
      end
    end
  end
  lazy("TXN", txn_makers)
  lazy("AppletTCP", samples)
  lazy("AppletHTTP", samples)
end

-- Raises an error at the next instruction of a coroutine (used to stop a timed-out script that
-- runs inside a user coroutine, where the scheduler cannot pre-empt it).
local dsethook = debug.sethook
local function kill_thread(co)
  dsethook(co, function() error("execution timeout", 0) end, "", 1)
end

-- User coroutines: the watchdog arms the count hook on the Lua thread that runs, so it must
-- know when a script's own coroutine runs (see LuaWatchdog). Same behaviour as Lua's own.
do
  local co_create, co_resume, co_close = coroutine.create, coroutine.resume, coroutine.close
  local raw_co_enter, raw_co_leave = raw.co_enter, raw.co_leave
  local function leave(...)
    raw_co_leave()
    return ...
  end
  coroutine.resume = function(co, ...)
    raw_co_enter(co)
    return leave(co_resume(co, ...))
  end
  local function wrapped_result(co, ok, ...)
    raw_co_leave()
    if ok then return ... end
    local e = ...
    co_close(co)
    if type(e) == "string" then error(e, 3) end
    error(e, 0)
  end
  coroutine.wrap = function(f)
    local co = co_create(f)
    return function(...)
      raw_co_enter(co)
      return wrapped_result(co, co_resume(co, ...))
    end
  end
end

-- Every table an object may need, in one place for C#.
return {
  classes = classes,
  kill_thread = kill_thread,
}
