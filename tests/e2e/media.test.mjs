// Media parts through the official SDK: the media gate runs before any response byte, so
// a refused URL is an ordinary 400, streamed or not. Only loopback is used here: refusals of
// private, link-local and public addresses are tested in tests/net, inside a namespace.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, it } from 'node:test';

import { BadRequestError } from 'openai';

import { assertServing, expectApiError } from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

const GENERIC = 'The media could not be fetched from the given URL.';
// A whole 2x2 PNG: the gate reads an image's header and structure before passing it on.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a73' +
    '0000001149444154789c63f8cfc000440c60f23f001bf203fdf3e74bb10000000049454e44ae426082', 'hex');
const SECRET = 'loopback-secret-7f3a';

// The media server's port must be known when the osprey servers' flags are written, before
// any hook runs, so it is picked here rather than by binding port 0.
const MEDIA_PORT = 20000 + (process.pid % 20000);

// A loopback media server that counts what it is asked for.
function startMediaServer() {
    const state = { requests: 0, server: undefined, port: 0 };
    state.server = createServer((req, res) => {
        state.requests += 1;
        if (req.url === '/image.png') {
            res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
        } else {
            res.writeHead(200, { 'content-type': 'image/png' }).end(`<html>${SECRET}</html>`);
        }
    });
    return new Promise((resolve) => {
        state.server.listen(MEDIA_PORT, '127.0.0.1', () => {
            state.port = state.server.address().port;
            resolve(state);
        });
    });
}

function imageRequest(model, url, extra = {}) {
    return {
        model: model.id,
        max_tokens: 4,
        messages: [{
            role: 'user',
            content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url } }],
        }],
        ...extra,
    };
}

describeEachModel('media gate', (model) => {
    let media;
    before(async () => { media = await startMediaServer(); });
    after(() => media.server.close());

    // Two servers: the default policy, and one that allows the loopback media server.
    const ports = `80,443,${MEDIA_PORT}`;
    const strict = useServer(model, { args: ['--media-allowed-ports', ports] });
    const allowing = useServer(model, {
        args: ['--media-allow-hosts', '127.0.0.1', '--media-allowed-ports', ports],
    });

    it('refuses a loopback URL with the generic 400 and never connects', async () => {
        const before_count = media.requests;
        const url = `http://127.0.0.1:${media.port}/image.png`;
        const err = await expectApiError(strict.client.chat.completions.create(imageRequest(model, url)),
            { status: 400, code: 'media_unavailable', errorClass: BadRequestError });
        assert.equal(err.error.message, GENERIC);
        assert.ok(!JSON.stringify(err.error).includes('127.0.0.1'), 'no address in the error');
        assert.equal(media.requests, before_count, 'the media server was never reached');
        await assertServing(strict);
    });

    it('refuses before the first SSE byte when streaming', async () => {
        const url = `http://127.0.0.1:${media.port}/image.png`;
        const res = await fetch(`${strict.server.origin}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(imageRequest(model, url, { stream: true })),
        });
        assert.equal(res.status, 400);
        assert.match(res.headers.get('content-type'), /^application\/json/);
        const body = await res.json();
        assert.equal(body.error.code, 'media_unavailable');
        assert.equal(body.error.message, GENERIC);
    });

    it('passes an allowed loopback image through the gate', async () => {
        const before_count = media.requests;
        const url = `http://127.0.0.1:${media.port}/image.png`;
        const err = await expectApiError(
            allowing.client.chat.completions.create(imageRequest(model, url)), { status: 400 });
        assert.match(err.error.message, /does not accept image input/);
        assert.equal(media.requests, before_count + 1, 'fetched exactly once');
    });

    it('refuses fetched bytes that are not an image with the same generic 400', async () => {
        const url = `http://127.0.0.1:${media.port}/page.html`;
        const err = await expectApiError(
            allowing.client.chat.completions.create(imageRequest(model, url)),
            { status: 400, code: 'media_unavailable' });
        assert.equal(err.error.message, GENERIC);
        assert.ok(!JSON.stringify(err.error).includes(SECRET));
    });

    it('decodes a data: URI locally and names a bad one', async () => {
        const good = `data:image/png;base64,${PNG.toString('base64')}`;
        const passed = await expectApiError(
            strict.client.chat.completions.create(imageRequest(model, good)), { status: 400 });
        assert.match(passed.error.message, /does not accept image input/);

        const bad = 'data:image/png;base64,not*base64';
        await expectApiError(strict.client.chat.completions.create(imageRequest(model, bad)),
            { status: 400, code: 'invalid_value', param: 'messages[0].content[1].image_url.url' });
        await assertServing(strict);
    });

    it('refuses file:// without a media root', async () => {
        const err = await expectApiError(
            strict.client.chat.completions.create(imageRequest(model, 'file:///etc/passwd')),
            { status: 400, code: 'media_unavailable' });
        assert.equal(err.error.message, GENERIC);
    });
});
