-- Wireshark / tshark dissector for DHCP option 43 sent to vendor class
-- "MS-UC-Client" (Microsoft Lync Phone Edition phones), from provlab.
--
-- Wireshark shows this option as raw bytes. This script names the five
-- sub-options (UCIdentifier, URLScheme, WebServerFqdn, WebServerPort,
-- CertProvRelPath), shows the Certificate Provisioning URL the phone builds,
-- and raises expert infos for the known mistakes: the port sent as a 16-bit
-- integer (dnsmasq without quotes: 01 bb), a trailing 0xFF, sub-options cut
-- short (Cisco IOS cuts "option 43 hex" at 90 bytes), out of order, missing,
-- duplicated, non-ASCII, a path without "/", a wrong UC identifier.
--
-- Use:  tshark -X lua_script:tools/wireshark/ms-uc-client.lua -V -r capture.pcapng
-- or copy it to the personal Lua plugins folder (Help > About > Folders).
-- Filter fields: msucclient.*, e.g.  msucclient.web_server_port
--
-- How it decides: it registers on the DHCP dissector's "dhcp.vendor_info"
-- heuristic list (called with option 43's value). A reply rarely repeats option
-- 60, so a post-dissector remembers each request's vendor class by transaction
-- ID. Option 43 is decoded when the class is MS-UC-Client (from this packet or
-- the request); when no request was captured, when the value itself starts
-- like MS-UC-Client's (well-formed sub-options 1..5 whose sub-option 1 is
-- "MS-UC-Client").
-- Tested with tshark 4.0.

local msuc = Proto("msucclient", "MS-UC-Client vendor-specific information (Lync Phone Edition, DHCP option 43)")

local NAMES = {
  [1] = "UCIdentifier",
  [2] = "URLScheme",
  [3] = "WebServerFqdn",
  [4] = "WebServerPort",
  [5] = "CertProvRelPath",
  [0] = "Pad",
  [255] = "End",
}

local pf = {
  suboption = ProtoField.uint8("msucclient.suboption", "Sub-option", base.DEC, NAMES),
  length = ProtoField.uint8("msucclient.length", "Length", base.DEC),
  uc_identifier = ProtoField.string("msucclient.uc_identifier", "UCIdentifier"),
  url_scheme = ProtoField.string("msucclient.url_scheme", "URLScheme"),
  web_server_fqdn = ProtoField.string("msucclient.web_server_fqdn", "WebServerFqdn"),
  web_server_port = ProtoField.string("msucclient.web_server_port", "WebServerPort"),
  cert_prov_rel_path = ProtoField.string("msucclient.cert_prov_rel_path", "CertProvRelPath"),
  unknown = ProtoField.bytes("msucclient.unknown", "Unknown sub-option value"),
  end_marker = ProtoField.uint8("msucclient.end", "End marker", base.HEX),
  padding = ProtoField.bytes("msucclient.padding", "Padding"),
  trailing = ProtoField.bytes("msucclient.trailing", "Bytes after the end marker"),
  url = ProtoField.string("msucclient.cert_prov_url", "Certificate Provisioning URL"),
  vendor_class = ProtoField.string("msucclient.vendor_class", "Vendor class (from the request)"),
}
local VALUE_FIELD = { pf.uc_identifier, pf.url_scheme, pf.web_server_fqdn, pf.web_server_port, pf.cert_prov_rel_path }
msuc.fields = {
  pf.suboption, pf.length, pf.uc_identifier, pf.url_scheme, pf.web_server_fqdn, pf.web_server_port,
  pf.cert_prov_rel_path, pf.unknown, pf.end_marker, pf.padding, pf.trailing, pf.url, pf.vendor_class,
}

local ex = {
  truncated = ProtoExpert.new("msucclient.truncated", "Sub-option cut short", expert.group.MALFORMED, expert.severity.ERROR),
  port_binary = ProtoExpert.new("msucclient.port_binary", "WebServerPort is not ASCII digits", expert.group.PROTOCOL, expert.severity.ERROR),
  end_marker = ProtoExpert.new("msucclient.end_marker", "0xFF end marker inside option 43", expert.group.PROTOCOL, expert.severity.WARN),
  order = ProtoExpert.new("msucclient.order", "Sub-options not in ascending order 1..5", expert.group.SEQUENCE, expert.severity.WARN),
  missing = ProtoExpert.new("msucclient.missing", "Sub-option missing", expert.group.PROTOCOL, expert.severity.ERROR),
  duplicate = ProtoExpert.new("msucclient.duplicate", "Sub-option repeated", expert.group.PROTOCOL, expert.severity.WARN),
  non_ascii = ProtoExpert.new("msucclient.non_ascii", "Value is not printable ASCII", expert.group.PROTOCOL, expert.severity.ERROR),
  path = ProtoExpert.new("msucclient.path", "CertProvRelPath does not start with /", expert.group.PROTOCOL, expert.severity.ERROR),
  identifier = ProtoExpert.new("msucclient.identifier", "UCIdentifier is not exactly MS-UC-Client", expert.group.PROTOCOL, expert.severity.ERROR),
  scheme = ProtoExpert.new("msucclient.scheme", "URLScheme is not https", expert.group.PROTOCOL, expert.severity.WARN),
  guessed = ProtoExpert.new("msucclient.guessed", "Vendor class not in the capture: recognised by its content", expert.group.ASSUMPTION, expert.severity.CHAT),
  pad = ProtoExpert.new("msucclient.pad", "Pad bytes between sub-options", expert.group.PROTOCOL, expert.severity.WARN),
}
msuc.experts = {
  ex.truncated, ex.port_binary, ex.end_marker, ex.order, ex.missing, ex.duplicate, ex.non_ascii, ex.path,
  ex.identifier, ex.scheme, ex.guessed, ex.pad,
}

local f_xid = Field.new("dhcp.id")
local f_op = Field.new("dhcp.type")
local f_vendor_class = Field.new("dhcp.option.vendor_class_id")

-- Transaction ID -> option 60 of the request (frames are dissected in order on the first pass).
local class_by_xid = {}

local function first_value(field)
  local fi = field()
  if fi == nil then return nil end
  return fi.value
end

local function strip_nul(s)
  return (s:gsub("%z+$", ""))
end

local function is_printable(raw)
  return raw:find("[^\32-\126]") == nil
end

-- Control and non-ASCII bytes as \xNN, so a binary port shows as what it is.
local function escape(raw)
  return (raw:gsub("[^\32-\126]", function(c) return string.format("\\x%02x", c:byte()) end))
end

-- Walks code/length/value triples; returns a list of {code, offset, length, present} and how it ended.
local function walk(tvb)
  local subs, pos, n = {}, 0, tvb:len()
  while pos < n do
    local code = tvb(pos, 1):uint()
    if code == 0 then
      subs[#subs + 1] = { code = 0, offset = pos, length = 0, present = 0 }
      pos = pos + 1
    elseif code == 255 then
      return subs, "end", pos
    elseif pos + 1 >= n then
      subs[#subs + 1] = { code = code, offset = pos, length = nil, present = 0 }
      return subs, "cut", pos
    else
      local len = tvb(pos + 1, 1):uint()
      local present = math.min(len, n - pos - 2)
      subs[#subs + 1] = { code = code, offset = pos, length = len, present = present }
      if present < len then return subs, "cut", pos end
      pos = pos + 2 + len
    end
  end
  return subs, "done", pos
end

local function looks_like_ms_uc(tvb)
  local subs, how = walk(tvb)
  if how == "cut" or #subs == 0 then return false end
  local found = false
  for _, s in ipairs(subs) do
    if s.code ~= 0 and (s.code < 1 or s.code > 5) then return false end
    if s.code == 1 and s.length == 12 and tvb(s.offset + 2, 12):raw() == "MS-UC-Client" then found = true end
  end
  return found
end

local function dissect(tvb, pinfo, tree, vendor_class, guessed)
  local root = tree:add(msuc, tvb())
  if vendor_class ~= nil then root:add(pf.vendor_class, vendor_class):set_generated() end
  if guessed then root:add_proto_expert_info(ex.guessed) end
  local subs, how, stop = walk(tvb)
  local seen, last, values, order_flagged = {}, 0, {}, false
  for _, s in ipairs(subs) do
    if s.code == 0 then
      local item = root:add(pf.padding, tvb(s.offset, 1))
      item:add_proto_expert_info(ex.pad)
    else
      local name = NAMES[s.code] or "unknown"
      local span = 1 + (s.length and 1 or 0) + s.present
      local sub = root:add(tvb(s.offset, span), string.format("Sub-option %d: %s", s.code, name))
      sub:add(pf.suboption, tvb(s.offset, 1))
      if s.length ~= nil then sub:add(pf.length, tvb(s.offset + 1, 1)) end
      if s.present > 0 then
        local range = tvb(s.offset + 2, s.present)
        local raw = range:raw()
        local field = VALUE_FIELD[s.code]
        local item
        if field == nil then
          item = sub:add(pf.unknown, range)
        elseif is_printable(raw) then
          item = sub:add(field, range)
        else
          item = sub:add(field, range, escape(raw))
        end
        if s.code == 4 and s.present == 2 and not raw:find("^%d+$") then
          sub:append_text(string.format(": %s (%d as a 16-bit integer)", escape(raw), range:uint()))
        else
          sub:append_text(": " .. escape(raw))
        end
        if field ~= nil and s.present == s.length then values[s.code] = raw end
        if s.code == 4 and not raw:find("^%d+$") then
          if s.present == 2 then
            item:add_proto_expert_info(ex.port_binary, string.format("WebServerPort is %d sent as a 16-bit integer (%s), as dnsmasq does without quotes; the phone wants ASCII text such as \"443\" (34 34 33)", range:uint(), tostring(range:bytes())))
          else
            item:add_proto_expert_info(ex.port_binary)
          end
        elseif field ~= nil and s.code ~= 4 and not is_printable(raw) then
          item:add_proto_expert_info(ex.non_ascii)
        end
        if s.code == 1 and raw ~= "MS-UC-Client" then item:add_proto_expert_info(ex.identifier) end
        if s.code == 2 and raw ~= "https" then item:add_proto_expert_info(ex.scheme) end
        if s.code == 5 and raw:sub(1, 1) ~= "/" then item:add_proto_expert_info(ex.path) end
      end
      if s.length == nil or s.present < s.length then
        sub:add_proto_expert_info(ex.truncated, string.format("Sub-option %d declares %s bytes but only %d remain (option 43 is %d bytes%s)", s.code, s.length and tostring(s.length) or "a length", s.present, tvb:len(), tvb:len() == 90 and ": Cisco IOS cuts \"option 43 hex\" at 90 bytes, use \"option ext\"" or ""))
      end
      if seen[s.code] then sub:add_proto_expert_info(ex.duplicate) end
      if s.code >= 1 and s.code <= 5 then
        if s.code < last and not order_flagged then
          sub:add_proto_expert_info(ex.order, "Sub-options not in ascending order 1..5 (dnsmasq sends them reversed); the known-good form (DHCPUtil) is 1, 2, 3, 4, 5")
          order_flagged = true
        end
        last = s.code
      end
      seen[s.code] = true
    end
  end
  if how == "end" then
    local item = root:add(pf.end_marker, tvb(stop, 1))
    item:add_proto_expert_info(ex.end_marker, "0xFF end marker inside option 43 (dnsmasq appends one; DHCPUtil and Windows send none)")
    if stop + 1 < tvb:len() then root:add(pf.trailing, tvb(stop + 1)) end
  end
  local missing = {}
  for code = 1, 5 do
    if not seen[code] then missing[#missing + 1] = string.format("%d %s", code, NAMES[code]) end
  end
  if #missing > 0 then root:add_proto_expert_info(ex.missing, "Sub-option(s) missing: " .. table.concat(missing, ", ")) end
  if values[2] and values[3] and values[4] and values[5] then
    local url = escape(values[2] .. "://" .. values[3] .. ":" .. values[4] .. values[5])
    root:add(pf.url, url):set_generated()
    root:append_text(", " .. url)
  end
  return true
end

local function heuristic(tvb, pinfo, tree)
  if tvb:len() == 0 then return false end
  local own = first_value(f_vendor_class)
  local xid = first_value(f_xid)
  local class = own
  if class == nil and xid ~= nil then class = class_by_xid[tostring(xid)] end
  if class ~= nil then
    if strip_nul(class) ~= "MS-UC-Client" then return false end
    return dissect(tvb, pinfo, tree, own == nil and class or nil, false)
  end
  if looks_like_ms_uc(tvb) then return dissect(tvb, pinfo, tree, nil, true) end
  return false
end
msuc:register_heuristic("dhcp.vendor_info", heuristic)

-- Remembers the vendor class of every request by transaction ID.
local tracker = Proto("msucclient_track", "MS-UC-Client vendor class tracker")
function tracker.dissector(tvb, pinfo, tree)
  local op = first_value(f_op)
  local xid = first_value(f_xid)
  local class = first_value(f_vendor_class)
  if op == 1 and xid ~= nil and class ~= nil then class_by_xid[tostring(xid)] = class end
end
function tracker.init()
  class_by_xid = {}
end
register_postdissector(tracker)
