// Structured output on Chat Completions through the official SDK: response_format json_object
// and json_schema are enforced with a grammar, so even a random-weight model answers JSON of
// the right shape, streamed or not; a schema past osprey's bounds is refused by keyword.

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

    // The SDK's own parse helper reads the answer back against the schema's shape.
    const person = {
        type: 'object',
        properties: {
            name: { type: 'string', maxLength: 16 },
            age: { type: 'integer', minimum: 1, maximum: 99 },
            pet: { enum: ['cat', 'dog', null] },
        },
        required: ['name', 'age', 'pet'],
        additionalProperties: false,
    };
    const schemaFormat = { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: person } };

    it('answers JSON that matches a json_schema, whatever the seed', async () => {
        for (const seed of [1, 2, 3]) {
            const r = await ctx.client.chat.completions.parse(params({
                temperature: 1, seed, max_tokens: 120, response_format: schemaFormat,
            }));
            const choice = r.choices[0];
            assert.equal(choice.finish_reason, 'stop', choice.message.content);
            const value = choice.message.parsed;
            assert.deepEqual(Object.keys(value).sort(), ['age', 'name', 'pet'], choice.message.content);
            assert.equal(typeof value.name, 'string');
            assert.ok(value.name.length <= 16);
            assert.ok(Number.isInteger(value.age) && value.age >= 1 && value.age <= 99, `${value.age}`);
            assert.ok(['cat', 'dog', null].includes(value.pet), `${value.pet}`);
        }
    });

    it('streams the same schema-bound JSON', async () => {
        const p = params({ temperature: 0, max_tokens: 120, response_format: schemaFormat });
        const whole = await ctx.client.chat.completions.create(p);
        const stream = await ctx.client.chat.completions.create({ ...p, stream: true });
        const text = (await readStream(stream)).map((c) => c.choices[0]?.delta?.content ?? '').join('');
        assert.equal(text, whole.choices[0].message.content);
        assert.equal(typeof JSON.parse(text).age, 'number');
    });

    it('refuses a schema that would crash or stall the grammar engine, naming the keyword', async () => {
        const refused = [
            [{ type: 'integer', minimum: 5, maximum: 3 }, 'response_format.json_schema.schema'],
            [{ type: 'string', minLength: 3, maxLength: 2 }, 'response_format.json_schema.schema.minLength'],
            [{ type: 'string', pattern: '^(a+)+$' }, 'response_format.json_schema.schema.pattern'],
            [{ type: 'object', properties: Object.fromEntries(
                Array.from({ length: 500 }, (_, i) => [`p${i}`, { type: 'string' }])) },
            'response_format.json_schema.schema.properties'],
        ];
        for (const [schema, param] of refused) {
            await expectApiError(ctx.client.chat.completions.create(params({
                response_format: { type: 'json_schema', json_schema: { name: 'x', schema } },
            })), { status: 400, errorClass: BadRequestError, param });
        }
        await expectApiError(ctx.client.chat.completions.create(params({
            response_format: { type: 'json_schema', json_schema: { schema: person } },
        })), { status: 400, errorClass: BadRequestError, param: 'response_format.json_schema.name' });
    });
});
