#!/usr/bin/awk -f
# SPDX-License-Identifier: GPL-2.0-only
#
# Attributes perf samples to the cost candidates of issue 15. Input: one
# case's `perf report --stdio --no-children --sort comm,sym
# -g folded,0,caller,count` (tools/bench/profile.sh). Each sample's call
# chain is read from its leaf towards the root and the first function
# that names a bucket decides (so a memcg charge inside the delivery's
# allocation counts as memcg, the rest of the allocation as slab, the
# rest of pg_ep_deliver as the delivery record). Samples of perf itself
# are left out. -v cost=N (instructions per message without perf) adds
# each bucket's share of it. Several runs ("## period N" lines between
# them) each count once: a bucket's share is the mean of its shares.
#
# Output: Markdown rows "| bucket | share | instructions per message |",
# then the same split by the module function nearest the leaf.

function bucket(f) {
	if (f ~ /^(obj_cgroup_|__memcg_kmem|memcg_|mod_objcg_state|refill_obj_stock|drain_obj_stock|consume_obj_stock|__mod_memcg|mem_cgroup_|get_obj_cgroup|__memcg_slab)/)
		return "memcg accounting of allocations"
	if (f ~ /^(__kmem_cache_alloc|__kmalloc|kmalloc_|kmem_cache_|kvmalloc|kvfree|kfree|__kmem_cache_free|slab_|___slab_alloc|__slab_free|__kmem_cache_alloc_node|should_failslab)/)
		return "slab allocation and free"
	if (f ~ /^(try_to_wake_up|__wake_up|wake_up|pg_wakeups_flush|ttwu_|select_task_rq|enqueue_task|check_preempt|wake_q_|wake_up_q|resched_curr)/)
		return "wake-up of the reader"
	if (f ~ /^(schedule|__schedule|finish_task_switch|prepare_to_wait|finish_wait|pick_next|dequeue_task|put_prev|switch_mm|__switch_to|update_curr|update_load|psi_|wq_sleep|schedule_hrtimeout)/)
		return "sleep and context switch"
	if (f ~ /^(jhash|pg_cid_hash|rhashtable|pg_route_find|pg_cid_obj_|__rhashtable)/)
		return "CID hashing and route lookup"
	if (f ~ /^(pg_authorize|pg_caps_|pg_kernel_pcid|trace_|perf_trace|__traceiter|__bpf_trace|bpf_trace)/)
		return "authorization and tracepoint checks"
	if (f ~ /^(mutex_|__mutex|_raw_spin_lock$|_raw_spin_unlock$|_raw_spin_lock_irq|pg_ep_take|pg_ep_lock_reader)/)
		return "locks (rx mutex and spinlock, route mutex)"
	if (f ~ /^(pg_frame_scan|pg_env_|pg_cbor_)/)
		return "frame check (CBOR envelope)"
	if (f ~ /^pg_ep_deliver/)
		return "delivery record (copy of the frame, queueing)"
	if (f ~ /^(_copy_from_iter|_copy_to_iter|copy_user_|copyin|copyout|__check_object_size|__check_heap_object|check_heap_object|__virt_addr_valid|copy_page_to_iter|copy_page_from_iter|_copy_from_user|_copy_to_user|load_msg|store_msg)/)
		return "copies to and from user space"
	if (f ~ /^(pg_|mq_|do_mq_|pipe_|unix_|sock_|__sys_|sys_mq|msg_)/)
		return "transport, other"
	if (f ~ /^(vfs_|ksys_|security_|apparmor_|aa_file_perm|fsnotify|__fget|__fdget|rw_verify_area|do_syscall_64|syscall_|entry_SYSCALL|exit_to_user_mode|x64_sys_call|__x64_sys|__rseq|rseq_|current_time|touch_atime|atime_needs|file_update_time|ktime_get|__get_task_ioprio|fput|__fsnotify)/)
		return "system call entry and VFS"
	return ""
}

# "## period N" starts the samples of one perf run (profile.sh runs
# each case at several sampling periods: see there)
/^## period / { np++; next }
/^#/ || /^$/ { next }
# entry header: "    22.79%  pgbench  [k] sym"
/^ +[0-9.]+%/ { comm = $2; next }
/^[0-9]+ / {
	if (comm == "perf")
		next
	if (!np)
		np = 1
	n = $1
	chain = substr($0, length($1) + 2)
	k = split(chain, fr, ";")
	b = ""
	for (i = k; i >= 1 && b == ""; i--)
		b = bucket(fr[i])
	if (b == "") {
		user = 1
		for (i = 1; i <= k; i++)
			if (fr[i] ~ /^entry_SYSCALL|^asm_|^ret_from_fork|^do_syscall/)
				user = 0
		b = user ? "user space (pgbench, libc)" : "kernel, other"
	}
	m = "(outside the module)"
	for (i = k; i >= 1; i--)
		if (fr[i] ~ /^pg_/) { m = fr[i]; break }
	cnt[b, np] += n
	seen[b] = 1
	mod[m, np] += n
	mseen[m] = 1
	total[np] += n
	samples += n
}
# One row per key: the mean of its share over the periods, their range.
function table(arr, keyset, title,    i, j, nk, key, tmp, p, q, lo, hi, mean) {
	nk = 0
	for (key in keyset) {
		keys[++nk] = key
		mean = 0; lo = 2; hi = -1
		for (p = 1; p <= np; p++) {
			q = total[p] ? arr[key, p] / total[p] : 0
			mean += q / np
			if (q < lo) lo = q
			if (q > hi) hi = q
		}
		m_[key] = mean; lo_[key] = lo; hi_[key] = hi
	}
	for (i = 1; i <= nk; i++)
		for (j = i + 1; j <= nk; j++)
			if (m_[keys[j]] > m_[keys[i]]) {
				tmp = keys[i]; keys[i] = keys[j]; keys[j] = tmp
			}
	printf "\n| %s | share of samples (mean of %d periods) | range over the periods | instructions per message |\n|---|---:|---:|---:|\n", title, np
	for (i = 1; i <= nk; i++) {
		key = keys[i]
		if (m_[key] < 0.001)
			continue
		printf "| %s | %.1f %% | %.1f-%.1f %% | %s |\n", key, 100 * m_[key],
		       100 * lo_[key], 100 * hi_[key],
		       cost ? sprintf("%.0f", cost * m_[key]) : "-"
	}
	delete keys
	delete m_
	delete lo_
	delete hi_
}
END {
	if (!samples) { print "(no samples)"; exit }
	printf "%d samples in %d perf runs (perf's own left out)\n", samples, np
	table(cnt, seen, "candidate")
	table(mod, mseen, "nearest module function (its callees included)")
}
