-- Rule (lib/frontend.h): a SASL name or sender too long for its field is
-- never cut and never judged: no opinion (bad_request), which the milter,
-- with nothing behind it, answers 554 5.7.1 like policyd's DUNNO is
-- answered by reject_unauth_destination. A local recipient still passes.
dofile(lib)
local conn = open("127.0.0.20")
mail(conn, "<alice@lab.test>", string.rep("u", 300))
expect(conn, SMFIR_CONTINUE, "mail with a 300-byte SASL name")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_REPLYCODE, "relay rcpt with a 300-byte SASL name (want 554 5.7.1)")
rcpt(conn, "alice@lab.test", "virtual")
expect(conn, SMFIR_CONTINUE, "local rcpt with a 300-byte SASL name")
mt.disconnect(conn)
conn = open("127.0.0.20")
mail(conn, "<" .. string.rep("s", 400) .. "@lab.test>", nil)
expect(conn, SMFIR_CONTINUE, "mail with a 410-byte sender")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_REPLYCODE, "relay rcpt with a 410-byte sender, granted IP (want 554 5.7.1)")
mt.disconnect(conn)
