-- Rule: when the database cannot answer, relay gets a temporary failure, never a permit
-- (run.sh breaks the database before this script and repairs it after).
dofile(lib)
local conn = open("127.0.0.20")
mail(conn, "<popuser@lab.test>")
expect(conn, SMFIR_CONTINUE, "mail")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_REPLYCODE, "relay rcpt with the database broken (want 451 4.3.0)")
rcpt(conn, "alice@lab.test", "virtual")
expect(conn, SMFIR_CONTINUE, "local rcpt needs no database")
mt.disconnect(conn)
