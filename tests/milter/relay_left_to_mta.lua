-- Rule: with milter_relay_check = no the milter leaves relay to Postfix and
-- policyd (every recipient Postfix accepted goes on, no relay decision of
-- its own) and still checks an authenticated user's From: on relayed mail.
-- Only behind Postfix (connect macro v, as Postfix 3.7 sends it): see
-- relay_check_not_postfix.lua for any other MTA.
dofile(lib)
local postfix = {"v", "Postfix 3.7.11"}
-- 127.0.0.99 has no grant: the relay-deciding milter would say 554.
local conn = open("127.0.0.99", postfix)
mail(conn, "<stranger@example.net>")
expect(conn, SMFIR_CONTINUE, "mail unauthenticated")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_CONTINUE, "relayed rcpt left to the MTA")
data(conn)
expect(conn, SMFIR_ACCEPT, "data unauthenticated: no From: check")
mt.disconnect(conn)
-- alice, authenticated, relays with bob's From:: still 550 at end of message.
conn = open("127.0.0.10", postfix)
mail(conn, "<alice@lab.test>", "alice@lab.test", false, "HDR2")
expect(conn, SMFIR_CONTINUE, "mail as alice")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_CONTINUE, "relayed rcpt as alice")
header(conn, "From", "Bob <bob@lab.test>")
eom(conn)
expect(conn, SMFIR_REPLYCODE, "eom with bob's From: (want 550 5.7.1)")
mt.disconnect(conn)
