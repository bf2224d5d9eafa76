-- Rule: a client whose IP holds a live grant (POP/IMAP-before-SMTP) may relay.
dofile(lib)
local conn = open("127.0.0.20")
mail(conn, "<popuser@lab.test>")
expect(conn, SMFIR_CONTINUE, "mail")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_CONTINUE, "relay rcpt from granted ip")
-- not authenticated: no From: check, the message is accepted at DATA
data(conn)
expect(conn, SMFIR_ACCEPT, "data")
mt.disconnect(conn)
