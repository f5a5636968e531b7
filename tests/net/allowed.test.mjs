// What must pass: the outside server's image by every route, internal stores the operator
// allowed (a separate instance), and the allowed-domains rule (a third instance). Each
// instance still refuses every victim it was not told about.

import assert from 'node:assert/strict';
import { before } from 'node:test';

import {
    dnsQueries, expectBlocked, expectPassed, MAIN_ARGS, startOsprey, suite,
} from './lib/harness.mjs';
import { STORE } from './lib/topology.mjs';

const { netCase } = suite('allowed');
const D = 'osprey-net.com';
let main;
let allow;
let domains;
before(async () => {
    [main, allow, domains] = await Promise.all([
        startOsprey('allowed-main', MAIN_ARGS),
        startOsprey('allowed-allow', [...MAIN_ARGS,
            '--media-allow-hosts', `127.0.0.1,10.20.0.0/16,store.${D}`,
            '--media-allowed-ports', `80,443,${STORE.loopPort}`]),
        startOsprey('allowed-domains', [...MAIN_ARGS, '--media-allowed-domains', D]),
    ]);
});

// -- the default instance --
for (const url of [
    'http://93.184.216.34/image.png', 'http://[2606:4700::1111]/image.png',
    `http://outside.${D}/image.png`, `http://outside6.${D}/image.png`,
    `http://OUTSIDE.${D.toUpperCase()}/image.png`, `http://outside.${D}./image.png`,
    `http://dns-outside.${D}/image.png`, 'http://93.184.216.34:80/image.png',
    'http://93.184.216.34/image-labelled-html',
]) {
    netCase(`passes: ${url}`, async () => {
        const { after } = await expectPassed(main, url);
        assert.ok(after.outside.length > 0, 'the outside server served it');
    });
}

// -- the instance whose operator allowed a loopback store, a range and a name --
netCase('allowed loopback store: 127.0.0.1 (--media-allow-hosts 127.0.0.1)', async () => {
    const { before: b, after: a } =
        await expectPassed(allow, `http://127.0.0.1:${STORE.loopPort}/image.png`);
    assert.equal(a.stores.length, b.stores.length + 1, 'the loopback store served it');
});

netCase('allowed range: 10.20.7.7 (--media-allow-hosts 10.20.0.0/16)', async () => {
    const { before: b, after: a } = await expectPassed(allow, `http://${STORE.cidr}/image.png`);
    assert.equal(a.stores.length, b.stores.length + 1);
});

netCase(`allowed name: store.${D} (--media-allow-hosts store.${D})`, async () => {
    const { before: b, after: a } = await expectPassed(allow, `http://store.${D}/image.png`);
    assert.equal(a.stores.length, b.stores.length + 1);
});

netCase('allowed instance: public images still pass', async () => {
    await expectPassed(allow, 'http://93.184.216.34/image.png');
});

// Allowing some private hosts allows those and nothing else.
for (const url of [
    'http://10.0.0.5/', 'http://[::1]/', 'http://169.254.169.254/', 'http://192.168.1.10/',
    'http://[fd00::5]/', 'http://127.0.0.2/', 'http://93.184.216.99/', `http://victim-10.${D}/`,
    `http://metadata.test-victims.net/`, `http://mixed.${D}/`,
]) {
    netCase(`allowed instance still refuses ${url}`, async () => {
        await expectBlocked(allow, url);
    });
}

// An allowed host cannot lend its trust to where it redirects.
for (const [from, to] of [
    [`http://${STORE.cidr}`, 'http://10.0.0.5/'],
    [`http://store.${D}`, 'http://169.254.169.254/latest/meta-data/'],
    [`http://127.0.0.1:${STORE.loopPort}`, 'http://[::1]/'],
    [`http://store.${D}`, `http://victim-192.${D}/`],
]) {
    netCase(`allowed store redirecting to a victim: ${from} -> ${to}`, async () => {
        await expectBlocked(allow, `${from}/redirect?to=${encodeURIComponent(to)}`);
    });
}

// -- the allowed-domains instance --
netCase(`allowed domain passes: outside.${D}`, async () => {
    await expectPassed(domains, `http://outside.${D}/image.png`);
});

for (const url of [
    'http://93.184.216.34/image.png', 'http://[2606:4700::1111]/image.png',
    'http://evil-osprey-net.com/image.png', 'http://osprey-net.com.evil.org/image.png',
]) {
    netCase(`allowed-domains instance refuses ${url}`, async () => {
        const { after } = await expectBlocked(domains, url);
        const host = new URL(url).hostname;
        assert.equal(dnsQueries(after, host), 0, `${host} was refused before any lookup`);
    });
}

netCase('allowed-domains instance: a name in the domain that points at a victim', async () => {
    await expectBlocked(domains, `http://victim-10.${D}/`);
});

netCase('allowed-domains instance: redirect out of the domain', async () => {
    await expectBlocked(domains,
        `http://outside.${D}/redirect?to=${encodeURIComponent('http://93.184.216.34/image.png')}`);
});
