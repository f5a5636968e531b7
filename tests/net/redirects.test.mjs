// Redirects from the outside server: to each victim by literal and by name, with every
// redirect status, absolute and relative Locations, other schemes, and too many hops.

import { before } from 'node:test';

import { expectBlocked, expectPassed, MAIN_ARGS, startOsprey, suite } from './lib/harness.mjs';

const { netCase } = suite('redirects');
let osprey;
before(async () => {
    osprey = await startOsprey('redirects', MAIN_ARGS);
});

const D = 'osprey-net.com';
const OUT = 'http://93.184.216.34';
const OUT6 = 'http://[2606:4700::1111]';
const via = (to, code = 302, from = OUT) =>
    `${from}/redirect?code=${code}&to=${encodeURIComponent(to)}`;

// Every victim, by literal and by name, behind a 302.
const targets = [
    'http://127.0.0.1/', 'http://[::1]/', 'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.5/', 'http://192.168.1.10/', 'http://100.64.0.1/', 'http://172.16.0.1/',
    'http://[fd00::5]/', 'http://93.184.216.99/', 'http://[2606:4700::99]/', 'http://10.99.0.1/',
    'http://2130706433/', 'http://0x7f000001/', 'http://127.1/', 'http://[::ffff:127.0.0.1]/',
    'http://0.0.0.0/',
    'http://metadata.test-victims.net/latest/meta-data/', `http://victim-10.${D}/`,
    `http://victim-192.${D}/`, `http://victim-cgnat.${D}/`, `http://victim-172.${D}/`,
    `http://victim-ula.${D}/`, `http://victim-loop.${D}/`, `http://victim-loop6.${D}/`,
    `http://victim-own.${D}/`, `http://dns-victim-10.${D}/`, `http://mixed.${D}/`,
    'http://localhost/', 'http://metadata.google.internal/',
];
for (const to of targets) {
    netCase(`302 to ${to}`, async () => {
        await expectBlocked(osprey, via(to));
    });
}

// Every redirect status, to a loopback and a metadata victim.
for (const code of [301, 302, 303, 307, 308]) {
    for (const to of ['http://127.0.0.1/', 'http://169.254.169.254/latest/meta-data/']) {
        netCase(`${code} to ${to}`, async () => {
            await expectBlocked(osprey, via(to, code));
        });
    }
}

netCase('302 from the IPv6 outside address to [::1]', async () => {
    // The refusal must come from the second hop, not from a failure to fetch the first.
    await expectBlocked(osprey, via('http://[::1]/', 302, OUT6), { rule: /rule=loopback/ });
});

netCase('302 from a public name to a victim name', async () => {
    await expectBlocked(osprey, via(`http://victim-10.${D}/`, 302, `http://outside.${D}`));
});

netCase('two hops: outside, outside again, then a victim', async () => {
    await expectBlocked(osprey, via(via('http://10.0.0.5/', 307), 302));
});

// Relative and odd Locations, resolved against the outside URL.
const odd = [
    '//127.0.0.1/', '//[::1]/', '//169.254.169.254/latest/meta-data/', `//victim-10.${D}/`,
    '///127.0.0.1/', '\\\\127.0.0.1\\', '/\\127.0.0.1/', 'http:127.0.0.1/', 'http:/127.0.0.1/',
    'http://127.0.0.1', ' http://127.0.0.1/', 'http://127.0.0.1:80/', 'http://127.0.0.1:8080/',
    'HTTP://127.0.0.1/', 'http://user@127.0.0.1/',
];
for (const to of odd) {
    netCase(`302 with Location ${JSON.stringify(to)}`, async () => {
        await expectBlocked(osprey, via(to));
    });
}

// Other schemes, which the fetcher must never follow.
const schemes = [
    'file:///etc/passwd', 'FILE:///etc/passwd', 'file://localhost/etc/passwd', 'file:/etc/passwd',
    'gopher://127.0.0.1:80/_GET%20/%20HTTP/1.0%0d%0a%0d%0a', 'dict://127.0.0.1:80/info',
    'ftp://127.0.0.1/', 'ldap://127.0.0.1/', 'telnet://127.0.0.1:80/', 'tftp://127.0.0.1/x',
    'scp://127.0.0.1/x', 'smb://127.0.0.1/x', 'ws://127.0.0.1/', 'jar:http://127.0.0.1!/',
    'data:image/png;base64,iVBORw0KGgo=', 'javascript:alert(1)',
];
for (const to of schemes) {
    netCase(`302 to scheme ${to.split(':')[0]}: ${to}`, async () => {
        await expectBlocked(osprey, via(to));
    });
}

netCase('302 to the outside server on a port that is not allowed', async () => {
    await expectBlocked(osprey, via('http://93.184.216.34:8080/image.png'));
});

netCase('redirect loop', async () => {
    await expectBlocked(osprey, `${OUT}/loop`, { rule: /rule=too_many_redirects/ });
});

netCase('six redirects, one more than allowed', async () => {
    await expectBlocked(osprey, `${OUT}/chain?n=6`, { rule: /rule=too_many_redirects/ });
});

netCase('five redirects, as many as allowed, pass', async () => {
    await expectPassed(osprey, `${OUT}/chain?n=5`);
});

for (const code of [301, 302, 303, 307, 308]) {
    netCase(`${code} to a relative public image passes`, async () => {
        await expectPassed(osprey, via('/image.png', code));
    });
}

netCase('302 from IPv4 outside to the IPv6 outside image passes', async () => {
    await expectPassed(osprey, via(`${OUT6}/image.png`));
});
