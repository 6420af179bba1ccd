// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 The PromiseGrid kernel module authors.
 *
 * /dev/promisegrid: an endpoint per open file, send by write, receive by
 * read. Nothing else: no ioctl, no mmap.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/promisegrid.h>
#include "device.h"
#include "endpoint.h"
#include "send.h"

static bool pg_nonblock(struct kiocb *iocb)
{
	return (iocb->ki_flags & IOCB_NOWAIT) ||
	       (iocb->ki_filp->f_flags & O_NONBLOCK);
}

static int pg_open(struct inode *inode, struct file *file)
{
	struct pg_endpoint *ep;
	int err;

	err = stream_open(inode, file);
	if (err)
		return err;
	ep = pg_ep_create(file);
	if (IS_ERR(ep))
		return PTR_ERR(ep);
	file->private_data = ep;
	/* Reads and writes honour IOCB_NOWAIT: io_uring needs no io-wq. */
	file->f_mode |= FMODE_NOWAIT;
	return 0;
}

/* The last reference to the file is gone: no reader or writer is left. */
static int pg_release(struct inode *inode, struct file *file)
{
	pg_ep_close(file->private_data);
	return 0;
}

static ssize_t pg_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	return pg_ep_read(iocb->ki_filp->private_data, to, pg_nonblock(iocb));
}

static ssize_t pg_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	return pg_send(iocb->ki_filp->private_data, from, pg_nonblock(iocb),
		       iocb->ki_flags & IOCB_NOWAIT);
}

static __poll_t pg_poll(struct file *file, poll_table *wait)
{
	return pg_ep_poll(file->private_data, file, wait);
}

static const struct file_operations pg_fops = {
	.owner = THIS_MODULE,
	.open = pg_open,
	.release = pg_release,
	.read_iter = pg_read_iter,
	.write_iter = pg_write_iter,
	.poll = pg_poll,
};

static struct miscdevice pg_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = PG_DEVICE_NAME,
	.fops = &pg_fops,
	.mode = 0666,
};

int pg_device_init(void)
{
	return misc_register(&pg_miscdev);
}

void pg_device_exit(void)
{
	misc_deregister(&pg_miscdev);
}
