// --max-body-bytes: a request body over the limit is refused with 413 and nothing else breaks.

import assert from 'node:assert/strict';
import { it } from 'node:test';

import {
    assertRawError, assertServing, chatMessages, expectApiError, postRaw,
} from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

const LIMIT = 4096;

describeEachModel('request size limit', (model) => {
    const ctx = useServer(model, { args: ['--max-body-bytes', String(LIMIT)] });
    const oversized = {
        model: model.id, messages: chatMessages('a '.repeat(LIMIT)), max_tokens: 1,
    };

    it('refuses a body over --max-body-bytes with 413 through the SDK', async () => {
        assert.ok(JSON.stringify(oversized).length > LIMIT);
        await expectApiError(ctx.client.chat.completions.create(oversized), { status: 413 });
        await assertServing(ctx);
    });

    it('sends an OpenAI-shaped 413 on the wire', async () => {
        assertRawError(await postRaw(ctx.server, '/v1/chat/completions', oversized), 413);
        await assertServing(ctx);
    });
});

describeEachModel('content type', (model) => {
    const ctx = useServer(model);
    const body = JSON.stringify({ model: model.id, prompt: 'Once', max_tokens: 1 });

    // A web page can make a browser send text/plain or form bodies to a server on the
    // user's machine without a preflight; application/json it cannot.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data',
        'application/jsonp']) {
        it(`refuses a ${type} body with 415`, async () => {
            const res = await fetch(`${ctx.server.origin}/v1/completions`, {
                method: 'POST', headers: { 'content-type': type }, body,
            });
            assert.equal(res.status, 415);
            const error = (await res.json()).error;
            assert.equal(error.code, 'unsupported_media_type');
        });
    }

    it('accepts application/json with a charset', async () => {
        const res = await fetch(`${ctx.server.origin}/v1/completions`, {
            method: 'POST', headers: { 'content-type': 'Application/JSON; charset=utf-8' }, body,
        });
        assert.equal(res.status, 200);
        await assertServing(ctx);
    });
});
