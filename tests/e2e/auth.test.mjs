// API keys: --api-key and OSPREY_API_KEY guard every route but /health; the key is accepted
// as a bearer token (what the SDK sends) and as an x-api-key header.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AuthenticationError } from 'openai';

import {
    STORY_PROMPT, assertRawError, assertServing, chatMessages, expectApiError, getRaw, postRaw,
} from './lib/api.mjs';
import { describeEachModel, makeClient, useServer } from './lib/suite.mjs';

const FLAG_KEY = 'e2e-key-from-flag';
const ENV_KEY = 'e2e-key-from-env';
const unauthorized = { status: 401, errorClass: AuthenticationError };

describeEachModel('api keys', (model) => {
    const chatBody = { model: model.id, messages: chatMessages(), max_tokens: 2 };
    const completionBody = { model: model.id, prompt: STORY_PROMPT, max_tokens: 2 };

    describe('with --api-key', () => {
        const ctx = useServer(model, { args: ['--api-key', FLAG_KEY], api_key: FLAG_KEY });

        it('accepts the key as a bearer token, as the SDK sends it', async () => {
            const page = await ctx.client.models.list();
            assert.deepEqual(page.data.map((m) => m.id), [model.id]);
            const res = await ctx.client.chat.completions.create(chatBody);
            assert.equal(res.choices.length, 1);
        });

        it('answers a wrong key with 401 on every API route', async () => {
            const wrong = makeClient(ctx.server, 'not-the-key');
            await expectApiError(wrong.models.list(), unauthorized);
            await expectApiError(wrong.chat.completions.create(chatBody), unauthorized);
            await expectApiError(wrong.completions.create(completionBody), unauthorized);
            await assertServing(ctx);
        });

        it('answers a missing key with 401, before looking at the request', async () => {
            assertRawError(await getRaw(ctx.server, '/v1/models'), 401);
            assertRawError(await postRaw(ctx.server, '/v1/chat/completions', chatBody), 401);
            assertRawError(await postRaw(ctx.server, '/v1/completions', completionBody), 401);
            assertRawError(await postRaw(ctx.server, '/v1/completions', '{"broken'), 401);
            assertRawError(await getRaw(ctx.server, '/v1/no-such-route'), 401);
        });

        it('accepts the key in an x-api-key header', async () => {
            const headers = { 'x-api-key': FLAG_KEY };
            const models = await getRaw(ctx.server, '/v1/models', headers);
            assert.equal(models.status, 200, models.text);
            const res = await postRaw(ctx.server, '/v1/completions', completionBody, headers);
            assert.equal(res.status, 200, res.text);
            assert.equal(JSON.parse(res.text).choices.length, 1);
        });

        it('rejects a wrong x-api-key header', async () => {
            const headers = { 'x-api-key': 'not-the-key' };
            assertRawError(await getRaw(ctx.server, '/v1/models', headers), 401);
        });

        it('serves /health without a key', async () => {
            const res = await getRaw(ctx.server, '/health');
            assert.equal(res.status, 200, res.text);
        });
    });

    describe('with OSPREY_API_KEY in the environment', () => {
        const ctx = useServer(model, { env: { OSPREY_API_KEY: ENV_KEY }, api_key: ENV_KEY });

        it('requires the key it was given', async () => {
            const page = await ctx.client.models.list();
            assert.equal(page.data.length, 1);
            await expectApiError(makeClient(ctx.server, FLAG_KEY).models.list(), unauthorized);
        });
    });
});
