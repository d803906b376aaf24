#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""nl_fuzz.py: a netlink fuzzer for the roster generic netlink family.

Run as root in a network namespace of its own (tests/netns/nl_fuzz.sh does
that). Messages are built from the YNL spec's attribute sets and operations
(Documentation/netlink/specs/roster.yaml): mostly well-formed requests to
every command and dump, from small pools of VPN ids, member ids and
overlapping prefixes so that they collide, and a share of them mutated
(wrong lengths, values outside the spec's checks, wrong nesting, unknown,
extra, duplicate and missing attributes, bad nlmsg and genl headers,
truncation, byte flips). A listener on the "notify" group keeps the
notification paths busy, dumps are interleaved with changes, and the
namespace's limit sysctls are varied.

Oracles, each a line of the --results file (NAME=ok|fail):
  answered    every request gets its ACK or error (dumps their DONE) in time
  refused     a request that breaks the spec's policy is never accepted
  errno       every error is one the family documents or netlink makes
  generation  a change's reply carries a generation above the last one seen
  invariants  dumps agree with each other and with do requests; no
              overlapping (nested VPN: equal) prefixes between members; the
              member count of every VPN matches its members; generations
              and join generations are consistent
Figures (messages per command, mutated share, errnos) go to stdout as
"# " lines and to the results file. Exit status 0 iff every oracle held.
"""

import argparse
import errno
import os
import random
import socket
import struct
import sys
import time

import yaml

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NLMSG_ERROR, NLMSG_DONE = 2, 3
F_REQUEST, F_MULTI, F_ACK, F_ECHO, F_DUMP_INTR = 1, 2, 4, 8, 16
F_DUMP = 0x300
F_REPLACE, F_EXCL, F_CREATE, F_APPEND = 0x100, 0x200, 0x400, 0x800
NLA_F_NESTED, NLA_F_NET_BYTEORDER = 0x8000, 0x4000
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 16, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME, CTRL_ATTR_MCAST_GROUPS = 1, 2, 7
NLMSGERR_ATTR_MSG = 1

# What the family and netlink answer with (EOPNOTSUPP: unknown command or a
# dump of a do-only one; ENOMEM is legitimate under a failing allocation).
KNOWN_ERRNOS = {errno.EINVAL, errno.ENOENT, errno.EEXIST, errno.ENOSPC,
                errno.EADDRINUSE, errno.EALREADY, errno.ESTALE, errno.EPERM,
                errno.E2BIG, errno.EOPNOTSUPP, errno.ERANGE, errno.EMSGSIZE,
                errno.ENOMEM, errno.EOVERFLOW}

SCALAR = {'u8': 'B', 'u16': 'H', 'u32': 'I', 'u64': 'Q'}


def nla(atype, payload):
    hdr = struct.pack('HH', 4 + len(payload), atype)
    return hdr + payload + b'\0' * ((-len(payload)) % 4)


def parse_attrs(buf):
    """(type without flags, payload) pairs; stops at a short tail."""
    out = []
    off = 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from('HH', buf, off)
        if alen < 4 or off + alen > len(buf):
            break
        out.append((atype & 0x3fff, buf[off + 4:off + alen]))
        off += (alen + 3) & ~3
    return out


class Spec:
    """The parts of the YNL spec the fuzzer needs, numbered as YNL does."""

    def __init__(self, path):
        with open(path) as f:
            y = yaml.safe_load(f)
        self.name = y['name']
        self.version = y.get('version', 1)
        self.consts = {}
        self.flagsets = {}
        for d in y.get('definitions', []):
            if d['type'] == 'const':
                self.consts[d['name']] = d['value']
            elif d['type'] == 'flags':
                self.flagsets[d['name']] = (1 << len(d['entries'])) - 1
        self.sets = {}
        for s in y['attribute-sets']:
            attrs = {}
            val = 1
            for a in s['attributes']:
                val = a.get('value', val)
                a = dict(a)
                a['value'] = val
                attrs[a['name']] = a
                val += 1
            self.sets[s['name']] = attrs
        self.ops = {}
        val = 1
        for o in y['operations']['list']:
            val = o.get('value', val)
            self.ops[o['name']] = dict(o, value=val)
            val += 1
        self.max_cmd = val - 1
        self.mcgrps = [g['name'] for g in y.get('mcast-groups', {}).get('list', [])]

    def check(self, a, key, default=None):
        v = a.get('checks', {}).get(key, default)
        if isinstance(v, str):
            v = self.consts.get(v, self.flagsets.get(v, default))
        return v

    def mask(self, a):
        fm = a.get('checks', {}).get('flags-mask')
        return self.flagsets.get(fm) if fm else None

    def requests(self):
        """(op name, kind) for every do and dump the spec declares."""
        out = []
        for name, o in self.ops.items():
            if 'do' in o and 'request' in o['do']:
                out.append((name, 'do'))
            if 'dump' in o:
                out.append((name, 'dump'))
        return out


class Nl:
    def __init__(self, rcvbuf=1 << 20, bufsize=1 << 16):
        self.bufsize = bufsize
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.s.bind((0, 0))
        self.seq = random.randrange(1, 1 << 30)

    def send(self, ftype, flags, payload):
        self.seq = (self.seq + 1) & 0xffffffff or 1
        msg = struct.pack('IHHII', 16 + len(payload), ftype, flags, self.seq, 0) + payload
        self.s.send(msg)
        return self.seq

    def recv(self, timeout, bufsize=None):
        """Messages of one datagram as (type, flags, seq, payload); None on timeout."""
        self.s.settimeout(timeout)
        try:
            data = self.s.recv(bufsize or self.bufsize)
        except socket.timeout:
            return None
        out = []
        off = 0
        while off + 16 <= len(data):
            mlen, mtype, mflags, mseq, _ = struct.unpack_from('IHHII', data, off)
            if mlen < 16:
                break
            out.append((mtype, mflags, mseq, data[off + 16:off + mlen]))
            off += (mlen + 3) & ~3
        return out

    def request(self, ftype, flags, payload, timeout, on_first=None):
        """Send and collect until the final ACK/error/DONE of this seq.

        Returns (errno or None, replies, final flags seen); errno None means
        no answer within timeout. on_first runs after the first datagram.
        """
        seq = self.send(ftype, flags | F_REQUEST | F_ACK, payload)
        replies = []
        seen = 0
        deadline = time.monotonic() + timeout
        first = True
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, replies, seen
            msgs = self.recv(left)
            if msgs is None:
                return None, replies, seen
            if first and on_first:
                first = False
                on_first()
            for mtype, mflags, mseq, payload in msgs:
                if mseq != seq:
                    continue        # a late ACK of an earlier request
                seen |= mflags
                if mtype == NLMSG_ERROR:
                    err = -struct.unpack_from('i', payload)[0]
                    self.last_extack = payload
                    return err, replies, seen
                if mtype == NLMSG_DONE:
                    err = -struct.unpack_from('i', payload)[0] if len(payload) >= 4 else 0
                    return err, replies, seen
                replies.append(payload)


def genl(cmd, version, attrs):
    return struct.pack('BBH', cmd, version, 0) + attrs


def resolve_family(name):
    nl = Nl()
    err, replies, _ = nl.request(GENL_ID_CTRL, 0,
                                 genl(CTRL_CMD_GETFAMILY, 1,
                                      nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b'\0')), 5)
    if err or not replies:
        raise SystemExit('nl_fuzz: family %s not found (errno %s)' % (name, err))
    fid = None
    groups = {}
    for atype, payload in parse_attrs(replies[0][4:]):
        if atype == CTRL_ATTR_FAMILY_ID:
            fid = struct.unpack('H', payload[:2])[0]
        elif atype == CTRL_ATTR_MCAST_GROUPS:
            for _, g in parse_attrs(payload):
                d = dict(parse_attrs(g))
                groups[d[1][:-1].decode()] = struct.unpack('I', d[2])[0]
    nl.s.close()
    return fid, groups


class Gen:
    """Values and messages from the spec, drawn from colliding pools."""

    def __init__(self, spec, rng):
        self.spec = spec
        self.r = rng
        self.vpn_ids = list(range(1, 5))
        self.ids4 = [bytes([10, 255, i // 256, i % 256]) for i in range(1, 25)]
        self.ids6 = [bytes.fromhex('fd00000000000000000000000000%04x' % i) for i in range(1, 9)]
        self.known = {}             # vpn id -> member ids that joined
        self.keys = [bytes([i]) * 32 for i in range(1, 33)]
        self.gens = {}              # vpn id -> the last generation seen
        self.invalid = False        # the message breaks the spec's policy

    # -- values ------------------------------------------------------------
    def pick_vpn(self):
        r = self.r.random()
        if r < 0.97:
            return self.r.choice(self.vpn_ids)
        return self.r.choice([0x7fffffff, 0xffffffff, self.r.randrange(1, 1 << 32)])

    def pick_gen(self, vpn):
        cur = self.gens.get(vpn, 1)
        r = self.r.random()
        if r < 0.5:
            return cur + 1
        if r < 0.7:
            return cur
        if r < 0.85:
            return max(1, cur - self.r.randrange(1, 4))
        if r < 0.95:
            return cur + self.r.randrange(2, 6)
        return self.r.choice([1, (1 << 63), (1 << 64) - 1])

    def prefix(self):
        r = self.r
        if r.random() < 0.75:
            plen = r.choice([8, 12, 16, 20, 24, 28, 30, 32])
            a = struct.unpack('>I', bytes([10, r.randrange(4), r.randrange(4) * 64,
                                           r.randrange(256)]))[0]
            a &= (0xffffffff << (32 - plen)) & 0xffffffff if plen else 0
            addr = struct.pack('>I', a)
            bits = 32
        else:
            plen = r.choice([32, 48, 56, 64, 96, 128])
            a = int.from_bytes(bytes.fromhex('20010db8') + bytes([0, r.randrange(4)]) +
                               bytes([r.randrange(4)]) + r.randbytes(9), 'big')
            a &= ((1 << 128) - 1) ^ ((1 << (128 - plen)) - 1)
            addr = a.to_bytes(16, 'big')
            bits = 128
        if r.random() < 0.03:
            plen = r.randrange(bits + 1, 129) if bits < 128 else 128   # too long
        if r.random() < 0.03 and plen < bits:
            b = bytearray(addr)
            b[-1] |= 1                                                  # host bits
            addr = bytes(b)
        return addr, plen

    def scalar(self, a):
        """A value of a scalar attribute within its checks."""
        t = a['type']
        bits = {'u8': 8, 'u16': 16, 'u32': 32, 'u64': 64}[t]
        lo = self.spec.check(a, 'min', 0)
        hi = self.spec.check(a, 'max', (1 << bits) - 1)
        mask = self.spec.mask(a)
        if mask is not None:
            return self.r.randrange(mask + 1) & mask
        if self.r.random() < 0.5:
            return self.r.choice([lo, hi])
        return self.r.randrange(lo, hi + 1)

    def encode_scalar(self, a, v):
        fmt = SCALAR[a['type']]
        if a.get('byte-order') == 'big-endian':
            fmt = '>' + fmt
        return struct.pack(fmt, v)

    # -- attributes --------------------------------------------------------
    def attr(self, setname, name, ctx):
        """One well-formed attribute (type, payload, is_nest)."""
        a = self.spec.sets[setname][name]
        v = a['value']
        # semantics for the attributes whose values must collide
        if name == 'vpn-id' and setname == 'roster':
            return v, struct.pack('I', ctx['vpn']), False
        if name == 'generation':
            # a VPN may sit at the largest generation: wrap, as a u64 does
            return v, struct.pack('Q', self.pick_gen(ctx['vpn']) % (1 << 64)), False
        if name == 'member':
            return v, self.member(ctx), True
        if name == 'flags' and self.r.random() < 0.7:
            # mostly the flags the command takes (the spec's docs say which)
            ok = {'member-join': 5, 'member-leave': 6, 'vpn-set': 4}.get(ctx['op'], 0)
            if not ctx['stamped']:
                ok &= ~4
            ctx['flags'] = self.r.randrange(8) & ok
            return v, struct.pack('I', ctx['flags']), False
        if setname == 'member':
            if name == 'id-ipv4':
                return v, ctx['id'], False
            if name == 'id-ipv6':
                return v, ctx['id'], False
            if name == 'public-key':
                return v, self.r.choice(self.keys), False
            if name == 'endpoint-ipv4':
                return v, bytes([192, 0, 2, self.r.randrange(1, 255)]), False
            if name == 'join-generation':
                jg = self.r.randrange(1, self.gens.get(ctx['vpn'], 1) + 3) % (1 << 64)
                return v, struct.pack('Q', jg), False
        t = a['type']
        if t in SCALAR:
            val = self.scalar(a)
            if name == 'flags':
                ctx['flags'] = val
            return v, self.encode_scalar(a, val), False
        if t == 'binary':
            n = self.spec.check(a, 'exact-len', self.r.randrange(0, 40))
            return v, self.r.randbytes(n), False
        if t == 'nest':
            return v, self.nest(a['nested-attributes'], ctx), True
        return v, b'', False

    def member(self, ctx):
        """A member nest; which attributes depends on the command."""
        r = self.r
        s = self.spec.sets['member']
        out = []
        six = r.random() < 0.25
        ctx['id'] = r.choice(self.ids6 if six else self.ids4)
        known = self.known.get(ctx['vpn'])
        if known and r.random() < (0.3 if ctx['op'] == 'member-join' else 0.7):
            ctx['id'] = r.choice(sorted(known))
            six = len(ctx['id']) == 16
        names = []
        if r.random() < 0.95:
            names.append('id-ipv6' if six else 'id-ipv4')
        if ctx['op'] == 'member-join':
            if r.random() < 0.95:
                names.append('public-key')
            if r.random() < 0.4:
                names += [r.choice(['endpoint-ipv4', 'endpoint-ipv6']), 'endpoint-port']
            if ctx['stamped'] and r.random() < 0.3:
                names += ['join-time', 'join-generation']
        elif r.random() < 0.05:
            names.append(r.choice(list(s)))     # only the id is allowed here
        for n in names:
            t, p, nested = self.attr('member', n, ctx)
            out.append((t, p, nested))
        if ctx['op'] == 'member-join':
            k = r.choice([0, 1, 1, 1, 2, 2, 3, 4]) if r.random() > 0.01 else r.randrange(33, 40)
            for _ in range(k):
                addr, plen = self.prefix()
                pa = [(1 if len(addr) == 4 else 2, addr, False),
                      (3, struct.pack('B', plen), False)]
                out.append((s['prefix']['value'], pa, True))
        return out

    def nest(self, setname, ctx):
        out = []
        for name, a in self.spec.sets[setname].items():
            if a['type'] != 'pad' and self.r.random() < 0.5:
                out.append(self.attr(setname, name, ctx))
        return out

    def request(self, op, kind):
        """A well-formed request as a tree: [(type, payload|tree, nested)]."""
        o = self.spec.ops[op]
        r = self.r
        ctx = {'op': op, 'vpn': self.pick_vpn(), 'stamped': False}
        attrs = []
        if kind == 'dump':
            if r.random() < 0.5:
                attrs.append(self.attr('roster', 'vpn-id', ctx))
            return ctx, attrs
        names = list(o['do']['request']['attributes'])
        chosen = []
        for n in names:
            p = {'vpn-id': 0.97, 'member': 0.95, 'generation': 0.35,
                 'flags': 0.3, 'reason': 0.3, 'vpn-flags': 0.4}.get(n, 0.5)
            if r.random() < p:
                chosen.append(n)
        ctx['stamped'] = 'generation' in chosen
        for n in chosen:
            attrs.append(self.attr(o['attribute-set'], n, ctx))
        return ctx, attrs


def encode(tree):
    out = b''
    for atype, payload, nested in tree:
        if isinstance(payload, list):
            out += nla(atype | (NLA_F_NESTED if nested else 0), encode(payload))
        else:
            out += nla(atype, payload)
    return out


class Mutator:
    """Breaks a request tree; marks the message invalid when the spec's
    policy (which the kernel checks before any handler) must refuse it."""

    def __init__(self, spec, rng):
        self.spec = spec
        self.r = rng
        self.counts = {}

    def _walk(self, tree, setname, path=()):
        """Every (list, index, attr spec, set) in the tree."""
        out = []
        byval = {a['value']: a for a in self.spec.sets[setname].values()}
        for i, (t, p, nested) in enumerate(tree):
            a = byval.get(t)
            out.append((tree, i, a, setname))
            if nested and isinstance(p, list) and a and a.get('nested-attributes'):
                out += self._walk(p, a['nested-attributes'])
        return out

    def mutate(self, op, kind, tree):
        """Returns (tree, nlmsg flag bits, cmd override, version, invalid, tail)."""
        r = self.r
        invalid = False
        flags = 0
        cmd = None
        version = None
        tail = None
        dropped = False
        topset = self.spec.ops[op]['attribute-set']
        policy = set(self.spec.sets[topset][n]['value']
                     for n in self.spec.ops[op].get('do', {}).get('request', {}).get('attributes', []))
        if kind == 'dump':
            policy = set(self.spec.sets[topset][n]['value']
                         for n in self.spec.ops[op]['do']['request']['attributes'])
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            m = r.choice(['length', 'range', 'nestflag', 'unknown', 'extra', 'dup',
                          'drop', 'deep', 'nlflags', 'cmd', 'version', 'trunc',
                          'flip', 'byteorder', 'scalar-as-nest'])
            self.counts[m] = self.counts.get(m, 0) + 1
            nodes = self._walk(tree, topset)
            if m == 'length' and nodes:
                lst, i, a, _ = r.choice(nodes)
                t, p, nested = lst[i]
                if a and a['type'] in SCALAR or (a and self.spec.check(a, 'exact-len')):
                    size = len(p)
                    n = r.choice([x for x in (0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 17, 31, 33)
                                  if x != size])
                    lst[i] = (t, r.randbytes(n), False)
                    # an attribute of the op's policy, or inside its nest
                    invalid |= lst is not tree or t in policy
            elif m == 'range' and nodes:
                lst, i, a, _ = r.choice(nodes)
                if a and a['type'] in SCALAR:
                    bits = {'u8': 8, 'u16': 16, 'u32': 32, 'u64': 64}[a['type']]
                    lo = self.spec.check(a, 'min')
                    hi = self.spec.check(a, 'max')
                    mask = self.spec.mask(a)
                    bad = []
                    if lo:
                        bad.append(lo - 1)
                    if hi is not None and hi < (1 << bits) - 1:
                        bad.append(r.randrange(hi + 1, 1 << bits))
                    if mask is not None:
                        bad.append(r.randrange(mask + 1) | 1 << r.randrange(mask.bit_length(), bits))
                    if bad:
                        v = r.choice(bad) & ((1 << bits) - 1)
                        enc = SCALAR[a['type']]
                        if a.get('byte-order') == 'big-endian':
                            enc = '>' + enc
                        lst[i] = (lst[i][0], struct.pack(enc, v), False)
                        invalid |= lst is not tree or lst[i][0] in policy
            elif m == 'nestflag' and nodes:
                lst, i, a, _ = r.choice(nodes)
                t, p, nested = lst[i]
                if nested and isinstance(p, list):
                    lst[i] = (t, encode(p), False)       # nest without NLA_F_NESTED
                else:
                    lst[i] = (t | NLA_F_NESTED, p, False)
                invalid |= lst is not tree or t in policy
            elif m == 'unknown':
                lst = r.choice([tree] + [p for (_, p, n) in tree if n and isinstance(p, list)])
                t = r.choice([len(self.spec.sets[topset]) + 1, 0x3fff, r.randrange(11, 0x3fff)])
                lst.insert(r.randrange(len(lst) + 1), (t, r.randbytes(r.randrange(0, 12)), False))
                invalid = True
            elif m == 'extra':
                cands = [a for a in self.spec.sets[topset].values() if a['value'] not in policy]
                if cands:
                    a = r.choice(cands)
                    size = {'u8': 1, 'u16': 2, 'u32': 4, 'u64': 8}.get(a['type'], 4)
                    tree.append((a['value'], r.randbytes(size), False))
                    invalid = True
            elif m == 'dup' and nodes:
                lst, i, _, _ = r.choice(nodes)
                lst.insert(i, lst[i])
            elif m == 'drop' and nodes:
                lst, i, _, _ = r.choice(nodes)
                del lst[i]
                dropped = True      # perhaps what made it invalid
            elif m == 'deep':
                inner = [(1, r.randbytes(4), False)]
                for _ in range(r.randrange(1, 12)):
                    inner = [(r.randrange(1, 11), inner, True)]
                tree.append(inner[0])
            elif m == 'nlflags':
                flags |= r.choice([F_REPLACE, F_EXCL, F_CREATE, F_APPEND, F_ECHO,
                                   F_DUMP, F_DUMP_INTR, r.randrange(1 << 16) & ~(F_REQUEST | F_ACK)])
            elif m == 'cmd':
                cmd = r.choice([0, r.randrange(self.spec.max_cmd + 1, 256)] +
                               list(range(1, self.spec.max_cmd + 1)))
            elif m == 'version':
                version = r.choice([0, self.spec.version + 1, 255])
            elif m == 'trunc':
                tail = 'trunc'
            elif m == 'flip':
                tail = 'flip'
            elif m == 'byteorder' and nodes:
                lst, i, _, _ = r.choice(nodes)
                t, p, nested = lst[i]
                lst[i] = (t | NLA_F_NET_BYTEORDER, p, nested)
            elif m == 'scalar-as-nest' and nodes:
                lst, i, a, _ = r.choice(nodes)
                t, p, nested = lst[i]
                if a and a['type'] in SCALAR:
                    lst[i] = (t, [(1, p, False)], True)
                    invalid |= lst is not tree or t in policy
        return tree, flags, cmd, version, invalid and not dropped, tail


class Fuzzer:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        random.seed(args.seed)
        self.spec = Spec(args.spec)
        self.fid, groups = resolve_family(self.spec.name)
        self.gen = Gen(self.spec, self.rng)
        self.mut = Mutator(self.spec, self.rng)
        self.nl = Nl()
        # small reads keep the kernel's dump datagrams small (it sizes
        # them by the reader's buffer), so that a dump takes several
        self.dumper = Nl(rcvbuf=1 << 16, bufsize=8192)
        self.listener = Nl(rcvbuf=1 << 16)
        for g in self.spec.mcgrps:
            if g in groups:
                self.listener.s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, groups[g])
        self.listener.s.setblocking(False)
        self.stats = {}             # "op/kind" -> [sent, ok, err, mutated]
        self.errnos = {}
        self.fail = {k: [] for k in ('answered', 'refused', 'errno', 'generation',
                                     'invariants')}
        self.ntf = 0
        self.intr = 0
        self.checks = 0
        self.sent = 0

    def bad(self, oracle, what):
        if len(self.fail[oracle]) < 20:
            print('# FAIL %s: %s' % (oracle, what), flush=True)
        self.fail[oracle].append(what)

    def drain(self):
        while True:
            try:
                data = self.listener.s.recv(1 << 16)
            except (BlockingIOError, socket.timeout):
                return
            except OSError as e:        # ENOBUFS: we were too slow, fine
                if e.errno != errno.ENOBUFS:
                    raise
                continue
            self.ntf += 1 if data else 0

    # -- one request -------------------------------------------------------
    def one(self, op, kind, mutate, sock=None, on_first=None):
        o = self.spec.ops[op]
        ctx, tree = self.gen.request(op, kind)
        flags = F_DUMP if kind == 'dump' else 0
        cmd, version, invalid, tail = o['value'], self.spec.version, False, None
        if mutate:
            tree, f, c, v, invalid, tail = self.mut.mutate(op, kind, tree)
            flags |= f
            cmd = cmd if c is None else c
            version = version if v is None else v
        payload = genl(cmd, version, encode(tree))
        if tail == 'trunc' and len(payload) > 4:
            payload = payload[:self.rng.randrange(0, len(payload))]
            invalid = False         # what is left may still be valid
        elif tail == 'flip' and len(payload) > 4:
            b = bytearray(payload)
            for _ in range(self.rng.randrange(1, 4)):
                b[self.rng.randrange(len(b))] ^= 1 << self.rng.randrange(8)
            payload = bytes(b)
            invalid = False
        key = '%s/%s' % (op, kind)
        st = self.stats.setdefault(key, [0, 0, 0, 0])
        st[0] += 1
        st[3] += 1 if mutate else 0
        self.sent += 1
        nl = sock or self.nl
        err, replies, seen = nl.request(self.fid, flags, payload, self.args.answer_timeout,
                                        on_first)
        if err is None:
            self.bad('answered', '%s (seq %d) got no answer in %.0f s' %
                     (key, nl.seq, self.args.answer_timeout))
            return
        if err:
            st[2] += 1
            self.errnos[err] = self.errnos.get(err, 0) + 1
            if err not in KNOWN_ERRNOS:
                self.bad('errno', '%s: errno %d (%s)' % (key, err, os.strerror(err)))
        else:
            st[1] += 1
            if invalid and cmd == o['value'] and version == self.spec.version:
                self.bad('refused', '%s: a request breaking the policy was accepted: %s' %
                         (key, payload.hex()))
        if seen & F_DUMP_INTR:
            self.intr += 1
        if err:
            return
        if kind == 'do' and not mutate:
            self.track(op, ctx, replies)
        elif tail == 'flip':
            self.gen.gens.clear()           # any command, any VPN
        elif cmd in (self.spec.ops['vpn-del']['value'], self.spec.ops['member-leave']['value']):
            self.gen.gens.pop(ctx['vpn'], None)

    def track(self, op, ctx, replies):
        """Generations only grow; a deleted VPN starts afresh."""
        vpn = ctx['vpn']
        if op == 'vpn-del':
            self.gen.gens.pop(vpn, None)
            self.gen.known.pop(vpn, None)
            return
        for p in replies:
            d = dict(parse_attrs(p[4:]))
            if 2 not in d or 1 not in d:
                continue
            g = struct.unpack('Q', d[2])[0]
            prev = self.gen.gens.get(vpn)
            resync = ctx['stamped'] and ctx.get('flags', 0) & 4
            if op in ('member-join', 'member-leave') and prev is not None and \
                    (g < prev or (g == prev and not resync)):
                self.bad('generation', '%s on VPN %d: generation %d after %d' %
                         (op, vpn, g, prev))
            self.gen.gens[vpn] = g
            # the last member gone: delete-empty may have removed the VPN
            if op == 'member-leave' and 6 in d and not struct.unpack('I', d[6])[0]:
                self.gen.gens.pop(vpn, None)
        if op == 'member-join':
            self.gen.known.setdefault(vpn, set()).add(ctx['id'])
        elif op == 'member-leave':
            self.gen.known.get(vpn, set()).discard(ctx['id'])
    # -- the table's invariants --------------------------------------------
    def dump(self, cmd, attrs=b''):
        err, replies, seen = self.nl.request(self.fid, F_DUMP, genl(cmd, self.spec.version, attrs),
                                             self.args.answer_timeout)
        if err is None:
            self.bad('answered', 'invariant dump %d got no answer' % cmd)
            return None
        if err:
            self.bad('invariants', 'dump %d failed: errno %d' % (cmd, err))
            return None
        if seen & F_DUMP_INTR:
            self.bad('invariants', 'dump %d interrupted with no writer running' % cmd)
        return replies

    @staticmethod
    def member_of(payload):
        d = {}
        for t, p in parse_attrs(payload):
            if t == 7:
                d.setdefault('prefix', []).append(dict(parse_attrs(p)))
            else:
                d[t] = p
        return d

    def invariants(self):
        self.checks += 1
        ops = self.spec.ops
        vp = self.dump(ops['vpn-get']['value'])
        mp = self.dump(ops['member-get']['value'])
        if vp is None or mp is None:
            return
        vpns = {}
        for p in vp:
            d = dict(parse_attrs(p[4:]))
            vid = struct.unpack('I', d[1])[0]
            if vid in vpns:
                self.bad('invariants', 'VPN %d dumped twice' % vid)
            vpns[vid] = {'gen': struct.unpack('Q', d[2])[0], 'count': struct.unpack('I', d[6])[0],
                         'flags': struct.unpack('I', d[9])[0], 'members': []}
            if vpns[vid]['gen'] < 1:
                self.bad('invariants', 'VPN %d at generation 0' % vid)
        for p in mp:
            d = dict(parse_attrs(p[4:]))
            vid = struct.unpack('I', d[1])[0]
            if vid not in vpns:
                self.bad('invariants', 'member of VPN %d, which the VPN dump lacks' % vid)
                continue
            g = struct.unpack('Q', d[2])[0]
            if g != vpns[vid]['gen']:
                self.bad('invariants', 'VPN %d: member message at generation %d, VPN at %d' %
                         (vid, g, vpns[vid]['gen']))
            vpns[vid]['members'].append(self.member_of(d[5]))
        for vid, v in vpns.items():
            self.check_vpn(vid, v)
        # one VPN's own dump and do requests agree with the full dump
        if vpns:
            vid = self.rng.choice(list(vpns))
            one = self.dump(ops['member-get']['value'], nla(1, struct.pack('I', vid)))
            if one is not None and len(one) != len(vpns[vid]['members']):
                self.bad('invariants', 'VPN %d: its dump has %d members, the full one %d' %
                         (vid, len(one), len(vpns[vid]['members'])))
            err, rep, _ = self.nl.request(self.fid, 0, genl(ops['vpn-get']['value'], self.spec.version,
                                                            nla(1, struct.pack('I', vid))),
                                          self.args.answer_timeout)
            if err or not rep:
                self.bad('invariants', 'vpn-get of dumped VPN %d: errno %s' % (vid, err))
            else:
                d = dict(parse_attrs(rep[0][4:]))
                if struct.unpack('I', d[6])[0] != vpns[vid]['count']:
                    self.bad('invariants', 'VPN %d: vpn-get and the dump disagree on the count' % vid)
            for m in self.rng.sample(vpns[vid]['members'], min(3, len(vpns[vid]['members']))):
                idattr = 1 if 1 in m else 2
                req = nla(1, struct.pack('I', vid)) + nla(5 | NLA_F_NESTED, nla(idattr, m[idattr]))
                err, rep, _ = self.nl.request(self.fid, 0, genl(ops['member-get']['value'],
                                                                self.spec.version, req),
                                              self.args.answer_timeout)
                if err or not rep:
                    self.bad('invariants', 'member-get of a dumped member of VPN %d: errno %s' %
                             (vid, err))
                    continue
                got = self.member_of(dict(parse_attrs(rep[0][4:]))[5])
                if got != m:
                    self.bad('invariants', 'VPN %d: member-get and the dump disagree' % vid)
        self.gen.known = {vid: set(m.get(1) or m.get(2) for m in v['members'])
                          for vid, v in vpns.items()}
        for vid in list(self.gen.gens):
            if vid in vpns:
                self.gen.gens[vid] = vpns[vid]['gen']
            else:
                del self.gen.gens[vid]

    def check_vpn(self, vid, v):
        ms = v['members']
        if len(ms) != v['count']:
            self.bad('invariants', 'VPN %d: member-count %d, %d members dumped' %
                     (vid, v['count'], len(ms)))
        nested = v['flags'] & 2
        seen_ids = set()
        pfx = []
        for m in ms:
            mid = m.get(1) or m.get(2)
            if mid is None or (1 in m and 2 in m):
                self.bad('invariants', 'VPN %d: a member without exactly one id' % vid)
                continue
            if mid in seen_ids:
                self.bad('invariants', 'VPN %d: member %s twice' % (vid, mid.hex()))
            seen_ids.add(mid)
            if (6 in m) != (4 in m or 5 in m):
                self.bad('invariants', 'VPN %d: member %s has half an endpoint' % (vid, mid.hex()))
            jg = struct.unpack('Q', m[9])[0] if 9 in m else 0
            if not 1 <= jg <= v['gen']:
                self.bad('invariants', 'VPN %d: member %s join-generation %d, VPN at %d' %
                         (vid, mid.hex(), jg, v['gen']))
            own = set()
            for p in m.get('prefix', []):
                addr = p.get(1) or p.get(2)
                plen = p[3][0]
                bits = len(addr) * 8
                n = int.from_bytes(addr, 'big')
                if plen > bits or (plen < bits and n & ((1 << (bits - plen)) - 1)):
                    self.bad('invariants', 'VPN %d: prefix %s/%d is not a network' %
                             (vid, addr.hex(), plen))
                if (addr, plen) in own:
                    self.bad('invariants', 'VPN %d: member %s has prefix %s/%d twice' %
                             (vid, mid.hex(), addr.hex(), plen))
                own.add((addr, plen))
                pfx.append((len(addr), n, plen, bits, mid))
        # every pair of prefixes of different members: O(n^2) on small tables
        for i in range(len(pfx)):
            fa, na, la, bits, ma = pfx[i]
            for j in range(i + 1, len(pfx)):
                fb, nb, lb, _, mb = pfx[j]
                if fa != fb or ma == mb:
                    continue
                k = min(la, lb)
                if na >> (bits - k) != nb >> (bits - k):
                    continue
                if not nested or la == lb:
                    self.bad('invariants', 'VPN %d: members %s and %s hold overlapping '
                             'prefixes %x/%d and %x/%d' % (vid, ma.hex(), mb.hex(), na, la, nb, lb))

    # -- the sysctls of this namespace ---------------------------------------
    def sysctl(self, name, value):
        try:
            with open('/proc/sys/net/roster/' + name, 'w') as f:
                f.write('%d\n' % value)
        except OSError:
            pass

    def run(self):
        reqs = self.spec.requests()
        t_end = time.monotonic() + self.args.seconds
        n = 0
        restore = -1
        while time.monotonic() < t_end and (not self.args.max_msgs or self.sent < self.args.max_msgs):
            op, kind = self.rng.choice(reqs)
            # changes more often than reads, so that the table fills up
            if kind == 'do' and op in ('member-join',) and self.rng.random() < 0.5:
                self.one(op, kind, False)
            r = self.rng.random()
            if r < 0.02:
                self.interleaved_dump()
            elif r < 0.025:
                self.sysctl(self.rng.choice(['max_vpns', 'max_members']),
                            self.rng.choice([1, 2, 5, 20]))
                restore = n + 200
            else:
                self.one(op, kind, self.rng.random() < self.args.mutate)
            n += 1
            if n == restore:
                self.sysctl('max_vpns', 1024)
                self.sysctl('max_members', 131072)
            if n % 64 == 0:
                self.drain()
            if n % self.args.check_every == 0:
                self.invariants()
        self.sysctl('max_vpns', 1024)
        self.sysctl('max_members', 131072)
        self.drain()
        self.invariants()

    def interleaved_dump(self):
        """A member dump read one datagram at a time while changes go on."""
        def changes():
            for _ in range(self.rng.randrange(1, 6)):
                self.one(self.rng.choice(['member-join', 'member-leave', 'vpn-del']), 'do', False)
        op = 'member-get'
        self.one(op, 'dump', False, sock=self.dumper, on_first=changes)

    def report(self, path):
        total = sum(s[0] for s in self.stats.values())
        print('# seed %d: %d messages in %.1f s (%d invariant checks, %d notification '
              'datagrams, %d dumps flagged interrupted)' %
              (self.args.seed, total, time.monotonic() - self.t0, self.checks, self.ntf, self.intr))
        for key in sorted(self.stats):
            s = self.stats[key]
            print('# %-20s sent %6d  ok %6d  error %6d  mutated %6d' % (key, s[0], s[1], s[2], s[3]))
        print('# errnos: ' + ', '.join('%s %d' % (errno.errorcode.get(e, e), c)
                                        for e, c in sorted(self.errnos.items())))
        print('# mutations: ' + ', '.join('%s %d' % kv for kv in sorted(self.mut.counts.items())))
        with open(path, 'w') as f:
            for k, v in self.fail.items():
                f.write('%s=%s %d\n' % (k, 'fail' if v else 'ok', len(v)))
            f.write('messages=%d\n' % total)
            for key in sorted(self.stats):
                f.write('sent.%s=%d\n' % (key, self.stats[key][0]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--spec', required=True)
    ap.add_argument('--seed', type=int, default=None)
    ap.add_argument('--seconds', type=float, default=20)
    ap.add_argument('--max-msgs', type=int, default=0)
    ap.add_argument('--mutate', type=float, default=0.3, help='share of mutated requests')
    ap.add_argument('--check-every', type=int, default=300)
    ap.add_argument('--answer-timeout', type=float, default=10)
    ap.add_argument('--results', required=True)
    args = ap.parse_args()
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), 'little')
    print('# nl_fuzz: seed %d, %g s (reproduce: ROSTER_FUZZ_SEED=%d)' %
          (args.seed, args.seconds, args.seed), flush=True)
    fz = Fuzzer(args)
    fz.t0 = time.monotonic()
    fz.run()
    fz.report(args.results)
    return 1 if any(fz.fail.values()) else 0


if __name__ == '__main__':
    sys.exit(main())
