# SPDX-License-Identifier: GPL-2.0-only
#
# PromiseGrid kernel module. Top-level targets:
#   make                build the module (against KDIR), the host tools,
#                       libpromisegrid and pg
#   make install-userland  libpromisegrid, its header, pkg-config file and
#                       man page, and pg (PREFIX=/usr/local, DESTDIR)
#   make check          every test: host, static checks, selftests in a VM
#   make check-matrix   selftests, userland and stress suites on every kernel
#                       of tools/testing/vm/kernels.list
#   make check-host     the host unit tests only
#   make check-grid     the grid across hosts: pg-bridge in three VMs on a
#                       three-server NATS cluster (installs nats-server,
#                       libnats-dev and python3-cryptography)
#   make bridge         userland/bridge/build/pg-bridge (needs libnats-dev)
#   make demo           boot the VM and run the demo exchange
#   make bench          benchmarks in the VM, written to docs/bench.md: the
#                       repeatable figures (-icount, two boots), the cross-host
#                       ones (three VMs, bridges vs raw NATS), then the timed
#                       table
#   make bench-profile  perf profile and ftrace per-function instruction counts
#                       of the one-frame paths under -icount
#   make stress         the stress and frame-fuzz suite in the VM
#   make conformance    the independent conformance client in the VM
#   make check-debug    selftests and stress on a KASAN/lockdep/kmemleak kernel
#   make fuzz           libFuzzer over the CBOR validator (FUZZ_SECONDS=300)
#   make install        install the module for the running kernel (depmod)
#   make deb            Debian packages in build/deb (tools/deb/build.sh):
#                       promisegrid-dkms, libpromisegrid1, -dev, -tools
#   make check-install  the packages installed with apt on a Debian 13
#                       system in QEMU (tools/testing/deb/check-install.sh)
#   make dkms-install   register, build and install it with DKMS for KVER
#                       (default the running kernel); make dkms-uninstall
#   make style          checkpatch.pl --strict over kmod/
#   make sparse         sparse (C=2) over kmod/
# Kbuild is in ./Kbuild and kmod/Kbuild; this file only drives it.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
PREFIX ?= /usr/local
# The running kernel's BTF: module BTF is built on top of it (pahole).
BTF_BASE ?= /sys/kernel/btf/vmlinux
VERSION := $(shell tools/build/version.sh)
DKMS_SRC = /usr/src/promisegrid-$(VERSION)

all: module tools userland

module:
	@if [ ! -d "$(KDIR)" ]; then \
		echo "No kernel build tree at $(KDIR): install linux-headers-$(KVER)" \
		     "or pass KDIR=...; building the host tools only."; \
	else \
		$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules && \
		if [ -r "$(BTF_BASE)" ] && command -v pahole >/dev/null; then \
			tools/build/module-btf.sh kmod/promisegrid.ko "$(BTF_BASE)"; \
		fi; \
	fi

tools:
	$(MAKE) -C tools/cbor-check

userland:
	$(MAKE) -C userland/lib
	$(MAKE) -C userland/pg

install-userland: userland
	$(MAKE) -C userland/lib install PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)"
	$(MAKE) -C userland/pg install PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)"
	ldconfig 2>/dev/null || true

check-host: tools
	$(MAKE) -C selftests/host check
	selftests/uapi/run.sh
	$(MAKE) -C userland/lib/tests check
	/usr/bin/python3 selftests/userland/test_python_codec.py
	$(MAKE) -C userland/go check
	selftests/userland/test_install.sh

check:
	tools/testing/check.sh

check-grid:
	selftests/grid/check-grid.sh

bridge:
	$(MAKE) -C userland/bridge

check-matrix:
	tools/testing/check-matrix.sh

demo:
	tools/testing/demo.sh

# The timed table runs even when the repeatable or the cross-host
# figures failed; make bench fails then.
bench:
	status=0; tools/bench/icount.sh || status=$$?; \
	tools/bench/grid.sh || status=$$?; \
	tools/bench/run.sh && exit $$status

bench-profile:
	tools/bench/profile.sh pg1 pgrtt mq1 pipe1
	tools/bench/funccost.sh pg1

stress:
	selftests/stress/vm-stress.sh

conformance:
	selftests/conformance/vm-conformance.sh

check-debug:
	tools/testing/debug-kernel/check-debug.sh

fuzz:
	$(MAKE) -C selftests/fuzz run

install: module
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules_install
	depmod -a "$(KVER)"
	install -D -m 0644 uapi/linux/promisegrid.h \
		"$(DESTDIR)$(PREFIX)/include/linux/promisegrid.h"

# Registers the sources as promisegrid/$(VERSION) (once), then builds
# and installs the module for KVER (default: the running kernel); KDIR
# other than /lib/modules/KVER/build goes to dkms as --kernelsourcedir.
dkms-install:
	@command -v dkms >/dev/null || { echo "no dkms (apt-get install dkms)"; exit 1; }
	if ! dkms status -m promisegrid -v "$(VERSION)" | grep -c . >/dev/null; then \
		rm -rf "$(DKMS_SRC)" && mkdir -p "$(DKMS_SRC)/kmod" "$(DKMS_SRC)/common" \
			"$(DKMS_SRC)/uapi/linux" && \
		cp Kbuild dkms.conf "$(DKMS_SRC)/" && \
		cp kmod/Kbuild kmod/*.c kmod/*.h "$(DKMS_SRC)/kmod/" && \
		cp common/*.c common/*.h "$(DKMS_SRC)/common/" && \
		cp uapi/linux/*.h "$(DKMS_SRC)/uapi/linux/" && \
		echo "$(VERSION)" >"$(DKMS_SRC)/VERSION" && \
		sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="$(VERSION)"/' \
			"$(DKMS_SRC)/dkms.conf" && \
		dkms add -m promisegrid -v "$(VERSION)"; \
	fi
	dkms build -m promisegrid -v "$(VERSION)" -k "$(KVER)" \
		$(if $(filter-out /lib/modules/$(KVER)/build,$(KDIR)),--kernelsourcedir "$(KDIR)")
	dkms install -m promisegrid -v "$(VERSION)" -k "$(KVER)" --force

dkms-uninstall:
	dkms remove -m promisegrid -v "$(VERSION)" --all
	rm -rf "$(DKMS_SRC)"

deb:
	tools/deb/build.sh

check-install:
	tools/testing/deb/check-install.sh

style:
	tools/testing/checkpatch.sh

sparse:
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" C=2 CHECK="sparse" \
		CF="-D__CHECK_ENDIAN__" modules

clean:
	-[ -d "$(KDIR)" ] && $(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean
	$(MAKE) -C tools/cbor-check clean
	$(MAKE) -C selftests/host clean
	$(MAKE) -C userland/lib clean
	$(MAKE) -C userland/lib/tests clean
	$(MAKE) -C userland/pg clean
	$(MAKE) -C userland/bridge clean
	$(MAKE) -C selftests/grid clean
	$(MAKE) -C selftests/userland clean
	$(MAKE) -C userland/go clean
	-$(MAKE) -C selftests clean
	$(MAKE) -C selftests/stress clean
	$(MAKE) -C tools/bench clean

.PHONY: all module tools userland install-userland check-host check check-grid bridge check-matrix demo bench bench-profile stress conformance check-debug fuzz \
	install deb check-install dkms-install dkms-uninstall style sparse clean
