// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: capabilities without any eBPF policy (docs/abi.md
 * "Capabilities"). An unclaimed pCID is open; claim gives the claimer all
 * rights and closes the pCID to everyone else (EACCES, nothing delivered);
 * grant mints 32-byte tokens for the same or fewer rights; redeem gives
 * them to another endpoint, also in another, unprivileged process that got
 * the token in a frame body; revoke takes them back at once, cascading to
 * derived tokens; tokens expire; forged and truncated tokens fail; the
 * claim ends when its endpoint closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgtest.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int t_claim(const void *arg)
{
	struct pgt_reply r = { 0 };
	struct pgt_buf args = { 0 };
	struct pgt_ep a, b;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "caps claim");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	/* open before the claim: b may receive */
	CHECK_EQ(pgt_receive(&b, &c, NULL, false), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	pgt_args_pcid(&args, &c, NULL, false);
	CHECK_ERR(pgt_request(&b, 5, PG_VERB_CLAIM, &args, &r), EEXIST);
	CHECK(pgt_reply_failed(&r, EEXIST, PG_OUTCOME_NOT_PROMISED));
	CHECK_ERR(pgt_claim(&a, &pgt_cid_control), EPERM);
	return PGT_PASS;
}

static int t_claimed_closed(const void *arg)
{
	struct pgt_reply r = { 0 };
	struct pgt_buf args = { 0 };
	struct pgt_ep a, b;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "caps claimed is closed");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	/* A refusal comes first: b cannot learn whether anyone receives. */
	CHECK_ERR(pgt_send_msg(&b, &c, 0), EACCES);
	CHECK_ERR(pgt_send_msg(&a, &c, 0), EHOSTUNREACH);
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);
	/* b holds nothing: no receive, no send, nothing delivered */
	pgt_args_pcid(&args, &c, NULL, false);
	CHECK_ERR(pgt_request(&b, 7, PG_VERB_RECEIVE, &args, &r), EACCES);
	CHECK(pgt_reply_failed(&r, EACCES, PG_OUTCOME_NOT_PROMISED));
	CHECK_ERR(pgt_send_msg(&b, &c, 1), EACCES);
	CHECK(pgt_empty(&a));
	/* the claimer may do both */
	CHECK(pgt_send_msg(&a, &c, 2) > 0);
	CHECK(pgt_expect_msg(&a, &c, 2) == 0);
	return PGT_PASS;
}

static int t_grant_redeem(const void *arg)
{
	struct pgt_ep a, b, c2;
	struct pgt_token send, more;
	struct pgt_cid c;
	uint64_t aid;

	(void)arg;
	pgt_cid_named(&c, "caps grant redeem");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_open(&c2, 0), 0);
	CHECK_EQ(pgt_hello(&a, &aid), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);
	CHECK_EQ(pgt_accept_carry(&a, true), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, 0, &send), 0);
	CHECK_EQ(pgt_redeem(&b, &send), 0);
	/* b may send now, and only send */
	CHECK(pgt_send_msg(&b, &c, 3) > 0);
	CHECK(pgt_expect_msg(&a, &c, 3) == 0);
	CHECK_ERR(pgt_receive(&b, &c, NULL, false), EACCES);
	/* a holder of send alone can grant nothing */
	CHECK_ERR(pgt_grant(&b, &c, PG_RIGHT_SEND, 0, &more), EACCES);
	/* carrying a frame of the pCID is a send too */
	{
		struct pgt_buf f = { 0 };

		pgt_frame_msg(&f, &c, 4);
		CHECK_ERR(pgt_carry(&c2, aid, &f), EACCES);
		CHECK_EQ(pgt_carry(&b, aid, &f), 0);
		CHECK(pgt_expect(&a, &f) == 0);
	}
	/* redeeming twice changes nothing */
	CHECK_EQ(pgt_redeem(&b, &send), 0);
	return PGT_PASS;
}

static int t_grant_limits(const void *arg)
{
	struct pgt_ep a, b;
	struct pgt_token t, u;
	struct pgt_cid c, open;

	(void)arg;
	pgt_cid_named(&c, "caps grant limits");
	pgt_cid_named(&open, "caps grant limits unclaimed");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_ERR(pgt_grant(&a, &open, 0, 0, &t), ENOENT);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_ERR(pgt_grant(&b, &c, 0, 0, &t), EACCES);
	/* send and grant: b may pass on send, not receive */
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND | PG_RIGHT_GRANT, 0, &t), 0);
	CHECK_EQ(pgt_redeem(&b, &t), 0);
	CHECK_ERR(pgt_grant(&b, &c, PG_RIGHT_RECEIVE, 0, &u), EACCES);
	CHECK_EQ(pgt_grant(&b, &c, PG_RIGHT_SEND, 0, &u), 0);
	return PGT_PASS;
}

static int t_revoke_cascade(const void *arg)
{
	struct pgt_token t1, t2, t3;
	struct pgt_ep a, b, d, e;
	uint64_t tokens, holders;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "caps revoke cascade");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_open(&d, 0), 0);
	CHECK_EQ(pgt_open(&e, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);
	/* a -> t1 (send, grant) -> b -> t2 (send, grant) -> d -> t3 -> e */
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND | PG_RIGHT_GRANT, 0, &t1), 0);
	CHECK_EQ(pgt_redeem(&b, &t1), 0);
	CHECK_EQ(pgt_grant(&b, &c, 0, 0, &t2), 0);
	CHECK_EQ(pgt_redeem(&d, &t2), 0);
	CHECK_EQ(pgt_grant(&d, &c, PG_RIGHT_SEND, 0, &t3), 0);
	CHECK_EQ(pgt_redeem(&e, &t3), 0);
	CHECK(pgt_send_msg(&e, &c, 1) > 0);
	CHECK(pgt_expect_msg(&a, &c, 1) == 0);
	/* a mere holder may not revoke */
	CHECK_ERR(pgt_revoke(&e, &t2, &tokens, &holders), EACCES);
	/* the claimer revokes the root: all three, all three redemptions */
	CHECK_EQ(pgt_revoke(&a, &t1, &tokens, &holders), 0);
	CHECK_EQ(tokens, 3);
	CHECK_EQ(holders, 3);
	CHECK_ERR(pgt_send_msg(&b, &c, 2), EACCES);
	CHECK_ERR(pgt_send_msg(&d, &c, 3), EACCES);
	CHECK_ERR(pgt_send_msg(&e, &c, 4), EACCES);
	CHECK(pgt_empty(&a));
	/* revoked tokens are not tokens any more */
	CHECK_ERR(pgt_redeem(&e, &t3), EACCES);
	CHECK_ERR(pgt_revoke(&a, &t1, &tokens, &holders), EACCES);
	return PGT_PASS;
}

static int t_revoke_by_minter(const void *arg)
{
	uint64_t tokens, holders;
	struct pgt_ep a, b, d;
	struct pgt_token t1, t2;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "caps revoke by minter");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_open(&d, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHTS_ALL, 0, &t1), 0);
	CHECK_EQ(pgt_redeem(&b, &t1), 0);
	CHECK_EQ(pgt_grant(&b, &c, PG_RIGHT_RECEIVE, 0, &t2), 0);
	CHECK_EQ(pgt_redeem(&d, &t2), 0);
	CHECK_EQ(pgt_receive(&d, &c, NULL, false), 0);
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);
	/* b minted t2: b may revoke it; b keeps its own rights */
	CHECK_EQ(pgt_revoke(&b, &t2, &tokens, &holders), 0);
	CHECK_EQ(tokens, 1);
	CHECK_EQ(holders, 1);
	CHECK(pgt_send_msg(&b, &c, 1) > 0);
	CHECK(pgt_expect_msg(&a, &c, 1) == 0);
	/* d's receive stays registered but gets nothing, and no new one */
	CHECK(pgt_empty(&d));
	CHECK_ERR(pgt_receive(&d, &c, "g", false), EACCES);
	return PGT_PASS;
}

static int t_expiry(const void *arg)
{
	struct pgt_ep a, b, d;
	struct pgt_token t;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "caps expiry");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_open(&d, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, PGT_TOKEN_TTL_MS, &t), 0);
	CHECK_EQ(pgt_redeem(&b, &t), 0);
	CHECK(pgt_send_msg(&b, &c, 1) > 0);
	CHECK(pgt_expect_msg(&a, &c, 1) == 0);
	sleep_ms(PGT_TOKEN_TTL_MS + 600);
	CHECK_ERR(pgt_send_msg(&b, &c, 2), EACCES);
	CHECK_ERR(pgt_redeem(&d, &t), EACCES);
	CHECK(pgt_empty(&a));
	return PGT_PASS;
}

static int t_bad_tokens(const void *arg)
{
	struct pgt_reply r = { 0 };
	struct pgt_token t, bad;
	struct pgt_ep a, b;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "caps bad tokens");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, 0, &t), 0);
	/* one bit of the secret, one bit of the index */
	bad = t;
	bad.b[PG_TOKEN_LEN - 1] ^= 1;
	CHECK_ERR(pgt_token_request(&b, PG_VERB_REDEEM, &bad, &r), EACCES);
	CHECK(pgt_reply_failed(&r, EACCES, PG_OUTCOME_NOT_PROMISED));
	bad = t;
	bad.b[0] ^= 0x80;
	CHECK_ERR(pgt_redeem(&b, &bad), EACCES);
	bad = t;
	bad.len = PG_TOKEN_LEN - 1;
	CHECK_ERR(pgt_token_request(&b, PG_VERB_REDEEM, &bad, &r), EINVAL);
	CHECK(pgt_reply_failed(&r, EINVAL, PG_OUTCOME_MALFORMED));
	CHECK_ERR(pgt_send_msg(&b, &c, 1), EACCES);
	/* the real one still works */
	CHECK_EQ(pgt_redeem(&b, &t), 0);
	return PGT_PASS;
}

/*
 * Delegation across processes and users: the token travels in a frame
 * body on an open pCID to a child running as nobody, which redeems it.
 */
static int t_delegation(const void *arg)
{
	struct pgt_cid c, mail;
	struct pgt_buf f = { 0 };
	struct pgt_ep a;
	struct pgt_token t;
	ssize_t sent;
	int status;
	pid_t pid;

	(void)arg;
	pgt_cid_named(&c, "caps delegation");
	pgt_cid_named(&mail, "caps delegation mailbox");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_EQ(pgt_receive(&a, &c, NULL, false), 0);

	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct pgt_frame fr;
		struct pgt_cb_item body;
		struct pgt_buf in = { 0 };
		struct pgt_token got;
		struct pgt_ep k;

		if (setgid(65534) || setuid(65534) || pgt_open(&k, 0) ||
		    pgt_receive(&k, &mail, NULL, false))
			_exit(10);
		/* before the token: refused */
		if (pgt_send_msg(&k, &c, 1) != -EACCES)
			_exit(11);
		/* the parent's probes come first; the token is bytes */
		do {
			pgt_buf_reset(&in);
			if (pgt_recv(&k, &in, PGT_WAIT_MS) <= 0 ||
			    pgt_frame_parse(in.p, in.len, &fr) ||
			    pgt_frame_slot(&fr, 1, &body))
				_exit(12);
		} while (body.major != 2);
		if (body.arg != PG_TOKEN_LEN)
			_exit(15);
		memcpy(got.b, body.p + body.hlen, PG_TOKEN_LEN);
		got.len = PG_TOKEN_LEN;
		if (pgt_redeem(&k, &got))
			_exit(13);
		_exit(pgt_send_msg(&k, &c, 2) > 0 ? 0 : 14);
	}
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, 0, &t), 0);
	/* probe until the child receives on the mailbox, then post */
	for (int i = 0; i < 200 && pgt_send_msg(&a, &mail, 0) == -EHOSTUNREACH; i++)
		sleep_ms(20);
	pgt_frame_begin(&f, &mail, 1);
	pgt_cb_bytes(&f, t.b, PG_TOKEN_LEN);
	sent = pgt_send(&a, &f);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		pgt_diag("child status %#x", status);
		return PGT_FAIL;
	}
	CHECK_EQ(sent, f.len);
	CHECK(pgt_expect_msg(&a, &c, 2) == 0);
	return PGT_PASS;
}

static int t_claim_ends(const void *arg)
{
	struct pgt_cid c;
	struct pgt_ep a, b;
	struct pgt_token t;

	(void)arg;
	pgt_cid_named(&c, "caps claim ends");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, 0, &t), 0);
	CHECK_ERR(pgt_receive(&b, &c, NULL, false), EACCES);
	pgt_close(&a);
	/* open again for everyone, and the token died with the claim */
	CHECK_EQ(pgt_receive(&b, &c, NULL, false), 0);
	CHECK(pgt_send_msg(&b, &c, 1) > 0);
	CHECK(pgt_expect_msg(&b, &c, 1) == 0);
	CHECK_ERR(pgt_redeem(&b, &t), EACCES);
	CHECK_EQ(pgt_claim(&b, &c), 0);
	return PGT_PASS;
}

static int t_stats(const void *arg)
{
	uint64_t d0 = 0, d1 = 0, claims = 0, tokens = 0;
	struct pgt_cb_item mod, ep;
	struct pgt_reply r = { 0 };
	struct pgt_ep a, b;
	struct pgt_token t;
	struct pgt_cid c;

	(void)arg;
	pgt_cid_named(&c, "caps stats");
	CHECK_EQ(pgt_open(&a, 0), 0);
	CHECK_EQ(pgt_open(&b, 0), 0);
	CHECK_EQ(pgt_stats(&a, &r, &mod, &ep), 0);
	CHECK_EQ(pgt_cb_map_uint(&mod, "denied", &d0), 0);
	CHECK_EQ(pgt_claim(&a, &c), 0);
	CHECK_EQ(pgt_grant(&a, &c, PG_RIGHT_SEND, 0, &t), 0);
	CHECK_ERR(pgt_send_msg(&b, &c, 1), EACCES);
	CHECK_EQ(pgt_stats(&a, &r, &mod, &ep), 0);
	CHECK_EQ(pgt_cb_map_uint(&mod, "denied", &d1), 0);
	CHECK_EQ(pgt_cb_map_uint(&mod, "claims", &claims), 0);
	CHECK_EQ(pgt_cb_map_uint(&mod, "tokens", &tokens), 0);
	CHECK(d1 >= d0 + 1);
	CHECK(claims >= 1);
	CHECK(tokens >= 1);
	return PGT_PASS;
}

int main(void)
{
	static const struct pgt_test tests[] = {
		PGT_TEST(t_claim, "claim: kept with all rights; EEXIST twice; EPERM on a kernel pCID"),
		PGT_TEST(t_claimed_closed, "claimed: others get EACCES for send and receive, nothing delivered"),
		PGT_TEST(t_grant_redeem, "grant + redeem: the rights granted and no more; carry needs send"),
		PGT_TEST(t_grant_limits, "grant: ENOENT unclaimed, EACCES without grant or beyond what is held"),
		PGT_TEST(t_revoke_cascade, "revoke: at once, through every derived token; holders may not"),
		PGT_TEST(t_revoke_by_minter, "revoke by the minter of a derived token"),
		PGT_TEST(t_expiry, "a token with ttl_ms expires: rights gone, redeem refused"),
		PGT_TEST(t_bad_tokens, "forged tokens EACCES, truncated EINVAL"),
		PGT_TEST(t_delegation, "delegation: a token in a frame body, redeemed by an unprivileged process"),
		PGT_TEST(t_claim_ends, "the claimer's close ends the claim and its tokens"),
		PGT_TEST(t_stats, "stats count denials, claims and tokens"),
	};

	return pgt_run(tests, PGT_ARRAY_SIZE(tests));
}
