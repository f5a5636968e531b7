// Helpers shared by the test files: error assertions, raw HTTP and SSE access, health checks.

import assert from 'node:assert/strict';

import { APIError } from 'openai';

/** A prompt that both test models continue without ending at once. */
export const STORY_PROMPT = 'Once upon a time, there was a little';

/** A one-turn chat, as the chat tests send it unless they need another. */
export function chatMessages(text = 'Tell me a story about a cat.') {
    return [{ role: 'user', content: text }];
}

/**
 * Awaits `promise`, which must reject with an SDK APIError of `status`, then checks the
 * OpenAI error shape: a message, a type, and (when given) `code`, `param` (string or RegExp)
 * and the SDK error class. Every error response must also carry a request id.
 */
export async function expectApiError(promise, { status, code, param, errorClass }) {
    const err = await promise.then(
        (value) => assert.fail(`expected HTTP ${status}, got success: ${JSON.stringify(value)}`),
        (error) => error,
    );
    assert.ok(err instanceof APIError, `expected an APIError, got ${err?.stack ?? err}`);
    assert.equal(err.status, status, `status of: ${err.message}`);
    if (errorClass) {
        assert.ok(err instanceof errorClass,
            `expected ${errorClass.name}, got ${err.constructor.name}`);
    }
    assert.equal(typeof err.error?.message, 'string', 'error.message is a string');
    assert.ok(err.error.message.length > 0, 'error.message is not empty');
    assert.equal(typeof err.type, 'string', 'error.type is a string');
    if (code !== undefined) {
        assert.equal(err.code, code, `code of: ${err.message}`);
    }
    if (param instanceof RegExp) {
        assert.match(String(err.param), param, `param of: ${err.message}`);
    } else if (param !== undefined) {
        assert.equal(err.param, param, `param of: ${err.message}`);
    }
    assert.ok(err.requestID, 'error response has an x-request-id header');
    return err;
}

/** Sends `body` (an object, or a string sent as is) with fetch; returns status, headers, text. */
export async function postRaw(server, path, body, headers = {}) {
    const res = await fetch(`${server.origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
}

/** GETs `path` with fetch; returns status, headers, text. */
export async function getRaw(server, path, headers = {}) {
    const res = await fetch(`${server.origin}${path}`, { headers });
    return { status: res.status, headers: res.headers, text: await res.text() };
}

/**
 * Checks a raw error response: `status`, an x-request-id, and the OpenAI body shape with all
 * four fields present. Returns the parsed `error` object.
 */
export function assertRawError(res, status) {
    assert.equal(res.status, status, `body: ${res.text}`);
    assert.ok(res.headers.get('x-request-id'), 'error response has an x-request-id header');
    let body;
    assert.doesNotThrow(() => {
        body = JSON.parse(res.text);
    }, `error body is JSON: ${res.text}`);
    assert.ok(body.error && typeof body.error === 'object', `an error object: ${res.text}`);
    for (const field of ['message', 'type', 'param', 'code']) {
        assert.ok(field in body.error, `error.${field} is present: ${res.text}`);
    }
    assert.equal(typeof body.error.message, 'string');
    return body.error;
}

/**
 * POSTs a streaming request with fetch and returns the raw SSE stream, checked on the way:
 * the whole body must be valid UTF-8 (a split character shows up as invalid bytes), every
 * event must be a `data:` line, and the stream must end with `data: [DONE]`.
 * Returns the response headers and the parsed JSON chunks.
 */
export async function fetchSse(server, path, body, headers = {}) {
    const res = await fetch(`${server.origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.equal(res.status, 200, `status of a streaming request: ${Buffer.from(bytes)}`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);

    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    const events = text.split(/\r?\n\r?\n/).filter((event) => event.trim().length > 0);
    assert.ok(events.length >= 2, `at least one chunk and [DONE]: ${text}`);
    assert.equal(events.at(-1).trim(), 'data: [DONE]', 'stream ends with data: [DONE]');

    const chunks = events.slice(0, -1).map((event) => {
        const data = event.split(/\r?\n/).filter((line) => !line.startsWith(':'));
        assert.equal(data.length, 1, `one data line per event: ${event}`);
        assert.match(data[0], /^data: /, `event is a data line: ${event}`);
        return JSON.parse(data[0].slice('data: '.length));
    });
    return { headers: res.headers, chunks };
}

/** The server process is alive and answers a small completion. */
export async function assertServing(ctx) {
    assert.ok(ctx.server.isAlive(), ctx.server.describeFailure('server process is gone'));
    const res = await ctx.client.completions.create({
        model: ctx.model.id, prompt: STORY_PROMPT, max_tokens: 2,
    });
    assert.equal(res.choices.length, 1, 'follow-up request is answered');
    assert.ok(res.usage.completion_tokens >= 1, 'follow-up request generates tokens');
}

/**
 * Folds chat.completion.chunk objects (from the SDK or from fetchSse) into per-choice results:
 * `texts[i]`, `finish[i]`, the role announced for each choice, and the usage chunk if any.
 */
export function summarizeChatChunks(chunks) {
    return summarizeChunks(chunks, (choice) => choice.delta?.content);
}

/** The same for text_completion chunks, whose text is in `choice.text`. */
export function summarizeCompletionChunks(chunks) {
    return summarizeChunks(chunks, (choice) => choice.text);
}

function summarizeChunks(chunks, textOf) {
    const out = { chunks, texts: [], finish: [], roles: [], usage: undefined };
    for (const chunk of chunks) {
        if (chunk.usage) {
            assert.equal(out.usage, undefined, 'usage is sent once');
            out.usage = chunk.usage;
        }
        for (const choice of chunk.choices) {
            const i = choice.index;
            assert.equal(out.finish[i] ?? null, null, `choice ${i} goes on after finish_reason`);
            out.texts[i] = (out.texts[i] ?? '') + (textOf(choice) ?? '');
            out.roles[i] ??= choice.delta?.role;
            out.finish[i] = choice.finish_reason ?? null;
        }
    }
    return out;
}

/** Reads an SDK stream to the end. */
export async function readStream(stream) {
    const chunks = [];
    for await (const chunk of stream) {
        chunks.push(chunk);
    }
    return chunks;
}

/**
 * Picks `length` characters of `text`, starting `at` (a fraction) of the way in, as a stop
 * string, and the text that a rerun with the same settings must then return: everything
 * before the stop string's first occurrence. Skips replacement characters, which stand for
 * bytes that a stop matcher never sees as that character.
 */
export function pickStop(text, { at = 0.5, length = 3 } = {}) {
    const chars = Array.from(text);
    assert.ok(chars.length >= 2 * length + 2, `reference text too short: ${JSON.stringify(text)}`);
    for (let start = Math.floor(chars.length * at); start + length <= chars.length; start++) {
        const stop = chars.slice(start, start + length).join('');
        if (!stop.includes('\uFFFD')) {
            return { stop, expected: text.slice(0, text.indexOf(stop)) };
        }
    }
    assert.fail(`no usable stop string in ${JSON.stringify(text)}`);
}

/** The three token counts of a usage object, for comparing usage across responses. */
export function tokenCounts(usage) {
    assert.ok(usage, 'usage is present');
    const { prompt_tokens, completion_tokens, total_tokens } = usage;
    return { prompt_tokens, completion_tokens, total_tokens };
}
