# SPDX-License-Identifier: GPL-2.0-only
# `make install` and `make uninstall`, included by the Makefile after its variables
# (OUTPUT, FOGD, FOGCTL, LIBFOG, PKGS). GNU-style directories, all overridable:
#   make install PREFIX=/usr DESTDIR=/tmp/stage
# Installs fogd (sbin), fogctl (bin), libfog.a with its public headers and a
# pkg-config file (fog.pc, from deploy/fog.pc.in), libfogprof.a (the profiler's BPF
# capture behind fog/profiler.h) with fog-profiler.pc, the allocation sampler
# libfogalloc.so when the profiler builds it, man pages fogd(8) and fogctl(8), the
# systemd unit (its paths rewritten for PREFIX and SYSCONFDIR), the README, and a
# default configuration $(SYSCONFDIR)/fogd/fogd.ini (every setting at its default,
# from `fogd -n`) unless one is there. `make uninstall` removes what install put
# there, except the configuration file.

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/fogd
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install

FOG_VERSION_STR := $(shell sed -n 's/^\#define FOG_VERSION "\(.*\)"$$/\1/p' user/export/api.h)
# What libfog.a's objects call (base and cores: FOG_PKGS) and what libfogprof.a adds
# (libbpf); the daemon's own libraries (inih, libmicrohttpd, libcap-ng) are in neither.
FOG_PC_REQUIRES := $(FOG_PKGS)
FOG_PC_LIBS := -lpthread -lm
FOG_PC := $(OUTPUT)/fog.pc
FOGPROF_PC := $(OUTPUT)/fog-profiler.pc

# Public headers, and the abi/ headers they include (the other abi/ headers are the
# BPF programs' and stay private).
INSTALL_HDRS := $(wildcard include/fog/*.h)
INSTALL_ABI_HDRS := $(sort $(patsubst %,include/fog/%,$(shell sed -n \
	's|^\#include "fog/\(abi/[A-Za-z0-9_]*\.h\)".*|\1|p' $(INSTALL_HDRS))))
MAN8 := docs/man/fogd.8 docs/man/fogctl.8
INSTALL_ALLOC := $(if $(FOGALLOC),$(FOGALLOC))

.PHONY: install uninstall install-pc

# regenerated on every install: PREFIX and the directories may differ between runs
install-pc: deploy/fog.pc.in deploy/fog-profiler.pc.in
	$(call msg,GEN,$(FOG_PC))
	$(Q)mkdir -p $(dir $(FOG_PC))
	$(Q)sed -e '/^#/d' -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(FOG_VERSION_STR)|' \
		-e 's|@REQUIRES@|$(FOG_PC_REQUIRES)|' -e 's|@LIBS@|$(FOG_PC_LIBS)|' $< > $(FOG_PC)
	$(Q)sed -e '/^#/d' -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(FOG_VERSION_STR)|' \
		-e 's|@REQUIRES@|fog $(FOGPROF_PKGS)|' deploy/fog-profiler.pc.in > $(FOGPROF_PC)

install: $(FOGD) $(FOGCTL) $(LIBFOG) $(LIBFOGPROF) $(INSTALL_ALLOC) $(MAN8) install-pc
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR)/fog/abi $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/fogd
	$(Q)$(INSTALL) -m 0755 $(FOGD) $(DESTDIR)$(SBINDIR)/fogd
	$(Q)$(INSTALL) -m 0755 $(FOGCTL) $(DESTDIR)$(BINDIR)/fogctl
	$(Q)$(INSTALL) -m 0644 $(LIBFOG) $(DESTDIR)$(LIBDIR)/libfog.a
	$(Q)$(INSTALL) -m 0644 $(LIBFOGPROF) $(DESTDIR)$(LIBDIR)/libfogprof.a
	$(Q)$(if $(INSTALL_ALLOC),$(INSTALL) -m 0755 $(INSTALL_ALLOC) $(DESTDIR)$(LIBDIR)/libfogalloc.so)
	$(Q)$(INSTALL) -m 0644 $(FOG_PC) $(DESTDIR)$(PKGCONFIGDIR)/fog.pc
	$(Q)$(INSTALL) -m 0644 $(FOGPROF_PC) $(DESTDIR)$(PKGCONFIGDIR)/fog-profiler.pc
	$(Q)$(INSTALL) -m 0644 $(INSTALL_HDRS) $(DESTDIR)$(INCLUDEDIR)/fog/
	$(Q)$(if $(INSTALL_ABI_HDRS),$(INSTALL) -m 0644 $(INSTALL_ABI_HDRS) \
		$(DESTDIR)$(INCLUDEDIR)/fog/abi/)
	$(Q)$(INSTALL) -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(Q)sed -e 's|/usr/local/sbin/fogd|$(SBINDIR)/fogd|g' -e 's|/etc/fogd/|$(SYSCONFDIR)/fogd/|g' \
		-e 's|/usr/local/share/doc/fogd|$(DOCDIR)|g' deploy/systemd/fogd.service \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/fogd.service
	$(Q)chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/fogd.service
	$(Q)for u in fogd-task fogd-sym; do \
		if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && ! getent passwd $$u >/dev/null; then \
			useradd --system --user-group --no-create-home --home-dir / \
				--shell /usr/sbin/nologin $$u; \
		fi; \
	done
	$(Q)if [ ! -e $(DESTDIR)$(SYSCONFDIR)/fogd/fogd.ini ]; then \
		{ echo '; fogd configuration: every setting at its default, see fogd(8)'; \
		  $(FOGD) -n | sed 1d; } > $(DESTDIR)$(SYSCONFDIR)/fogd/fogd.ini && \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/fogd/fogd.ini; \
	fi

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/fogd $(DESTDIR)$(BINDIR)/fogctl \
		$(DESTDIR)$(LIBDIR)/libfog.a $(DESTDIR)$(LIBDIR)/libfogprof.a \
		$(DESTDIR)$(LIBDIR)/libfogalloc.so \
		$(DESTDIR)$(PKGCONFIGDIR)/fog.pc $(DESTDIR)$(PKGCONFIGDIR)/fog-profiler.pc \
		$(patsubst include/fog/%,$(DESTDIR)$(INCLUDEDIR)/fog/%,$(INSTALL_HDRS) $(INSTALL_ABI_HDRS)) \
		$(patsubst docs/man/%,$(DESTDIR)$(MANDIR)/man8/%,$(MAN8)) \
		$(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(SYSTEMDUNITDIR)/fogd.service
	$(Q)rmdir $(DESTDIR)$(INCLUDEDIR)/fog/abi $(DESTDIR)$(INCLUDEDIR)/fog $(DESTDIR)$(DOCDIR) \
		2>/dev/null || true
