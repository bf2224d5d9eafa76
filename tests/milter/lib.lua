-- lib.lua: helpers shared by the miltertest scripts of tests/milter/run.sh.
-- Globals set by run.sh with -D: socket (libmilter notation).
-- miltertest prints nothing for error(): every failure is echoed first.

function fail(msg)
	mt.echo("FAIL: " .. msg)
	error(msg)
end

local names = {
	[SMFIR_CONTINUE] = "continue", [SMFIR_ACCEPT] = "accept", [SMFIR_REJECT] = "reject",
	[SMFIR_TEMPFAIL] = "tempfail", [SMFIR_REPLYCODE] = "replycode", [SMFIR_DISCARD] = "discard",
}
local function name(r) return names[r] or tostring(r) end

-- expect(conn, want, what): the last reply must be want (an SMFIR_* constant)
function expect(conn, want, what)
	local got = mt.getreply(conn)
	if got ~= want then
		fail(what .. ": got " .. name(got) .. ", want " .. name(want))
	end
end

-- open(ip): a connection from a client at ip ("unspec" for none)
function open(ip, macros)
	local conn = mt.connect(socket, 40, 0.25)
	if conn == nil then fail("cannot connect to " .. socket) end
	if macros ~= nil then
		mt.macro(conn, SMFIC_CONNECT, table.unpack(macros))
	end
	-- a literal, never nil: nil makes miltertest resolve the name
	if mt.conninfo(conn, "client.test", ip) ~= nil then fail("conninfo " .. ip) end
	expect(conn, SMFIR_CONTINUE, "connect " .. ip)
	return conn
end

-- mail(conn, sender, user, tls, queue_id): MAIL FROM with the macros Postfix sends
function mail(conn, sender, user, tls, queue_id)
	local m = {}
	if queue_id ~= nil then
		table.insert(m, "i"); table.insert(m, queue_id)
	end
	if user ~= nil then
		table.insert(m, "{auth_authen}"); table.insert(m, user)
		table.insert(m, "{auth_type}"); table.insert(m, "PLAIN")
	end
	if tls then
		table.insert(m, "{tls_version}"); table.insert(m, "TLSv1.3")
		table.insert(m, "{cipher}"); table.insert(m, "TLS_AES_256_GCM_SHA384")
	end
	if #m > 0 then mt.macro(conn, SMFIC_MAIL, table.unpack(m)) end
	if mt.mailfrom(conn, sender) ~= nil then fail("mailfrom " .. sender) end
end

-- rcpt(conn, rcpt, mailer): RCPT TO with Postfix's {rcpt_mailer}
function rcpt(conn, recipient, mailer)
	mt.macro(conn, SMFIC_RCPT, "{rcpt_mailer}", mailer, "{rcpt_addr}", recipient)
	if mt.rcptto(conn, "<" .. recipient .. ">") ~= nil then fail("rcptto " .. recipient) end
end

-- from(conn, value): one From: header (headers are negotiated in: header check on)
function header(conn, hname, value)
	if mt.header(conn, hname, value) ~= nil then fail("header " .. hname) end
end

-- eom(conn): end of message. miltertest cannot send end-of-message macros:
-- a queue id ("i") is sent with MAIL instead (mail(..., queue_id)).
function eom(conn)
	if mt.eom(conn) ~= nil then fail("eom") end
end

-- data(conn): DATA, with Postfix's default DATA macro (the queue id)
function data(conn, queue_id)
	-- SMFIC_DATA ("T"): miltertest has no name for it
	if queue_id ~= nil then mt.macro(conn, 84, "i", queue_id) end
	if mt.data(conn) ~= nil then fail("data") end
end

-- abort(conn): what Postfix sends after every message (also an accepted one)
function abort(conn)
	if mt.abort(conn) ~= nil then fail("abort") end
end
