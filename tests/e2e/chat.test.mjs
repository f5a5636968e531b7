// POST /v1/chat/completions without streaming: response shape, limits, roles, n, logprobs.

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { chatMessages } from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

describeEachModel('chat completions', (model) => {
    const ctx = useServer(model);
    const create = (params) => ctx.client.chat.completions.create({
        model: model.id, messages: chatMessages(), ...params,
    });

    it('returns a chat.completion with one assistant message and usage', async () => {
        const res = await create({ max_tokens: 8 });
        assert.match(res.id, /^chatcmpl-/);
        assert.equal(res.object, 'chat.completion');
        assert.ok(Number.isInteger(res.created) && res.created > 0, `created: ${res.created}`);
        assert.equal(res.choices.length, 1);

        const [choice] = res.choices;
        assert.equal(choice.index, 0);
        assert.equal(choice.message.role, 'assistant');
        assert.equal(typeof choice.message.content, 'string');
        assert.equal(choice.logprobs, null, 'logprobs are null unless asked for');
        assert.ok(['stop', 'length'].includes(choice.finish_reason), choice.finish_reason);

        const { usage } = res;
        assert.ok(usage.prompt_tokens > 0, `prompt_tokens: ${usage.prompt_tokens}`);
        assert.ok(usage.completion_tokens >= 1 && usage.completion_tokens <= 8);
        assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
        assert.ok(res._request_id, 'x-request-id header');
    });

    it('stops at max_tokens with finish_reason "length"', async () => {
        const res = await create({ max_tokens: 5, temperature: 0 });
        assert.equal(res.choices[0].finish_reason, 'length');
        assert.equal(res.usage.completion_tokens, 5);
        assert.ok(res.choices[0].message.content.length > 0);
    });

    it('honours max_completion_tokens as the token limit', async () => {
        const res = await create({ max_completion_tokens: 3, temperature: 0 });
        assert.equal(res.choices[0].finish_reason, 'length');
        assert.equal(res.usage.completion_tokens, 3);
    });

    it('accepts system, developer, user and assistant messages', async () => {
        const res = await ctx.client.chat.completions.create({
            model: model.id,
            max_tokens: 4,
            messages: [
                { role: 'system', content: 'You tell short stories.' },
                { role: 'developer', content: 'Keep it simple.' },
                { role: 'user', content: 'Tell me about a dog.' },
                { role: 'assistant', content: 'The dog was happy.' },
                { role: 'user', content: 'What happened next?' },
            ],
        });
        assert.equal(res.choices[0].message.role, 'assistant');
        assert.ok(res.usage.completion_tokens >= 1);
    });

    it('reads an array of text parts as the same prompt as a string', async () => {
        const text = 'Tell me a story about a frog.';
        const params = { model: model.id, max_tokens: 12, temperature: 0 };
        const as_string = await ctx.client.chat.completions.create({
            ...params, messages: [{ role: 'user', content: text }],
        });
        const as_parts = await ctx.client.chat.completions.create({
            ...params, messages: [{ role: 'user', content: [{ type: 'text', text }] }],
        });
        assert.equal(as_parts.usage.prompt_tokens, as_string.usage.prompt_tokens);
        assert.equal(as_parts.choices[0].message.content, as_string.choices[0].message.content);
    });

    it('returns n choices indexed from 0', async () => {
        const res = await create({ n: 2, max_tokens: 6, temperature: 1, seed: 5 });
        assert.equal(res.choices.length, 2);
        assert.deepEqual(res.choices.map((c) => c.index).sort(), [0, 1]);
        for (const choice of res.choices) {
            assert.equal(choice.message.role, 'assistant');
            assert.equal(typeof choice.message.content, 'string');
            assert.ok(['stop', 'length'].includes(choice.finish_reason), choice.finish_reason);
        }
    });

    it('returns per-token logprobs with top_logprobs', async () => {
        const res = await create({
            max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 3,
        });
        const [choice] = res.choices;
        const entries = choice.logprobs?.content;
        assert.ok(Array.isArray(entries), `logprobs.content: ${JSON.stringify(choice.logprobs)}`);
        assert.equal(entries.length, res.usage.completion_tokens);

        for (const entry of entries) {
            assertTokenLogprob(entry);
            assert.equal(entry.top_logprobs.length, 3);
            entry.top_logprobs.forEach(assertTokenLogprob);
            const top = entry.top_logprobs.map((t) => t.logprob);
            assert.deepEqual(top, [...top].sort((a, b) => b - a), 'top_logprobs best first');
            // Greedy decoding picks the most likely token, so none of the alternatives beats it.
            assert.ok(entry.logprob >= top[0] - 1e-4, `${entry.logprob} vs best ${top[0]}`);
        }

        const content = choice.message.content;
        const bytes = Buffer.concat(entries.map((e) => Buffer.from(e.bytes)));
        if (!content.includes('\uFFFD')) {
            assert.equal(bytes.toString('utf8'), content, 'token bytes spell the content');
        }
    });
});

function assertTokenLogprob(entry) {
    assert.equal(typeof entry.token, 'string');
    assert.ok(Number.isFinite(entry.logprob) && entry.logprob <= 0, `logprob ${entry.logprob}`);
    assert.ok(Array.isArray(entry.bytes), `bytes of ${JSON.stringify(entry)}`);
    for (const byte of entry.bytes) {
        assert.ok(Number.isInteger(byte) && byte >= 0 && byte <= 255, `byte ${byte}`);
    }
}
