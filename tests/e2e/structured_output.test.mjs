// Structured output on Chat Completions through the official SDK: response_format json_object
// is enforced with a grammar, so even a random-weight model answers a JSON object, streamed or
// not; json_schema is refused by name until client schemas can be run bounded.

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { BadRequestError } from 'openai';

import { expectApiError, readStream } from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

describeEachModel('structured output', (model) => {
    const ctx = useServer(model);
    const params = (extra) => ({
        model: model.id,
        max_tokens: 60,
        messages: [{ role: 'user', content: 'Describe the cat.' }],
        response_format: { type: 'json_object' },
        ...extra,
    });

    // A random-weight model may write one long string until max_tokens; every answer that
    // ends by itself must be a whole object (the engine's tests show that some do).
    it('answers a JSON object for json_object, whatever the seed', async () => {
        for (const seed of [1, 2, 3, 4]) {
            const r = await ctx.client.chat.completions.create(params({ temperature: 1, seed }));
            const text = r.choices[0].message.content;
            assert.match(text, /^\s*\{/, text);
            if (r.choices[0].finish_reason === 'stop') {
                const value = JSON.parse(text);
                assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), text);
            }
        }
    });

    it('streams the same JSON', async () => {
        const whole = await ctx.client.chat.completions.create(params({ temperature: 0 }));
        const stream = await ctx.client.chat.completions.create(params({ temperature: 0, stream: true }));
        const text = (await readStream(stream)).map((c) => c.choices[0]?.delta?.content ?? '').join('');
        assert.equal(text, whole.choices[0].message.content);
        assert.match(text, /^\s*\{/);
    });

    it('refuses json_schema by name rather than ignoring it', async () => {
        const err = await expectApiError(ctx.client.chat.completions.create(params({
            response_format: {
                type: 'json_schema',
                json_schema: { name: 'x', strict: true, schema: { type: 'object' } },
            },
        })), { status: 400, errorClass: BadRequestError, param: 'response_format.type' });
        assert.match(err.message, /json_object/);
    });
});
