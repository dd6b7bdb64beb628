# SPDX-License-Identifier: GPL-2.0-only
# The uplink's build pieces (user/uplink/), included by the Makefile after its variables
# and before its rules: the remote-write messages compiled with protoc-c into the
# daemon's objects (the uplink is daemon-side: libfog does not carry snappy).

UPLINK_PB_C := $(PROF_PROTO_DIR)/remote.pb-c.c
UPLINK_PB_H := $(PROF_PROTO_DIR)/remote.pb-c.h
UPLINK_PB_O := $(PROF_PROTO_DIR)/remote.pb-c.o
LIBFOGD_OBJS += $(UPLINK_PB_O)

$(UPLINK_PB_C) $(UPLINK_PB_H) &: user/uplink/remote.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(PROF_PROTO_DIR)
	$(Q)protoc-c --proto_path=user/uplink --c_out=$(PROF_PROTO_DIR) remote.proto

$(UPLINK_PB_O): $(UPLINK_PB_C) $(UPLINK_PB_H)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -fPIC $(shell pkg-config --cflags libprotobuf-c) -c $< -o $@

$(patsubst user/uplink/%.c,$(OUTPUT)/user/uplink/%.o,$(wildcard user/uplink/*.c)): $(UPLINK_PB_H)
$(OUTPUT)/tests/unit/test_uplink_encode.o: $(UPLINK_PB_H)
