// GET /health, GET /v1/models, model ids and aliases, and request ids.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { STORY_PROMPT, chatMessages } from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

const ALIAS = 'osprey-e2e-alias';

describeEachModel('models and health', (model) => {
    const ctx = useServer(model);

    it('answers GET /health with 200 and status ok', async () => {
        const res = await fetch(`${ctx.server.origin}/health`);
        assert.equal(res.status, 200);
        assert.equal((await res.json()).status, 'ok');
        assert.ok(res.headers.get('x-request-id'), 'x-request-id header on /health');
    });

    it('lists the one model, named after its file, through the SDK', async () => {
        const page = await ctx.client.models.list();
        assert.equal(page.data.length, 1);
        const [entry] = page.data;
        assert.equal(entry.id, model.id);
        assert.equal(entry.object, 'model');
        assert.ok(Number.isInteger(entry.created) && entry.created > 0, `${entry.created}`);
        assert.equal(entry.owned_by, 'osprey');
    });

    it('retrieves the model by id through the SDK, and 404s any other id', async () => {
        const entry = await ctx.client.models.retrieve(model.id);
        assert.equal(entry.id, model.id);
        assert.equal(entry.object, 'model');
        const res = await fetch(`${ctx.server.origin}/v1/models/no-such-model`);
        assert.equal(res.status, 404);
    });

    it('sends the list shape on the wire, and needs no key when none is set', async () => {
        const res = await fetch(`${ctx.server.baseURL}/models`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        const body = await res.json();
        assert.equal(body.object, 'list');
        assert.deepEqual(body.data.map((m) => m.id), [model.id]);
    });

    it('echoes the model id in completions', async () => {
        const chat = await ctx.client.chat.completions.create({
            model: model.id, messages: chatMessages(), max_tokens: 2,
        });
        assert.equal(chat.model, model.id);
        const text = await ctx.client.completions.create({
            model: model.id, prompt: STORY_PROMPT, max_tokens: 2,
        });
        assert.equal(text.model, model.id);
    });

    it('gives every response its own x-request-id', async () => {
        const ask = () => ctx.client.completions.create({
            model: model.id, prompt: STORY_PROMPT, max_tokens: 1,
        });
        const first = await ask();
        const second = await ask();
        const models = await ctx.client.models.list().withResponse();
        const ids = [first._request_id, second._request_id, models.request_id];
        for (const id of ids) {
            assert.equal(typeof id, 'string');
            assert.ok(id.length > 0);
        }
        assert.equal(new Set(ids).size, 3, `request ids are distinct: ${ids}`);
    });

    describe('with --alias', () => {
        const aliased = useServer(model, { args: ['--alias', ALIAS] });

        it('lists the alias as the model id', async () => {
            const page = await aliased.client.models.list();
            assert.deepEqual(page.data.map((m) => m.id), [ALIAS]);
        });

        it('answers requests that name the alias', async () => {
            const res = await aliased.client.chat.completions.create({
                model: ALIAS, messages: chatMessages(), max_tokens: 2,
            });
            assert.equal(res.model, ALIAS);
            assert.equal(res.choices.length, 1);
        });
    });
});
