# SPDX-License-Identifier: GPL-2.0
#
# roster: top-level build. `make check` runs every test, `make demo` the demo.
#
#   make module [KDIR=/lib/modules/REL/build]   kernel module(s)
#   make userspace                              libroster, roster, rosterd
#   make check                                  all tests (installs deps)
#   make check-debug [PLANT=uaf|lock]           the kernel suites on a KASAN,
#                                               lockdep and kmemleak kernel
#   make style | sparse | ynl-check             the static checks alone
#   make fuzz [FUZZ_TIME=secs] [FUZZ_TARGETS=..] rosterd's fuzzers, each FUZZ_TIME s
#   make install [DESTDIR=]                     module + userspace
#   make dkms-install                           sources to /usr/src for DKMS

VERSION := 0.1.0
TOP := $(CURDIR)
BUILD := $(TOP)/build

# Without KDIR: every kernel with headers installed here, newest first.
ifeq ($(KDIR),)
KDIRS := $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -rV)
else
KDIRS := $(KDIR)
endif

KSRC := $(wildcard kmod/*.c kmod/*.h kmod/Kbuild) $(wildcard kmod/include/uapi/linux/*.h)

.PHONY: all module userspace kselftest check check-host style sparse ynl-check \
	fuzz deps install module-install dkms-install demo clean check-debug

all: module userspace kselftest

deps:
	@scripts/install-deps

# Each kernel gets its own copy of the sources: an out-of-tree build writes
# its objects next to them.
module: $(KSRC)
	@test -n "$(KDIRS)" || { echo "make: no kernel headers in /lib/modules/*/build (install linux-headers-amd64)" >&2; exit 1; }
	@set -e; for kdir in $(KDIRS); do \
		rel=$$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $$kdir/include/generated/utsrelease.h); \
		out=$(BUILD)/kmod/$$rel; \
		mkdir -p $$out/include/uapi/linux; \
		cp -p kmod/*.c kmod/*.h kmod/Kbuild $$out/; \
		cp -p kmod/include/uapi/linux/*.h $$out/include/uapi/linux/; \
		echo "  MODULE  $$rel"; \
		$(MAKE) -s -C $$kdir M=$$out W=1 KCFLAGS=-Werror modules; \
	done

sparse: $(KSRC)
	@set -e; for kdir in $(KDIRS); do \
		rel=$$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $$kdir/include/generated/utsrelease.h); \
		out=$(BUILD)/sparse/$$rel; \
		mkdir -p $$out/include/uapi/linux; \
		cp -p kmod/*.c kmod/*.h kmod/Kbuild $$out/; \
		cp -p kmod/include/uapi/linux/*.h $$out/include/uapi/linux/; \
		echo "  SPARSE  $$rel"; \
		$(MAKE) -C $$kdir M=$$out C=2 CF="-D__CHECK_ENDIAN__" KCFLAGS=-Werror modules 2>&1 | tee $$out/sparse.log; \
		if grep -E "warning|error" $$out/sparse.log; then echo "sparse: findings in kmod/ ($$rel)" >&2; exit 1; fi; \
	done

style:
	@ksrc=$$(scripts/ksrc 6.1); \
	perl $$ksrc/scripts/checkpatch.pl --no-tree --strict --terse --show-types \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG \
		-f $(wildcard kmod/*.c kmod/*.h) \
	&& echo "checkpatch --strict: clean"

ynl-check:
	@scripts/ynl-regen --check

userspace:
	@$(MAKE) -s -C userspace
	@$(MAKE) -s -C userspace/daemon
	@# the benchmarks' helpers: built (with -Werror) so that they do not rot
	@$(MAKE) -s -C userspace/daemon sim
	@$(MAKE) -s -C scripts/bench

kselftest:
	@if [ -f tests/kselftest/Makefile ]; then $(MAKE) -s -C tests/kselftest OUTPUT=$(BUILD)/kselftest; fi

check: deps
	@scripts/check

# rosterd's libFuzzer harnesses (tests/fuzz/, clang), each for FUZZ_TIME
# seconds; the corpora grow in build/fuzz/corpus/. make check runs them
# briefly (tests/host/fuzz).
FUZZ_TIME ?= 600
fuzz:
	@tests/fuzz/run --time $(FUZZ_TIME) $(FUZZ_TARGETS)

# On request, not in CI: builds (once, ~20 min) and boots a 6.1 debug
# kernel. PLANT=uaf or PLANT=lock builds the module with a planted bug.
check-debug:
	@scripts/check-debug $(if $(PLANT),--plant $(PLANT))

# The main job: a manager and four gateways in a VM, end to end.
demo:
	@scripts/demo

install: module-install
	$(MAKE) -C userspace install DESTDIR=$(DESTDIR)
	$(MAKE) -C userspace/daemon install DESTDIR=$(DESTDIR)

module-install: module
	@set -e; for kdir in $(KDIRS); do \
		rel=$$(sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' $$kdir/include/generated/utsrelease.h); \
		$(MAKE) -C $$kdir M=$(BUILD)/kmod/$$rel INSTALL_MOD_DIR=updates modules_install; \
	done
	depmod -a

dkms-install:
	install -d $(DESTDIR)/usr/src/roster-$(VERSION)/include/uapi/linux
	install -m 0644 kmod/*.c kmod/*.h kmod/Kbuild dkms.conf $(DESTDIR)/usr/src/roster-$(VERSION)/
	install -m 0644 kmod/include/uapi/linux/roster.h $(DESTDIR)/usr/src/roster-$(VERSION)/include/uapi/linux/

clean:
	rm -rf $(BUILD)/kmod $(BUILD)/sparse $(BUILD)/kselftest $(BUILD)/fuzz $(BUILD)/fuzz-cov
	$(MAKE) -s -C userspace clean
	$(MAKE) -s -C userspace/daemon clean
