// POST /v1/chat/completions with stream: true: chunk shapes, usage, agreement with the
// non-stream answer, SSE framing, and UTF-8 safety of every delta.

import assert from 'node:assert/strict';
import { it } from 'node:test';

import {
    assertRawError, assertServing, chatMessages, fetchSse, pickStop, postRaw, readStream,
    summarizeChatChunks, tokenCounts,
} from './lib/api.mjs';
import { readVocabSize } from './lib/gguf.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

describeEachModel('chat completions streaming', (model) => {
    const ctx = useServer(model);
    const params = (extra) => ({ model: model.id, messages: chatMessages(), ...extra });
    const whole = (extra) => ctx.client.chat.completions.create(params(extra));
    const streamed = async (extra) => {
        const stream = await ctx.client.chat.completions.create(params({ ...extra, stream: true }));
        return summarizeChatChunks(await readStream(stream));
    };

    it('streams chunks: the role first, then deltas, then one finish_reason', async () => {
        const { data: stream, request_id } = await ctx.client.chat.completions
            .create(params({ max_tokens: 8, stream: true }))
            .withResponse();
        assert.ok(request_id, 'x-request-id header on a stream');
        const chunks = await readStream(stream);
        const summary = summarizeChatChunks(chunks);

        assert.match(chunks[0].id, /^chatcmpl-/);
        for (const chunk of chunks) {
            assert.equal(chunk.object, 'chat.completion.chunk');
            assert.equal(chunk.id, chunks[0].id, 'one id for the whole stream');
            assert.equal(chunk.model, model.id);
            assert.ok(Number.isInteger(chunk.created));
            assert.ok(chunk.choices.length > 0, 'no choice-less chunk without include_usage');
        }
        assert.equal(chunks[0].choices[0].delta.role, 'assistant');
        assert.ok(['stop', 'length'].includes(summary.finish[0]), `finish: ${summary.finish[0]}`);
        const finishing = chunks.filter((c) => c.choices.some((choice) => choice.finish_reason));
        assert.equal(finishing.length, 1, 'exactly one chunk carries finish_reason');
        assert.equal(summary.usage, undefined, 'no usage unless include_usage');
    });

    it('ends with a usage chunk without choices when include_usage is set', async () => {
        const settings = { max_tokens: 6, temperature: 0 };
        const reference = await whole(settings);
        const stream = await ctx.client.chat.completions.create(params({
            ...settings, stream: true, stream_options: { include_usage: true },
        }));
        const chunks = await readStream(stream);
        const last = chunks.at(-1);
        assert.deepEqual(last.choices, []);
        assert.deepEqual(tokenCounts(last.usage), tokenCounts(reference.usage));
        assert.equal(last.usage.completion_tokens, 6);
        assert.equal(summarizeChatChunks(chunks).finish[0], 'length');
    });

    for (const [name, settings] of [
        ['greedy', { temperature: 0 }],
        ['seeded', { temperature: 0.9, seed: 1234 }],
    ]) {
        it(`adds up to the non-stream text (${name})`, async () => {
            const reference = await whole({ ...settings, max_tokens: 24 });
            const summary = await streamed({ ...settings, max_tokens: 24 });
            assert.equal(summary.texts[0], reference.choices[0].message.content);
            assert.equal(summary.finish[0], reference.choices[0].finish_reason);
        });
    }

    // A stop string that spans tokens arrives over several deltas; the server must hold back
    // its first part until it knows whether the rest follows. Stop strings from a few places
    // in the text make it near certain that at least one spans a token boundary.
    for (const at of [0.3, 0.5, 0.7]) {
        const where = `${Math.round(at * 100)}% in`;
        it(`holds back a stop string that may span deltas (taken ${where})`, async () => {
            const settings = { temperature: 0, max_tokens: 40 };
            const reference = (await whole(settings)).choices[0].message.content;
            const { stop, expected } = pickStop(reference, { at, length: 4 });
            const summary = await streamed({ ...settings, stop });
            assert.equal(summary.texts[0], expected, `stop ${JSON.stringify(stop)}`);
            assert.equal(summary.finish[0], 'stop');
        });
    }

    it('streams n choices, each adding up to its non-stream text', async () => {
        const settings = { n: 2, temperature: 1, seed: 77, max_tokens: 10 };
        const reference = await whole(settings);
        const summary = await streamed(settings);
        for (const choice of reference.choices) {
            assert.equal(summary.texts[choice.index], choice.message.content);
            assert.equal(summary.roles[choice.index], 'assistant');
            assert.equal(summary.finish[choice.index], choice.finish_reason);
        }
        assert.equal(summary.texts.length, 2);
    });

    it('frames the raw stream as data lines that end with [DONE]', async () => {
        const { headers, chunks } = await fetchSse(ctx.server, '/v1/chat/completions',
            params({ max_tokens: 4, stream: true }));
        assert.ok(headers.get('x-request-id'));
        assert.equal(summarizeChatChunks(chunks).finish[0], 'length');
    });

    // A token can hold part of a character (Llama's byte tokens do), so a server that sends
    // each token's bytes as they come splits characters. fetchSse rejects invalid UTF-8 in the
    // body; here each delta must also be well formed and the deltas must add up to the
    // non-stream text, which a replacement character in the middle would break.
    it('never splits a UTF-8 character across deltas', async () => {
        let saw_multibyte = false;
        for (const seed of [1, 2, 3]) {
            const settings = { temperature: 1, seed, max_tokens: 48 };
            const reference = await whole(settings);
            const { chunks } = await fetchSse(ctx.server, '/v1/chat/completions',
                params({ ...settings, stream: true }));
            const summary = summarizeChatChunks(chunks);
            for (const chunk of chunks) {
                const delta = chunk.choices[0]?.delta?.content ?? '';
                assert.ok(delta.isWellFormed(), `delta ${JSON.stringify(delta)} is well formed`);
            }
            assert.equal(summary.texts[0], reference.choices[0].message.content, `seed ${seed}`);
            saw_multibyte ||= /[^\x00-\x7f]/.test(summary.texts[0]);
        }
        // Only a large vocabulary is sure to produce non-ASCII text from random sampling.
        if (readVocabSize(model.path) >= 32000) {
            assert.ok(saw_multibyte, 'the model wrote multi-byte text, so this checked something');
        }
    });

    it('rejects a bad streaming request with a plain JSON 400, not a stream', async () => {
        const res = await postRaw(ctx.server, '/v1/chat/completions',
            params({ stream: true, temperature: 'hot' }));
        assertRawError(res, 400);
        assert.doesNotMatch(res.headers.get('content-type') ?? '', /event-stream/);
        await assertServing(ctx);
    });
});
