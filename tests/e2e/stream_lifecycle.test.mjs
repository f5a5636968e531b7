// Streams that clients abandon, and streams that run side by side (the server has 2 slots).
//
// The engine cannot be observed from here, so these tests check what a client can see:
// the process survives, every slot comes back, and the next requests are served in full.

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { APIUserAbortError } from 'openai';

import {
    assertServing, chatMessages, readStream, summarizeChatChunks,
} from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

// Long enough that the client hangs up while the server is still generating.
const LONG_MAX_TOKENS = 200;

describeEachModel('stream lifecycle', (model) => {
    const ctx = useServer(model);
    const startStream = (extra, options) => ctx.client.chat.completions.create({
        model: model.id, messages: chatMessages(), stream: true, max_tokens: LONG_MAX_TOKENS,
        temperature: 1, ...extra,
    }, options);

    // Reads until `count` content deltas arrived, then leaves the loop, which makes the SDK
    // abort the request and close the connection.
    const readThenBreak = async (stream, count) => {
        let seen = 0;
        for await (const chunk of stream) {
            if (chunk.choices[0]?.delta?.content) {
                seen += 1;
            }
            if (seen >= count) {
                break;
            }
        }
        return seen;
    };

    it('keeps serving after clients leave streams early', async () => {
        for (const seed of [1, 2, 3]) {
            const seen = await readThenBreak(await startStream({ seed }), 2);
            assert.equal(seen, 2, 'the stream delivered deltas before the client left');
        }
        await assertServing(ctx);
    });

    it('keeps serving after a stream is aborted through an AbortSignal', async () => {
        const abort = new AbortController();
        const stream = await startStream({ seed: 4 }, { signal: abort.signal });
        let seen = 0;
        try {
            for await (const chunk of stream) {
                seen += chunk.choices[0]?.delta?.content ? 1 : 0;
                if (seen === 1) {
                    abort.abort();
                }
            }
        } catch (err) {
            assert.ok(err instanceof APIUserAbortError || err.name === 'AbortError', String(err));
        }
        assert.ok(seen >= 1);
        await assertServing(ctx);
    });

    it('frees both slots when both streams are abandoned at once', async () => {
        const streams = await Promise.all([startStream({ seed: 5 }), startStream({ seed: 6 })]);
        await Promise.all(streams.map((stream) => readThenBreak(stream, 1)));

        // Both slots must be usable again: two requests side by side each run to max_tokens.
        const ask = () => ctx.client.completions.create({
            model: model.id, prompt: 'Once upon a time', max_tokens: 4, temperature: 0,
        });
        const answers = await Promise.all([ask(), ask()]);
        for (const res of answers) {
            assert.equal(res.choices[0].finish_reason, 'length');
            assert.equal(res.usage.completion_tokens, 4);
        }
        assert.ok(ctx.server.isAlive());
    });

    it('completes two streams that run at the same time', async () => {
        const run = async (text, seed) => {
            const stream = await ctx.client.chat.completions.create({
                model: model.id, messages: chatMessages(text), stream: true, max_tokens: 32,
                temperature: 1, seed, stream_options: { include_usage: true },
            });
            return summarizeChatChunks(await readStream(stream));
        };
        const results = await Promise.all([
            run('Tell me a story about a cat.', 21),
            run('Tell me a story about a boat.', 22),
        ]);
        for (const result of results) {
            assert.ok(['stop', 'length'].includes(result.finish[0]), `finish: ${result.finish[0]}`);
            assert.ok(result.texts[0].length > 0);
            assert.ok(result.usage.completion_tokens >= 1);
        }
        assert.notEqual(results[0].chunks[0].id, results[1].chunks[0].id, 'each stream has its id');
        await assertServing(ctx);
    });
});
