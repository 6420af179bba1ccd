// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the uapi header compiles on its own as C99 and C++, and its
 * constants agree with each other.
 */
#include <linux/promisegrid.h>

static const unsigned char control[] = PG_PCID_CONTROL;
static const unsigned char delivery[] = PG_PCID_DELIVERY;
static const unsigned char grid_tag[] = PG_GRID_TAG_BYTES;

typedef char check_control_len[sizeof(control) == PG_KERNEL_PCID_LEN ? 1 : -1];
typedef char check_delivery_len[sizeof(delivery) == PG_KERNEL_PCID_LEN ? 1 : -1];
typedef char check_tag_len[sizeof(grid_tag) == PG_GRID_TAG_LEN ? 1 : -1];
typedef char check_tag[PG_GRID_TAG == 0x67726964u ? 1 : -1];
typedef char check_depth[PG_MAX_DEPTH_DEFAULT <= PG_MAX_DEPTH_LIMIT ? 1 : -1];
typedef char check_frame[PG_MAX_FRAME_DEFAULT <= PG_MAX_FRAME_LIMIT ? 1 : -1];

int main(void)
{
	/* The tag bytes spell "grid" after the 4-byte tag head 0xda. */
	return !(grid_tag[0] == 0xda && grid_tag[1] == 'g' &&
		 grid_tag[4] == 'd' && control[0] == 0x01 &&
		 delivery[1] == 0x55);
}
