-- Rule: an authenticated user with their own envelope sender and From: may relay;
-- with someone else's, not (mail delivered only locally is not judged).
dofile(lib)
local conn = open("127.0.0.10")
mail(conn, "<alice@lab.test>", "alice@lab.test")
expect(conn, SMFIR_CONTINUE, "mail as alice")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_CONTINUE, "relay rcpt as alice")
header(conn, "Subject", "hello")
header(conn, "From", "Alice <alice@lab.test>")
eom(conn)
expect(conn, SMFIR_CONTINUE, "eom as alice")
-- a +tag on the envelope sender is the same owner
mail(conn, "<alice+lists@lab.test>", "alice@lab.test")
expect(conn, SMFIR_CONTINUE, "mail as alice with +tag")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_CONTINUE, "relay rcpt as alice with +tag")
header(conn, "From", "alice@lab.test")
eom(conn)
expect(conn, SMFIR_CONTINUE, "eom 2")
-- envelope sender not alice's: her relay is refused (554 5.7.1) ...
mail(conn, "<bob@lab.test>", "alice@lab.test")
expect(conn, SMFIR_CONTINUE, "mail as alice with bob's address")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_REPLYCODE, "relay rcpt as alice with bob's address (want 554 5.7.1)")
-- ... local delivery is the MTA's business: no sender rule applies
rcpt(conn, "bob@lab.test", "virtual")
expect(conn, SMFIR_CONTINUE, "local rcpt as alice with bob's address")
-- relayed to no one: accepted at DATA, its From: is not read
data(conn)
expect(conn, SMFIR_ACCEPT, "data of a local-only message with bob's address")
mt.disconnect(conn)
