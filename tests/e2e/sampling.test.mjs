// Sampling parameters: determinism, seeds, the truncating samplers, penalties, stop sequences.
//
// Each parameter is checked by an effect it must have, so a server that parsed a parameter
// and then ignored it fails here. Most checks use /v1/completions, whose prompt is plain text.

import assert from 'node:assert/strict';
import { it } from 'node:test';

import { STORY_PROMPT, chatMessages, pickStop } from './lib/api.mjs';
import { describeEachModel, useServer } from './lib/suite.mjs';

describeEachModel('sampling', (model) => {
    const ctx = useServer(model);
    const complete = async (params) => {
        const res = await ctx.client.completions.create({
            model: model.id, prompt: STORY_PROMPT, max_tokens: 24, ...params,
        });
        return res.choices[0];
    };
    const textOf = async (params) => (await complete(params)).text;

    it('is deterministic at temperature 0', async () => {
        const first = await textOf({ temperature: 0 });
        assert.ok(first.length > 0);
        assert.equal(await textOf({ temperature: 0 }), first);
    });

    it('repeats a sampled text for the same seed', async () => {
        const params = { temperature: 0.9, seed: 42 };
        assert.equal(await textOf(params), await textOf(params));
    });

    it('samples different texts for different seeds', async () => {
        const texts = new Set();
        for (const seed of [1, 2, 3, 4]) {
            texts.add(await textOf({ temperature: 1, seed }));
        }
        assert.ok(texts.size > 1, `four seeds gave one text: ${[...texts]}`);
    });

    // At a high temperature a free sample leaves the greedy path within a few tokens; each
    // truncating sampler below, set to keep only the best token, must bring it back.
    it('samples off the greedy path at high temperature (control for the next tests)', async () => {
        const greedy = await textOf({ temperature: 0 });
        assert.notEqual(await textOf({ temperature: 1.5, seed: 7 }), greedy);
    });

    for (const [name, setting] of [
        ['top_k 1', { top_k: 1 }],
        ['a tiny top_p', { top_p: 1e-6 }],
        ['min_p 1', { min_p: 1 }],
    ]) {
        it(`samples the greedy text with ${name}`, async () => {
            const greedy = await textOf({ temperature: 0 });
            assert.equal(await textOf({ temperature: 1.5, seed: 7, ...setting }), greedy);
        });
    }

    for (const penalty of ['frequency_penalty', 'presence_penalty']) {
        it(`changes the greedy text with a large ${penalty}`, async () => {
            const plain = await textOf({ temperature: 0, max_tokens: 48 });
            const penalized = await textOf({ temperature: 0, max_tokens: 48, [penalty]: 2 });
            assert.notEqual(penalized, plain);
        });
    }

    it('ends the text before a stop string, with finish_reason "stop"', async () => {
        const reference = await textOf({ temperature: 0, max_tokens: 32 });
        const { stop, expected } = pickStop(reference);
        const choice = await complete({ temperature: 0, max_tokens: 32, stop });
        assert.equal(choice.text, expected, `stop ${JSON.stringify(stop)}`);
        assert.equal(choice.finish_reason, 'stop');
        assert.ok(!choice.text.includes(stop));
    });

    it('takes stop as an array and stops at whichever string comes', async () => {
        const reference = await textOf({ temperature: 0, max_tokens: 32 });
        const { stop, expected } = pickStop(reference);
        const choice = await complete({
            temperature: 0, max_tokens: 32, stop: ['@@never@@', stop, '##never##', '%%never%%'],
        });
        assert.equal(choice.text, expected, `stop ${JSON.stringify(stop)}`);
        assert.equal(choice.finish_reason, 'stop');
    });

    it('applies stop strings and seeds in chat too', async () => {
        const chat = async (params) => {
            const res = await ctx.client.chat.completions.create({
                model: model.id, messages: chatMessages(), max_tokens: 32, ...params,
            });
            return res.choices[0];
        };
        const seeded = { temperature: 0.8, seed: 11 };
        const reference = (await chat(seeded)).message.content;
        assert.equal((await chat(seeded)).message.content, reference, 'same seed, same text');

        const { stop, expected } = pickStop(reference);
        const stopped = await chat({ ...seeded, stop });
        assert.equal(stopped.message.content, expected, `stop ${JSON.stringify(stop)}`);
        assert.equal(stopped.finish_reason, 'stop');
    });

    // A bias of +100 makes one token the greedy choice at every step, so the text is that
    // token's piece repeated: the same 3 times over in 6 tokens as in 2.
    it('applies logit_bias, and refuses a token the model does not have', async () => {
        const forced = { temperature: 0, logit_bias: { 300: 100 } };
        const two = await textOf({ ...forced, max_tokens: 2 });
        assert.ok(two.length > 0);
        assert.equal(await textOf({ ...forced, max_tokens: 6 }), two + two + two);
        assert.notEqual(await textOf({ temperature: 0, max_tokens: 2 }), two);

        const err = await complete({ logit_bias: { 4000000: -100 } }).then(() => null, (e) => e);
        assert.equal(err?.status, 400);
        assert.equal(err.error.param, 'logit_bias');
    });
});
