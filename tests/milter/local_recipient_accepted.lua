-- Rule: a local recipient is accepted from anybody (no relay, no question).
dofile(lib)
local conn = open("127.0.0.10")
mail(conn, "<stranger@example.net>")
expect(conn, SMFIR_CONTINUE, "mail")
rcpt(conn, "alice@lab.test", "virtual")
expect(conn, SMFIR_CONTINUE, "local rcpt")
rcpt(conn, "root", "local")
expect(conn, SMFIR_CONTINUE, "local rcpt without domain")
-- nothing relayed: nothing to judge at the end of the message
data(conn)
expect(conn, SMFIR_ACCEPT, "data")
mt.disconnect(conn)
