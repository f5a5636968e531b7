// Structured output on Chat Completions through the official SDK: response_format json_schema
// and json_object are enforced with a grammar, so even a random-weight model answers JSON that
// parses and matches the schema, streamed or not; a schema that cannot be enforced is a 400.

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { BadRequestError } from 'openai';

import { expectApiError, readStream } from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

const SCHEMA = {
    type: 'object',
    properties: {
        mood: { type: 'string', enum: ['happy', 'sad', 'calm'] },
        count: { type: 'integer', minimum: 0, maximum: 99 },
        done: { type: 'boolean' },
    },
    required: ['mood', 'count', 'done'],
    additionalProperties: false,
};

function assertMatchesSchema(text) {
    const value = JSON.parse(text);
    assert.deepEqual(Object.keys(value).sort(), ['count', 'done', 'mood'], text);
    assert.ok(SCHEMA.properties.mood.enum.includes(value.mood), text);
    assert.ok(Number.isInteger(value.count) && value.count >= 0 && value.count <= 99, text);
    assert.equal(typeof value.done, 'boolean', text);
}

describeEachModel('structured output', (model) => {
    const ctx = useServer(model);
    const params = (extra) => ({
        model: model.id,
        max_tokens: 80,
        messages: [{ role: 'user', content: 'How is the cat?' }],
        response_format: {
            type: 'json_schema', json_schema: { name: 'cat_state', strict: true, schema: SCHEMA },
        },
        ...extra,
    });

    it('answers JSON that matches a json_schema, whatever the seed', async () => {
        for (const seed of [1, 2, 3]) {
            const r = await ctx.client.chat.completions.create(params({ temperature: 1, seed }));
            assert.equal(r.choices[0].finish_reason, 'stop');
            assertMatchesSchema(r.choices[0].message.content);
        }
    });

    it('streams the same JSON', async () => {
        const whole = await ctx.client.chat.completions.create(params({ temperature: 0 }));
        const stream = await ctx.client.chat.completions.create(params({ temperature: 0, stream: true }));
        const text = (await readStream(stream)).map((c) => c.choices[0]?.delta?.content ?? '').join('');
        assert.equal(text, whole.choices[0].message.content);
        assertMatchesSchema(text);
    });

    it('answers a JSON object for json_object', async () => {
        const r = await ctx.client.chat.completions.create({
            model: model.id, max_tokens: 60, temperature: 0,
            messages: [{ role: 'user', content: 'Describe the cat.' }],
            response_format: { type: 'json_object' },
        });
        const text = r.choices[0].message.content;
        assert.match(text, /^\s*\{/);
        if (r.choices[0].finish_reason === 'stop') {
            const value = JSON.parse(text);
            assert.equal(typeof value, 'object');
            assert.ok(!Array.isArray(value) && value !== null);
        }
    });

    it('refuses a schema it cannot enforce, naming it', async () => {
        const broken = { $ref: '#/definitions/missing' };
        const err = await expectApiError(ctx.client.chat.completions.create(params({
            response_format: { type: 'json_schema', json_schema: { name: 'x', schema: broken } },
        })), { status: 400, errorClass: BadRequestError, param: 'response_format.json_schema.schema' });
        assert.match(err.message, /cannot be enforced/);
        await expectApiError(ctx.client.chat.completions.create(params({
            response_format: { type: 'json_schema', json_schema: { schema: SCHEMA } },
        })), { status: 400, errorClass: BadRequestError, param: 'response_format.json_schema.name' });
    });
});
