// POST /v1/messages and /v1/messages/count_tokens through the official Anthropic SDK: the
// Message shape, stop reasons, the event stream read by the SDK's own MessageStream, token
// counts that agree with usage, and errors in Anthropic's shape (from the SDK's error classes
// and raw), before any SSE byte when the request is bad.

import assert from 'node:assert/strict';
import { it } from 'node:test';

import Anthropic, {
    APIError, AuthenticationError, BadRequestError, NotFoundError,
} from '@anthropic-ai/sdk';

import { pickStop, postRaw } from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

const KEY = 'anthropic-e2e-key-5b1c';

function anthropicClient(server, apiKey = 'unused') {
    return new Anthropic({ baseURL: server.origin, apiKey, maxRetries: 0, timeout: 30_000 });
}

/** Awaits a call that must fail with `errorClass`, in Anthropic's error shape. */
async function expectAnthropicError(promise, { status, errorClass, type }) {
    const err = await promise.then(
        (value) => assert.fail(`expected HTTP ${status}, got ${JSON.stringify(value)}`),
        (error) => error,
    );
    assert.ok(err instanceof APIError, `expected an APIError, got ${err?.stack ?? err}`);
    assert.ok(err instanceof errorClass, `expected ${errorClass.name}, got ${err.constructor.name}`);
    assert.equal(err.status, status, err.message);
    assert.equal(err.error?.type, 'error', `body type: ${JSON.stringify(err.error)}`);
    assert.equal(err.error.error.type, type, err.message);
    assert.ok(err.error.error.message.length > 0);
    assert.ok(err.requestID, 'request-id header on an error');
    assert.equal(err.error.request_id, err.requestID, 'the body names the same request id');
    return err;
}

/** The whole prompt: what was read fresh, and what was read from the reused prefix. */
const promptTokens = (usage) => usage.input_tokens + usage.cache_read_input_tokens;

/** Splits a raw SSE body into {name, data} events, checking the framing on the way. */
function parseEvents(text) {
    return text.split('\n\n').filter((block) => block.length > 0).map((block) => {
        const lines = block.split('\n');
        assert.equal(lines.length, 2, `an event line and a data line: ${block}`);
        assert.match(lines[0], /^event: [a-z_]+$/);
        assert.match(lines[1], /^data: \{/);
        const name = lines[0].slice('event: '.length);
        const data = JSON.parse(lines[1].slice('data: '.length));
        assert.equal(data.type, name, 'the event name is its data type');
        return { name, data };
    });
}

describeEachModel('anthropic messages', (model) => {
    const ctx = useServer(model);
    const client = () => anthropicClient(ctx.server);
    const ask = (extra = {}) => ({
        model: model.id,
        max_tokens: 12,
        temperature: 0,
        messages: [{ role: 'user', content: 'Tell me a story about a cat.' }],
        ...extra,
    });

    it('answers with a Message', async () => {
        const { data: msg, request_id } = await client().messages.create(ask()).withResponse();
        assert.ok(request_id, 'request-id header');
        assert.match(msg.id, /^msg_/);
        assert.equal(msg.type, 'message');
        assert.equal(msg.role, 'assistant');
        assert.equal(msg.model, model.id);
        assert.equal(msg.content.length, 1);
        assert.equal(msg.content[0].type, 'text');
        assert.ok(['end_turn', 'max_tokens'].includes(msg.stop_reason), msg.stop_reason);
        assert.equal(msg.stop_sequence, null);
        assert.ok(msg.usage.input_tokens > 0);
        assert.ok(msg.usage.output_tokens >= 1 && msg.usage.output_tokens <= 12);
    });

    it('stops at max_tokens and at a stop sequence, and says which', async () => {
        const long = await client().messages.create(ask({ max_tokens: 24 }));
        assert.equal(long.stop_reason, 'max_tokens');
        assert.equal(long.usage.output_tokens, 24);

        const { stop, expected } = pickStop(long.content[0].text);
        const stopped = await client().messages.create(ask({ max_tokens: 24, stop_sequences: [stop] }));
        assert.equal(stopped.stop_reason, 'stop_sequence');
        assert.equal(stopped.stop_sequence, stop);
        assert.equal(stopped.content[0].text, expected);
    });

    it('streams events that the SDK assembles into the same Message', async () => {
        const whole = await client().messages.create(ask());
        const stream = client().messages.stream(ask());
        const names = [];
        for await (const event of stream) {
            names.push(event.type);
        }
        const final = await stream.finalMessage();
        assert.equal(names[0], 'message_start');
        assert.equal(names[1], 'content_block_start');
        assert.deepEqual(names.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
        assert.ok(names.includes('content_block_delta'));
        assert.equal(final.content[0].text, whole.content[0].text);
        assert.equal(final.stop_reason, whole.stop_reason);
        assert.equal(promptTokens(final.usage), promptTokens(whole.usage));
        assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
        // The same prompt again: all of it but its last token is read from the first one's.
        assert.equal(final.usage.input_tokens, 1);
        assert.equal(final.usage.cache_read_input_tokens, promptTokens(whole.usage) - 1);
    });

    it('frames every event with its name, in valid UTF-8', async () => {
        const res = await fetch(`${ctx.server.origin}/v1/messages`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
            body: JSON.stringify(ask({ stream: true, max_tokens: 16 })),
        });
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type'), /^text\/event-stream/);
        const text = new TextDecoder('utf-8', { fatal: true }).decode(await res.arrayBuffer());
        const events = parseEvents(text);
        assert.equal(events.filter((e) => e.name === 'ping').length, 1);
        const start = events[0].data.message;
        const delta = events.at(-2).data;
        assert.equal(delta.type, 'message_delta');
        assert.equal(delta.usage.output_tokens, 16);
        assert.equal(delta.delta.stop_reason, 'max_tokens');
        assert.ok(start.usage.input_tokens > 0);
    });

    it('counts tokens as usage does', async () => {
        const params = ask({ system: [{ type: 'text', text: 'You are terse.' }] });
        const msg = await client().messages.create(params);
        const { model: m, messages, system } = params;
        const counted = await client().messages.countTokens({ model: m, messages, system });
        assert.equal(counted.input_tokens, promptTokens(msg.usage));
    });

    it('continues a final assistant turn without repeating it', async () => {
        const messages = [
            { role: 'user', content: 'Tell me a story about a cat.' },
            { role: 'assistant', content: 'Once upon a time' },
        ];
        const plain = await client().messages.countTokens({ model: model.id, messages: messages.slice(0, 1) });
        const counted = await client().messages.countTokens({ model: model.id, messages });
        assert.ok(counted.input_tokens > plain.input_tokens, 'the prefill is part of the prompt');
        const msg = await client().messages.create(ask({ messages }));
        assert.equal(promptTokens(msg.usage), counted.input_tokens);
        assert.ok(!msg.content[0].text.startsWith('Once upon a time'), msg.content[0].text);
    });

    it('counts a prompt longer than the context, and ends an answer where the context does', async () => {
        // The suite's servers run with --ctx-size 512.
        const long = [{ role: 'user', content: 'once upon a time '.repeat(300) }];
        const counted = await client().messages.countTokens({ model: model.id, messages: long });
        assert.ok(counted.input_tokens > 512, `${counted.input_tokens} tokens`);
        await expectAnthropicError(client().messages.create(ask({ messages: long })),
            { status: 400, errorClass: BadRequestError, type: 'invalid_request_error' });
        // max_tokens far past the context is a cap, as clients send it.
        const msg = await client().messages.create(ask({ max_tokens: 100000 }));
        assert.ok(['end_turn', 'max_tokens'].includes(msg.stop_reason), msg.stop_reason);
        const used = msg.usage.input_tokens + msg.usage.cache_read_input_tokens + msg.usage.output_tokens;
        // The last token is sampled from the context's last position and needs none of its own.
        assert.ok(used <= 512 + 1, `${used} tokens in a 512-token context`);
        assert.ok(used > 400, `the answer ran to the context's end: ${used} tokens`);
    });

    it('refuses bad requests in Anthropic\'s shape, streamed or not', async () => {
        await expectAnthropicError(client().messages.create({ ...ask(), max_tokens: undefined }),
            { status: 400, errorClass: BadRequestError, type: 'invalid_request_error' });
        await expectAnthropicError(client().messages.create(ask({ model: 'no-such-model' })),
            { status: 404, errorClass: NotFoundError, type: 'not_found_error' });
        const tools = [{ name: 'add', input_schema: { type: 'object', properties: {} } }];
        const err = await expectAnthropicError(client().messages.create(ask({ tools })),
            { status: 400, errorClass: BadRequestError, type: 'invalid_request_error' });
        assert.match(err.error.error.message, /tools/);
        // A bad streaming request is a JSON error, not an event stream.
        const raw = await postRaw(ctx.server, '/v1/messages', ask({ stream: true, temperature: 3 }));
        assert.equal(raw.status, 400);
        assert.match(raw.headers.get('content-type'), /^application\/json/);
        const body = JSON.parse(raw.text);
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'invalid_request_error');
        assert.match(body.error.message, /temperature/);
        // Anthropic's routes answer even an unknown path and a wrong content type in their shape.
        const unknown = await postRaw(ctx.server, '/v1/messages/batches', {});
        assert.equal(unknown.status, 404);
        assert.equal(JSON.parse(unknown.text).error.type, 'not_found_error');
        const plain = await postRaw(ctx.server, '/v1/messages', 'hi', { 'content-type': 'text/plain' });
        assert.equal(plain.status, 415);
        assert.equal(JSON.parse(plain.text).type, 'error');
    });

    it('refuses a blocked image URL before any event', async () => {
        // Loopback is never fetched unless allowed: the gate refuses it with a generic message.
        const image = { type: 'image', source: { type: 'url', url: 'http://127.0.0.1:9/cat.png' } };
        const messages = [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, image] }];
        const err = await expectAnthropicError(client().messages.create(ask({ messages })),
            { status: 400, errorClass: BadRequestError, type: 'invalid_request_error' });
        assert.doesNotMatch(err.error.error.message, /127\.0\.0\.1|loopback/);
        const raw = await postRaw(ctx.server, '/v1/messages', ask({ messages, stream: true }));
        assert.equal(raw.status, 400);
        assert.equal(JSON.parse(raw.text).error.type, 'invalid_request_error');
    });
});

describeEachModel('anthropic messages with an API key', (model) => {
    const ctx = useServer(model, { args: ['--api-key', KEY] });

    it('takes the key as x-api-key, and refuses a wrong one in Anthropic\'s shape', async () => {
        const params = {
            model: model.id, max_tokens: 2, messages: [{ role: 'user', content: 'Hi' }],
        };
        const msg = await anthropicClient(ctx.server, KEY).messages.create(params);
        assert.equal(msg.type, 'message');
        await expectAnthropicError(anthropicClient(ctx.server, 'wrong').messages.create(params),
            { status: 401, errorClass: AuthenticationError, type: 'authentication_error' });
    });
});
