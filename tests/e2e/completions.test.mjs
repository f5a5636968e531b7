// POST /v1/completions: response shape, limits, n, logprobs and streaming.

import assert from 'node:assert/strict';
import { it } from 'node:test';

import {
    STORY_PROMPT, readStream, summarizeCompletionChunks, tokenCounts,
} from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

describeEachModel('completions', (model) => {
    const ctx = useServer(model);
    const create = (params) => ctx.client.completions.create({
        model: model.id, prompt: STORY_PROMPT, ...params,
    });

    it('returns a text_completion with one choice and usage', async () => {
        const res = await create({ max_tokens: 8 });
        assert.equal(typeof res.id, 'string');
        assert.ok(res.id.length > 0);
        assert.equal(res.object, 'text_completion');
        assert.ok(Number.isInteger(res.created) && res.created > 0, `created: ${res.created}`);
        assert.equal(res.model, model.id);
        assert.equal(res.choices.length, 1);

        const [choice] = res.choices;
        assert.equal(choice.index, 0);
        assert.equal(typeof choice.text, 'string');
        assert.ok(choice.text.length > 0);
        assert.equal(choice.logprobs ?? null, null, 'logprobs are null unless asked for');
        assert.ok(['stop', 'length'].includes(choice.finish_reason), choice.finish_reason);

        const { usage } = res;
        assert.ok(usage.prompt_tokens > 0);
        assert.ok(usage.completion_tokens >= 1 && usage.completion_tokens <= 8);
        assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
        assert.ok(res._request_id, 'x-request-id header');
    });

    it('stops at max_tokens with finish_reason "length"', async () => {
        const res = await create({ max_tokens: 6, temperature: 0 });
        assert.equal(res.choices[0].finish_reason, 'length');
        assert.equal(res.usage.completion_tokens, 6);
    });

    it('counts the same prompt tokens for the same prompt', async () => {
        const short = await create({ max_tokens: 1 });
        const again = await create({ max_tokens: 1 });
        const longer = await create({
            prompt: `${STORY_PROMPT} girl who liked to play`, max_tokens: 1,
        });
        assert.equal(again.usage.prompt_tokens, short.usage.prompt_tokens);
        assert.ok(longer.usage.prompt_tokens > short.usage.prompt_tokens);
    });

    it('returns n choices indexed from 0', async () => {
        const res = await create({ n: 2, max_tokens: 6, temperature: 1, seed: 9 });
        assert.equal(res.choices.length, 2);
        assert.deepEqual(res.choices.map((c) => c.index).sort(), [0, 1]);
        for (const choice of res.choices) {
            assert.equal(typeof choice.text, 'string');
            assert.ok(['stop', 'length'].includes(choice.finish_reason));
        }
    });

    it('returns logprobs in the legacy shape when logprobs is a number', async () => {
        const res = await create({ max_tokens: 5, temperature: 0, logprobs: 3 });
        const [choice] = res.choices;
        const lp = choice.logprobs;
        assert.ok(lp, 'logprobs present');
        const count = res.usage.completion_tokens;
        assert.equal(lp.tokens.length, count);
        assert.equal(lp.token_logprobs.length, count);
        assert.equal(lp.top_logprobs.length, count);
        assert.equal(lp.text_offset.length, count);

        for (let i = 0; i < count; i++) {
            assert.equal(typeof lp.tokens[i], 'string');
            const logprob = lp.token_logprobs[i];
            assert.ok(Number.isFinite(logprob) && logprob <= 0, `token_logprobs[${i}]: ${logprob}`);

            const alternatives = Object.values(lp.top_logprobs[i]);
            assert.ok(alternatives.length >= 1 && alternatives.length <= 3,
                `top_logprobs[${i}]: ${JSON.stringify(lp.top_logprobs[i])}`);
            for (const alt of alternatives) {
                assert.ok(Number.isFinite(alt) && alt <= 0);
            }
            // Greedy decoding picks the best token, so no alternative beats it.
            assert.ok(logprob >= Math.max(...alternatives) - 1e-4);

            assert.ok(Number.isInteger(lp.text_offset[i]));
            if (i > 0) {
                assert.ok(lp.text_offset[i] >= lp.text_offset[i - 1], 'text_offset grows');
            }
        }
        // Byte tokens of a partial character have no string of their own, so compare on ASCII.
        if (/^[\x00-\x7f]*$/.test(choice.text)) {
            assert.equal(lp.tokens.join(''), choice.text, 'tokens spell the text');
        }
    });

    it('streams text_completion chunks that add up to the non-stream text', async () => {
        const params = { max_tokens: 16, temperature: 0.8, seed: 3 };
        const whole = await create(params);
        const stream = await create({
            ...params, stream: true, stream_options: { include_usage: true },
        });
        const chunks = await readStream(stream);
        const summary = summarizeCompletionChunks(chunks);

        for (const chunk of chunks) {
            assert.equal(chunk.object, 'text_completion');
        }
        assert.equal(summary.texts[0], whole.choices[0].text);
        assert.equal(summary.finish[0], whole.choices[0].finish_reason);
        assert.deepEqual(tokenCounts(summary.usage), tokenCounts(whole.usage));
        assert.deepEqual(chunks.at(-1).choices, [], 'usage chunk comes last with no choices');
    });
});
