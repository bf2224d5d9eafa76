-- Rule: milter_relay_check = no leaves relay to the MTA only when the MTA is
-- Postfix, whose reject_unauth_destination refuses strangers before a milter
-- is asked. Behind Sendmail (connect macro v is its bare version number, as
-- Sendmail 8.17 sends it) with FEATURE(promiscuous_relay), nothing would:
-- the milter judges relay itself, and a stranger is refused.
dofile(lib)
local conn = open("127.0.0.99", {"v", "8.17.1.9"})
mail(conn, "<stranger@example.net>")
expect(conn, SMFIR_CONTINUE, "mail unauthenticated")
rcpt(conn, "someone@example.org", "esmtp")
expect(conn, SMFIR_REPLYCODE, "stranger's relay behind Sendmail (want 554 5.7.1)")
rcpt(conn, "root@lab.test", "local")
expect(conn, SMFIR_CONTINUE, "local rcpt")
mt.disconnect(conn)
-- no v at all (an MTA that does not send it): judged too
conn = open("127.0.0.99")
mail(conn, "<stranger@example.net>")
expect(conn, SMFIR_CONTINUE, "mail unauthenticated")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_REPLYCODE, "stranger's relay, MTA unknown (want 554 5.7.1)")
mt.disconnect(conn)
