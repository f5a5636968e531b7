// Victims by name: from /etc/hosts and from DNS, names with mixed public and private answers,
// DNS rebinding, and names refused before any lookup.

import assert from 'node:assert/strict';
import { before } from 'node:test';

import {
    chat, dnsQueries, expectBlocked, expectPassed, MAIN_ARGS, networkState, PASSED_PREFIX,
    PUBLIC_MESSAGE, startOsprey, suite,
} from './lib/harness.mjs';

const { netCase } = suite('names');
let osprey;
before(async () => {
    osprey = await startOsprey('names', MAIN_ARGS);
});

const D = 'osprey-net.com';

const hostsNames = [
    'metadata.test-victims.net', `victim-10.${D}`, `victim-192.${D}`, `victim-cgnat.${D}`,
    `victim-172.${D}`, `victim-ula.${D}`, `victim-loop.${D}`, `victim-loop6.${D}`,
    `victim-zero.${D}`, `victim-own.${D}`, `victim-own6.${D}`, `victim-veth.${D}`,
    `VICTIM-10.OSPREY-NET.COM`, `victim-10.${D}.`, `Metadata.Test-Victims.Net`,
];
for (const name of hostsNames) {
    netCase(`hosts-file name: ${name}`, async () => {
        await expectBlocked(osprey, `http://${name}/latest/meta-data/`);
    });
}

const dnsNames = [
    `dns-victim-10.${D}`, `dns-victim-loop.${D}`, `dns-victim-meta.${D}`, `dns-victim-ula.${D}`,
    `dns-victim-loop6.${D}`, `dns-mapped.${D}`, `dns-nat64.${D}`, `dns-zero.${D}`, `dns-own.${D}`,
];
for (const name of dnsNames) {
    netCase(`DNS name: ${name}`, async () => {
        const { after } = await expectBlocked(osprey, `http://${name}/`);
        assert.ok(dnsQueries(after, name) > 0, `${name} was looked up through our DNS server`);
    });
}

// One refused answer refuses the name, whichever answer comes first and whatever the family.
const mixed = [
    `mixed.${D}`, `mixed-rev.${D}`, `mixed-loop.${D}`, `mixed6.${D}`, `mixed-loop6.${D}`,
    `mixed-meta.${D}`, `hosts-mixed.${D}`,
];
for (const name of mixed) {
    netCase(`mixed public and private answers: ${name}`, async () => {
        await expectBlocked(osprey, `http://${name}/image.png`);
    });
}

// Names that can only be local are refused by name: they reach no resolver at all (each one
// is also in /etc/hosts or in DNS with a victim's address).
const localNames = [
    'localhost', 'localhost.', 'LOCALHOST', 'svc.localhost', 'printer.local', 'nas.local',
    'metadata.google.internal', 'cache.internal', 'db.home.arpa', 'api.test', 'web.test',
    'thing.example', 'svc.invalid', 'x.onion', '5.0.0.10.in-addr.arpa', 'victim', 'intranet',
];
for (const name of localNames) {
    netCase(`local-only name refused before lookup: ${name}`, async () => {
        const { after } = await expectBlocked(osprey, `http://${name}/`);
        assert.equal(dnsQueries(after, name), 0, `${name} must not be looked up`);
    });
}

netCase('unresolvable name', async () => {
    const { line } = await expectBlocked(osprey, `http://nxdomain.${D}/image.png`);
    assert.match(line, /rule=unresolvable/);
});

// DNS rebinding. rebind1 answers its first A query with the outside server and every later
// one with 127.0.0.1: osprey resolves once and connects only to what it checked, so the fetch
// may reach the outside server and nothing else.
netCase('DNS rebinding: one lookup, pinned connection', async () => {
    const name = `rebind1.${D}`;
    const before = await networkState();
    assert.equal(dnsQueries(before, name), 0, 'fresh name');
    const res = await chat(osprey, `http://${name}/image.png`);
    const after = await networkState();
    assert.deepEqual(after.victims, before.victims, 'no victim reached');
    assert.equal(res.status, 400, res.text);
    const message = JSON.parse(res.text).error.message;
    assert.ok(message === PUBLIC_MESSAGE || message.startsWith(PASSED_PREFIX), message);
    const aQueries = after.dns.filter((q) => q.name === name && q.type === 'A').length;
    const asked = after.dns.filter((q) => q.name === name);
    assert.equal(aQueries, 1, `one A lookup of ${name}: ${JSON.stringify(asked)}`);
    if (message.startsWith(PASSED_PREFIX)) {
        assert.ok(after.outside.some((r) => r.host === name),
            'the image came from the outside server, the only address that was checked');
    }
});

// rebind2: the outside server redirects to the same name, whose second answer is loopback.
// The second hop is looked up and checked again, and refused.
netCase('DNS rebinding across a redirect to the same name', async () => {
    const name = `rebind2.${D}`;
    const { after } = await expectBlocked(osprey,
        `http://${name}/redirect?to=${encodeURIComponent(`http://${name}/image.png`)}`);
    assert.ok(after.dns.filter((q) => q.name === name && q.type === 'A').length >= 2,
        'the name was looked up again for the second hop');
});

netCase('DNS rebinding to the metadata address across a redirect', async () => {
    const name = `rebind3.${D}`;
    const to = encodeURIComponent(`http://${name}/latest/meta-data/`);
    await expectBlocked(osprey, `http://${name}/redirect?code=307&to=${to}`);
});

netCase('a public name through DNS passes (control case)', async () => {
    await expectPassed(osprey, `http://dns-outside.${D}/image.png`);
});
