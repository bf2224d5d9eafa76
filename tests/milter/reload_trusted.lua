-- Rule: trusted_networks may relay; run.sh adds 127.0.0.10 and sends SIGUSR1 first.
dofile(lib)
local conn = open("127.0.0.10")
mail(conn, "<stranger@example.net>")
expect(conn, SMFIR_CONTINUE, "mail")
rcpt(conn, "someone@example.org", "smtp")
expect(conn, SMFIR_CONTINUE, "relay rcpt from a trusted network after reload")
mt.disconnect(conn)
