// Reads the one fact the tests need from a GGUF header: how many tokens the vocabulary has.
//
// The UTF-8 streaming test only proves something on a model that can emit multi-byte text,
// and the server does not expose its vocabulary, so the test reads it from the file.

import { readFileSync } from 'node:fs';

// GGUF metadata value types, and the byte size of the fixed-size ones.
const TYPE_STRING = 8;
const TYPE_ARRAY = 9;
const FIXED_SIZES = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

/** Number of entries in `tokenizer.ggml.tokens`, or 0 if the file has none. */
export function readVocabSize(path) {
    const buf = readFileSync(path);
    if (buf.toString('latin1', 0, 4) !== 'GGUF') {
        throw new Error(`${path} is not a GGUF file`);
    }
    let pos = 4 + 4 + 8; // magic, version, tensor count
    const kv_count = Number(buf.readBigUInt64LE(pos));
    pos += 8;

    const readString = () => {
        const len = Number(buf.readBigUInt64LE(pos));
        const text = buf.toString('utf8', pos + 8, pos + 8 + len);
        pos += 8 + len;
        return text;
    };
    const skipValue = (type) => {
        if (type === TYPE_STRING) {
            readString();
        } else if (type === TYPE_ARRAY) {
            const item_type = buf.readUInt32LE(pos);
            const count = Number(buf.readBigUInt64LE(pos + 4));
            pos += 12;
            for (let i = 0; i < count; i++) {
                skipValue(item_type);
            }
        } else if (type in FIXED_SIZES) {
            pos += FIXED_SIZES[type];
        } else {
            throw new Error(`${path}: unknown GGUF value type ${type}`);
        }
    };

    for (let i = 0; i < kv_count; i++) {
        const key = readString();
        const type = buf.readUInt32LE(pos);
        pos += 4;
        if (key === 'tokenizer.ggml.tokens' && type === TYPE_ARRAY) {
            return Number(buf.readBigUInt64LE(pos + 4));
        }
        skipValue(type);
    }
    return 0;
}
