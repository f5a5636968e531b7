// Each victim by literal address, in every spelling that matters, and URL tricks that try to
// make the checked host differ from the fetched one.

import { before } from 'node:test';

import { expectBlocked, MAIN_ARGS, startOsprey, suite } from './lib/harness.mjs';

const { netCase } = suite('literals');
let osprey;
before(async () => {
    osprey = await startOsprey('literals', MAIN_ARGS);
});

const blocked = {
    // 127.0.0.1 (victim loopback4) and the spellings a URL parser may turn into it
    loopback: [
        'http://127.0.0.1/', 'http://127.0.0.1:80/secret', 'http://127.0.0.1:443/',
        'http://2130706433/', 'http://0x7f000001/', 'http://127.1/', 'http://127.0.1/',
        'http://0177.0.0.1/', 'http://0x7f.0.0.1/', 'http://127.000.000.001/',
        'http://017700000001/', 'http://127.0.0.1./', 'HTTP://127.0.0.1/', 'http://127.0.0.2/',
        'http://0.0.0.0/', 'http://0/', 'http://[::]/',
        'http://[::1]/', 'http://[0:0:0:0:0:0:0:1]/', 'http://[0000::1]/', 'http://[::1]:443/',
        'http://[::ffff:127.0.0.1]/', 'http://[::ffff:7f00:1]/', 'http://[::127.0.0.1]/',
        'http://[0:0:0:0:0:ffff:127.0.0.1]/', 'http://[64:ff9b::7f00:1]/',
        'http://[2002:7f00:1::]/', 'http://[::ffff:0:127.0.0.1]/',
    ],
    // the far namespace's victims
    metadata: [
        'http://169.254.169.254/latest/meta-data/', 'http://2852039166/', 'http://0xa9fea9fe/',
        'http://169.254.43518/', 'http://[::ffff:169.254.169.254]/', 'http://[::ffff:a9fe:a9fe]/',
    ],
    private10: [
        'http://10.0.0.5/', 'http://167772165/', 'http://0x0a000005/', 'http://10.5/',
        'http://012.0.0.5/', 'http://[::ffff:10.0.0.5]/', 'http://[::ffff:a00:5]/',
        'http://[64:ff9b::a00:5]/', 'http://[2002:a00:5::]/', 'http://[2001::f5ff:fffa]/',
    ],
    private192: ['http://192.168.1.10/', 'http://3232235786/', 'http://[::ffff:192.168.1.10]/'],
    cgnat: ['http://100.64.0.1/', 'http://1681915905/', 'http://[::ffff:100.64.0.1]/'],
    private172: ['http://172.16.0.1/', 'http://2886729729/', 'http://[::ffff:172.16.0.1]/'],
    ula: [
        'http://[fd00::5]/', 'http://[FD00::5]/', 'http://[fd00:0:0:0:0:0:0:5]/',
        'https://[fd00::5]/',
    ],
    // the server's own addresses: public-looking, and private
    own: [
        'http://93.184.216.99/', 'http://[2606:4700::99]/', 'http://10.99.0.1/',
        'http://[fd99::1]/',
    ],
    // addresses without a server behind them: refused all the same
    special: [
        'http://[fe80::1]/', 'http://[fe80::1%25osn0]/', 'http://[fe80::1%osn0]/',
        'http://224.0.0.1/', 'http://255.255.255.255/', 'http://240.0.0.1/',
        'http://192.0.2.1/', 'http://198.18.0.1/', 'http://[ff02::1]/', 'http://[fec0::1]/',
        'http://[2001:db8::1]/', 'http://[100::1]/',
    ],
};

for (const [group, urls] of Object.entries(blocked)) {
    for (const url of urls) {
        netCase(`literal ${group}: ${url}`, async () => {
            await expectBlocked(osprey, url);
        });
    }
}

// The checked host and the fetched host must be the same one, however the URL is spelled.
const tricks = [
    'http://93.184.216.34@127.0.0.1/',
    'http://user:pass@127.0.0.1/',
    'http://127.0.0.1@93.184.216.34/image.png',
    'http://127.0.0.1#@93.184.216.34/image.png',
    'http://93.184.216.34\\@127.0.0.1/',
    'http://127.0.0.1\\.93.184.216.34/',
    'http://%31%32%37.0.0.1/',
    'http://127.0.0.1%2f.93.184.216.34/',
    'http://127%2e0%2e0%2e1/',
    'http://①②⑦.0.0.1/',
    'http://127.0.0.1 .93.184.216.34/',
    'http://127.0.0.1\t/',
    'http:/127.0.0.1/',
    'http:127.0.0.1/',
    'http:\\\\127.0.0.1\\',
    '//127.0.0.1/',
    'http://127.0.0.1:80:80/',
    'http://[::1]@93.184.216.34/image.png',
    'http://[127.0.0.1]/',
    'http://0x7f.1/',
    'http://victim-10.osprey-net.com@93.184.216.34/image.png',
];
for (const url of tricks) {
    netCase(`url trick: ${JSON.stringify(url)}`, async () => {
        await expectBlocked(osprey, url);
    });
}
