-- Rule: every address of a From: with several mailboxes, encoded words, quoted
-- local parts, comments, groups and folding must be the user's.
dofile(lib)
local conn = open("127.0.0.10")
local function message(from, want, label)
	mail(conn, "<alice@lab.test>", "alice@lab.test")
	expect(conn, SMFIR_CONTINUE, "mail " .. label)
	rcpt(conn, "someone@example.org", "smtp")
	expect(conn, SMFIR_CONTINUE, "rcpt " .. label)
	header(conn, "From", from)
	eom(conn)
	expect(conn, want, label)
end
-- alice owns alice@lab.test and @alice.example (see run.sh)
message("=?UTF-8?B?QWxpY2Ugw4lsaXNl?= <alice@lab.test>, \"Alice, at home\" <x@alice.example>",
	SMFIR_CONTINUE, "encoded name and quoted name with comma, both alice's")
message("Alice <alice@lab.test>,\r\n\tMallory <mallory@evil.example>", SMFIR_REPLYCODE,
	"folded list with a foreign second address")
message("alice@lab.test (Bob <bob@lab.test>)", SMFIR_CONTINUE,
	"address in a comment is not an address")
message("\"bob@lab.test\" <alice@lab.test>", SMFIR_CONTINUE,
	"address in a quoted display name is not an address")
message("team: alice@lab.test, bob@lab.test;", SMFIR_REPLYCODE, "group with a foreign member")
message("=?ISO-8859-1?Q?Bob_=3Cbob@lab.test=3E?= <alice@lab.test>", SMFIR_CONTINUE,
	"encoded word that looks like an address")
message("\"alice\"@lab.test", SMFIR_CONTINUE, "needless quotes on alice's local part")
message("alice@lab.test <", SMFIR_REPLYCODE, "unparseable From:")
mt.disconnect(conn)
