// OpenAI's Responses API through the official SDK: responses.create and responses.stream (its
// event sequence read by the SDK's own ResponseStream), the stored response read back, deleted,
// continued with previous_response_id and kept across a restart; function tools with a forced
// call and its output sent back; text.format json_schema; media in input items through the
// gate; and what osprey cannot honour refused in OpenAI's shape.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { BadRequestError, NotFoundError } from 'openai';

import { expectApiError } from './lib/api.mjs';
import { serverBinary, startServer } from './lib/server.mjs';
import { describeEachModel, makeClient, useServer } from './lib/suite.mjs';

const TOOLS_MODEL = process.env.OSPREY_TEST_TOOLS_MODEL;

/** Every event of a stream, in order, through the SDK's ResponseStream; and its final response. */
async function streamAll(client, params) {
    const stream = client.responses.stream(params);
    const events = [];
    for await (const event of stream) {
        events.push(event);
    }
    return { events, final: await stream.finalResponse() };
}

describeEachModel('responses', (model) => responsesSuite(model, useServer(model)));

// Everything a client does with responses, on the server `ctx` starts (SQLite or PostgreSQL).
function responsesSuite(model, ctx) {
    const params = (extra) => ({
        model: model.id,
        input: 'Tell me a story about a cat.',
        max_output_tokens: 12,
        temperature: 0,
        ...extra,
    });

    it('answers a string input with a Response object', async () => {
        const r = await ctx.client.responses.create(params({ metadata: { run: 'e2e' } }));
        assert.match(r.id, /^resp_/);
        assert.equal(r.object, 'response');
        assert.equal(r.model, model.id);
        assert.ok(['completed', 'incomplete'].includes(r.status));
        if (r.status === 'incomplete') {
            assert.equal(r.incomplete_details.reason, 'max_output_tokens');
        }
        assert.equal(r.output.length, 1);
        assert.equal(r.output[0].type, 'message');
        assert.equal(r.output[0].role, 'assistant');
        assert.equal(r.output[0].content[0].type, 'output_text');
        assert.equal(r.output_text, r.output[0].content[0].text);
        assert.ok(r.output_text.length > 0);
        assert.ok(r.usage.input_tokens > 0);
        assert.ok(r.usage.output_tokens > 0 && r.usage.output_tokens <= 12);
        assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
        assert.deepEqual(r.metadata, { run: 'e2e' });
        assert.equal(r.store, true);
    });

    it('streams every event, numbered, and the SDK assembles the same answer', async () => {
        const whole = await ctx.client.responses.create(params());
        const { events, final } = await streamAll(ctx.client, params());
        events.forEach((e, i) => assert.equal(e.sequence_number, i, e.type));
        const types = events.map((e) => e.type);
        assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress',
            'response.output_item.added', 'response.content_part.added']);
        assert.deepEqual(types.slice(-4), ['response.output_text.done',
            'response.content_part.done', 'response.output_item.done',
            whole.status === 'completed' ? 'response.completed' : 'response.incomplete']);
        const deltas = events.filter((e) => e.type === 'response.output_text.delta');
        assert.ok(deltas.length > 0);
        assert.equal(deltas.map((e) => e.delta).join(''), whole.output_text);
        assert.equal(final.output_text, whole.output_text);
        assert.equal(final.status, whole.status);
        assert.deepEqual(final.usage, whole.usage);
    });

    it('keeps the response: retrieve returns it, delete removes it', async () => {
        const r = await ctx.client.responses.create(params());
        const kept = await ctx.client.responses.retrieve(r.id);
        assert.equal(kept.id, r.id);
        assert.equal(kept.output_text, r.output_text);
        assert.deepEqual(kept.usage, r.usage);
        await ctx.client.responses.delete(r.id);
        await expectApiError(ctx.client.responses.retrieve(r.id),
            { status: 404, code: 'response_not_found', errorClass: NotFoundError });
        await expectApiError(ctx.client.responses.delete(r.id),
            { status: 404, code: 'response_not_found', errorClass: NotFoundError });
    });

    it('keeps nothing with store false', async () => {
        const r = await ctx.client.responses.create(params({ store: false }));
        assert.equal(r.store, false);
        await expectApiError(ctx.client.responses.retrieve(r.id),
            { status: 404, errorClass: NotFoundError });
    });

    it('continues from previous_response_id, reusing the cached conversation', async () => {
        // A long answer, so that the cache holds more answer than prompt: the answer's text
        // need not come back as the same tokens, yet the earlier prompt is reused whole.
        const first = await ctx.client.responses.create(params({ instructions: 'Be brief.',
            max_output_tokens: 48 }));
        const second = await ctx.client.responses.create(params({ instructions: 'Be brief.',
            input: 'And then?', previous_response_id: first.id }));
        assert.equal(second.previous_response_id, first.id);
        // The earlier input and answer are in the prompt, and the earlier prompt is cached (but
        // for its last tokens, which the template may write otherwise before an answer).
        assert.ok(second.usage.input_tokens > first.usage.input_tokens,
            `${second.usage.input_tokens} vs ${first.usage.input_tokens}`);
        assert.ok(second.usage.input_tokens_details.cached_tokens >= first.usage.input_tokens - 4,
            `${JSON.stringify(second.usage)} after ${JSON.stringify(first.usage)}`);
    });

    it('refuses a previous_response_id it does not have with a 404', async () => {
        await expectApiError(ctx.client.responses.create(params({ previous_response_id: 'resp_nope' })),
            { status: 404, code: 'response_not_found', param: 'previous_response_id',
                errorClass: NotFoundError });
    });

    it('takes a list of input items, with roles and content parts', async () => {
        const r = await ctx.client.responses.create(params({
            instructions: 'You tell stories.',
            input: [
                { role: 'developer', content: 'Short ones.' },
                { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'A cat.' }] },
                { role: 'assistant', content: [{ type: 'output_text', text: 'Once.' }] },
                { role: 'user', content: 'More.' },
            ] }));
        assert.ok(r.output_text.length > 0);
    });

    it('answers JSON that matches text.format json_schema', async () => {
        const schema = {
            type: 'object',
            properties: { name: { type: 'string', maxLength: 12 }, legs: { type: 'integer', minimum: 0, maximum: 8 } },
            required: ['name', 'legs'],
            additionalProperties: false,
        };
        const r = await ctx.client.responses.create(params({ max_output_tokens: 80,
            text: { format: { type: 'json_schema', name: 'animal', schema, strict: true } } }));
        assert.deepEqual(r.text.format.name, 'animal');
        if (r.status === 'completed') {
            const value = JSON.parse(r.output_text);
            assert.deepEqual(Object.keys(value).sort(), ['legs', 'name']);
        } else {
            assert.match(r.output_text, /^\s*\{/);
        }
    });

    const refusals = [
        ['a hosted tool', { tools: [{ type: 'web_search_preview' }] }, 'tools[0].type'],
        ['a file input', { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
            'input[0].content[0].type'],
        ['an unknown item type', { input: [{ type: 'item_reference', id: 'x' }] }, 'input[0].type'],
        ['background mode', { background: true }, 'background'],
        ['an unknown field', { frobnicate: 1 }, 'frobnicate'],
        ['an empty input list', { input: [] }, 'input'],
    ];
    for (const [what, extra, param] of refusals) {
        it(`refuses ${what}, naming the field`, async () => {
            await expectApiError(ctx.client.responses.create(params(extra)),
                { status: 400, param, errorClass: BadRequestError });
        });
    }

    it('refuses a blocked image URL in an input item before any SSE byte', async () => {
        const body = params({ stream: true, input: [{ role: 'user', content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: 'http://127.0.0.1:9/cat.png' }] }] });
        const res = await fetch(`${ctx.server.baseURL}/responses`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
        });
        assert.equal(res.status, 400);
        assert.match(res.headers.get('content-type'), /^application\/json/);
        const error = (await res.json()).error;
        assert.equal(error.code, 'media_unavailable');
        assert.equal(error.param, 'input[0].content[1].image_url');
        assert.ok(!JSON.stringify(error).includes('127.0.0.1'));
    });
}

// A private PostgreSQL (tests/store's osprey-test-postgresql) on loopback: the same suite on it,
// and two servers sharing it as replicas would.
const POSTGRESQL = process.env.OSPREY_TEST_POSTGRESQL;
describe('responses on a PostgreSQL store', {
    skip: !serverBinary() ? 'OSPREY_BIN is not set'
        : !POSTGRESQL ? 'OSPREY_TEST_POSTGRESQL is not set' : false,
}, () => {
    const pg = { url: undefined, child: undefined };
    before(async () => {
        pg.child = spawn(POSTGRESQL, [], { stdio: ['pipe', 'pipe', 'inherit'] });
        pg.exited = new Promise((resolve) => pg.child.on('exit', resolve));
        pg.url = await new Promise((resolve, reject) => {
            let out = '';
            pg.child.stdout.setEncoding('utf8');
            pg.child.stdout.on('data', (text) => {
                out += text;
                if (out.includes('\n')) {
                    resolve(out.split('\n')[0].trim());
                }
            });
            pg.child.on('exit', (code) => reject(new Error(`osprey-test-postgresql exited ${code}`)));
        });
    });
    after(async () => {
        pg.child?.stdin.end();
        await pg.exited;
    });
    const modelPath = (process.env.OSPREY_TEST_MODELS ?? '').split(',')[0];
    const model = { path: modelPath, id: basename(modelPath ?? '').replace(/\.gguf$/, '') };
    const store = () => ['--store', pg.url];
    const ctx = useServer(model, { args: store });
    const replica = useServer(model, { args: store });

    responsesSuite(model, ctx);

    it('shares responses between two servers on one store', async () => {
        const first = await ctx.client.responses.create({ model: model.id, input: 'Hello.',
            max_output_tokens: 6, temperature: 0 });
        const kept = await replica.client.responses.retrieve(first.id);
        assert.equal(kept.output_text, first.output_text);
        const next = await replica.client.responses.create({ model: model.id, input: 'More.',
            previous_response_id: first.id, max_output_tokens: 4, temperature: 0 });
        assert.ok(next.usage.input_tokens > first.usage.input_tokens);
        await replica.client.responses.delete(first.id);
        await expectApiError(ctx.client.responses.retrieve(first.id),
            { status: 404, errorClass: NotFoundError });
    });
});

describe('responses kept across a restart', { skip: !serverBinary() && 'OSPREY_BIN is not set' }, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'osprey-e2e-restart-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));
    const modelPath = (process.env.OSPREY_TEST_MODELS ?? '').split(',')[0];
    const id = basename(modelPath ?? '').replace(/\.gguf$/, '');

    it('retrieves and continues a response after the server restarts', async () => {
        let server = await startServer(modelPath, { args: ['--data-dir', dataDir] });
        let first;
        try {
            first = await makeClient(server).responses.create({ model: id, input: 'Hello there.',
                max_output_tokens: 8, temperature: 0 });
        } finally {
            await server.stop();
        }
        server = await startServer(modelPath, { args: ['--data-dir', dataDir] });
        try {
            const client = makeClient(server);
            const kept = await client.responses.retrieve(first.id);
            assert.equal(kept.output_text, first.output_text);
            const next = await client.responses.create({ model: id, input: 'Go on.',
                previous_response_id: first.id, max_output_tokens: 4, temperature: 0 });
            assert.ok(next.usage.input_tokens > first.usage.input_tokens);
        } finally {
            await server.stop();
        }
    });
});

const toolsSkip = !serverBinary() ? 'OSPREY_BIN is not set'
    : !TOOLS_MODEL ? 'OSPREY_TEST_TOOLS_MODEL is not set' : false;

describe('function tools on the Responses API', { skip: toolsSkip }, () => {
    const model = { path: TOOLS_MODEL, id: basename(TOOLS_MODEL ?? '').replace(/\.gguf$/, '') };
    const ctx = useServer(model, { args: ['--ctx-size', '1024'] });
    const weather = {
        type: 'function',
        name: 'get_weather',
        description: 'The weather in a city.',
        parameters: {
            type: 'object',
            properties: { city: { enum: ['Paris', 'Rome'] } },
            required: ['city'],
            additionalProperties: false,
        },
        strict: true,
    };
    const params = (extra) => ({
        model: model.id,
        input: 'What is the weather in Paris?',
        tools: [weather],
        tool_choice: { type: 'function', name: 'get_weather' },
        parallel_tool_calls: false,
        max_output_tokens: 300,
        temperature: 0,
        ...extra,
    });
    const assertCall = (item) => {
        assert.equal(item.type, 'function_call');
        assert.equal(item.name, 'get_weather');
        assert.match(item.call_id, /^call_/);
        assert.match(item.id, /^fc_/);
        assert.ok(['Paris', 'Rome'].includes(JSON.parse(item.arguments).city), item.arguments);
    };

    it('makes the forced call as a function_call item', async () => {
        const r = await ctx.client.responses.create(params());
        assert.equal(r.status, 'completed');
        const calls = r.output.filter((i) => i.type === 'function_call');
        assert.equal(calls.length, 1, JSON.stringify(r.output));
        assertCall(calls[0]);
    });

    it('streams the call\'s arguments, and the SDK assembles the same item', async () => {
        const whole = await ctx.client.responses.create(params());
        const { events, final } = await streamAll(ctx.client, params());
        const types = new Set(events.map((e) => e.type));
        assert.ok(types.has('response.function_call_arguments.delta'));
        assert.ok(types.has('response.function_call_arguments.done'));
        const call = final.output.find((i) => i.type === 'function_call');
        assertCall(call);
        assert.equal(call.arguments, whole.output.find((i) => i.type === 'function_call').arguments);
    });

    it('takes the call\'s output back with previous_response_id', async () => {
        const first = await ctx.client.responses.create(params());
        const call = first.output.find((i) => i.type === 'function_call');
        const second = await ctx.client.responses.create(params({
            previous_response_id: first.id,
            input: [{ type: 'function_call_output', call_id: call.call_id, output: '21 degrees' }],
            tool_choice: 'none', max_output_tokens: 8 }));
        assert.ok(second.output.every((i) => i.type === 'message'));
        assert.ok(second.usage.input_tokens > first.usage.input_tokens + 10);
    });
});
