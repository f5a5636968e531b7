// What the outside server sends: endless, slow, lying and wrongly typed bodies; ports; the
// same refusals for streaming requests, several parts, and audio and video parts.

import assert from 'node:assert/strict';
import { before } from 'node:test';

import {
    chat, expectBlocked, expectPassed, MAIN_ARGS, networkState, startOsprey, suite,
} from './lib/harness.mjs';

const { netCase } = suite('transfer');
let osprey;
before(async () => {
    osprey = await startOsprey('transfer', MAIN_ARGS);
});

const OUT = 'http://93.184.216.34';

const sizeCases = [
    ['endless chunked body', '/endless', /rule=too_large/],
    ['endless body without a length', '/endless-raw', /rule=too_large/],
    ['Content-Length 100 with an endless chunked body', '/cl-small-chunked',
        /rule=(too_large|transfer_failed)/],
    ['Content-Length past the cap, little sent', '/cl-huge', /rule=too_large/],
    ['Content-Length past the cap, all of it sent', '/cl-huge-streaming', /rule=too_large/],
    ['Content-Length longer than the body', '/cl-short', /rule=transfer_failed/],
    ['header block past the cap', '/big-headers', /rule=headers_too_large/],
];
for (const [title, path, rule] of sizeCases) {
    netCase(`${title}: ${path}`, async () => {
        // The rule in the log says the cap fired, not some later failure. (No clock is read:
        // tests check behaviour, never wall-clock time.)
        await expectBlocked(osprey, `${OUT}${path}`, { rule });
    });
}

const slowCases = [
    ['slow body', '/slow-body'],
    ['slow headers', '/slow-headers'],
    ['no answer at all', '/silent'],
];
for (const [title, path] of slowCases) {
    netCase(`${title} ends at --media-timeout: ${path}`, async () => {
        // --media-timeout is 2 s on this instance; the rule says the timeout is what ended it.
        await expectBlocked(osprey, `${OUT}${path}`, { rule: /rule=timeout/ });
    });
}

const typeCases = [
    ['HTML', '/html'],
    ['SVG', '/svg'],
    ['HTML bytes labelled image/png', '/html-labelled-png'],
];
for (const [title, path] of typeCases) {
    netCase(`wrong type: ${title}`, async () => {
        await expectBlocked(osprey, `${OUT}${path}`, { rule: /rule=wrong_type/ });
    });
}

netCase('gzip content-encoding', async () => {
    await expectBlocked(osprey, `${OUT}/gzip`);
});

for (const code of [403, 404, 500]) {
    netCase(`HTTP status ${code} with an image body`, async () => {
        await expectBlocked(osprey, `${OUT}/status?code=${code}`, { rule: /rule=http_status/ });
    });
}

netCase('port not allowed: outside server on 8080', async () => {
    await expectBlocked(osprey, `${OUT}:8080/image.png`);
});

netCase('port not allowed: outside name on 8080', async () => {
    await expectBlocked(osprey, 'http://outside.osprey-net.com:8080/image.png');
});

netCase('https to a port where nothing listens', async () => {
    await expectBlocked(osprey, 'https://93.184.216.34/image.png');
});

netCase('scheme not allowed: ftp to the outside server', async () => {
    await expectBlocked(osprey, 'ftp://93.184.216.34/image.png');
});

netCase('file:///etc/passwd without a media root', async () => {
    await expectBlocked(osprey, 'file:///etc/passwd');
});

netCase('an absolute path without a media root', async () => {
    await expectBlocked(osprey, '/etc/passwd');
});

// Streaming requests: the gate runs before the first byte, so the answer is the same JSON 400.
for (const url of ['http://127.0.0.1/', 'http://169.254.169.254/latest/meta-data/',
    `${OUT}/redirect?to=${encodeURIComponent('http://10.0.0.5/')}`, `${OUT}/endless`,
    `${OUT}/slow-body`]) {
    netCase(`streaming request, blocked: ${url}`, async () => {
        await expectBlocked(osprey, url, { stream: true });
    });
}

netCase('streaming request, passing image: a JSON 400 from the model, not a stream', async () => {
    await expectPassed(osprey, `${OUT}/image.png`, { stream: true });
});

netCase('two parts, one public and one victim: the request is refused', async () => {
    await expectBlocked(osprey, [`${OUT}/image.png`, 'http://10.0.0.5/']);
});

netCase('two parts, the victim first', async () => {
    await expectBlocked(osprey, ['http://[::1]/', `${OUT}/image.png`]);
});

for (const kind of ['audio_url', 'video_url']) {
    netCase(`${kind} part to a victim`, async () => {
        await expectBlocked(osprey, 'http://169.254.169.254/latest/meta-data/', { kind });
    });
    netCase(`${kind} part redirected to a victim`, async () => {
        await expectBlocked(osprey, `${OUT}/redirect?to=${encodeURIComponent('http://127.0.0.1/')}`,
            { kind });
    });
}

// A flood of blocked requests at once must not open a gap either.
netCase('twenty blocked requests in parallel', async () => {
    const before = await networkState();
    const urls = ['http://127.0.0.1/', 'http://10.0.0.5/', 'http://[fd00::5]/',
        'http://victim-loop.osprey-net.com/',
        `${OUT}/redirect?to=${encodeURIComponent('http://169.254.169.254/')}`];
    const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => chat(osprey, urls[i % urls.length])));
    const after = await networkState();
    assert.deepEqual(after.victims, before.victims);
    for (const r of results) {
        assert.equal(r.status, 400, r.text);
        assert.equal(JSON.parse(r.text).error.code, 'media_unavailable');
        const logged = osprey.lines.some((l) => l.includes('media.fetch_refused') &&
            l.includes(`req=${r.requestId}`) && l.includes('rule='));
        assert.ok(logged, `refusal logged for ${r.requestId}`);
    }
});
