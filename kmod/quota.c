// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 */
#include <linux/err.h>
#include <linux/hashtable.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include "params.h"
#include "quota.h"

struct pg_user {
	struct hlist_node node;
	kuid_t uid;
	u32 endpoints;			/* open endpoints of this user */
};

/* pg_users_mutex protects the table and every pg_user's count. */
static DEFINE_MUTEX(pg_users_mutex);
static DEFINE_HASHTABLE(pg_users, 8);

/* One more endpoint for @uid: -EMFILE past max_endpoints_per_user. */
struct pg_user *pg_user_charge(kuid_t uid)
{
	u32 key = from_kuid(&init_user_ns, uid);
	struct pg_user *user;

	mutex_lock(&pg_users_mutex);
	hash_for_each_possible(pg_users, user, node, key)
		if (uid_eq(user->uid, uid))
			goto found;
	user = kzalloc(sizeof(*user), GFP_KERNEL_ACCOUNT);
	if (!user) {
		user = ERR_PTR(-ENOMEM);
		goto out;
	}
	user->uid = uid;
	hash_add(pg_users, &user->node, key);
found:
	if (user->endpoints >= READ_ONCE(pg_max_endpoints_per_user)) {
		user = ERR_PTR(-EMFILE);
		goto out;
	}
	user->endpoints++;
out:
	mutex_unlock(&pg_users_mutex);
	return user;
}

void pg_user_uncharge(struct pg_user *user)
{
	mutex_lock(&pg_users_mutex);
	if (!--user->endpoints) {
		hash_del(&user->node);
		kfree(user);
	}
	mutex_unlock(&pg_users_mutex);
}
