// Times snarkjs's engine (npm ffjavascript, the version snarkjs pins) on what benches/compare_snarkjs.py
// compares: G1.multiExpAffine over 2^k random affine points with random scalars of a given width, and
// Fr.fft over 2^k random elements. Each figure is the median of `repeat` timed calls after one warm-up.
//
//   node peer.mjs '{"msm": [[16, 254], [16, 64], [16, 16]], "fft": [18, 20], "repeat": 3, "check": 10}'
//
// Prints one JSON object on stdout:
//   {"engine": {...}, "msm": {"16/254": seconds, ...}, "fft": {"18": seconds, ...},
//    "samples": {"msm": {"16/254": [seconds, ...]}, "fft": {...}}, "check": {...}}
//
// Inputs are in ffjavascript's own in-memory encoding: affine points as x || y, each 32 bytes
// little-endian in Montgomery form (R = 2^256); scalars little-endian, as many bytes per scalar
// as the width needs (32 for 254 bits, 8 for 64, 2 for 16: multiExpAffine reads the scalar size
// from the buffer and runs fewer windows for narrower scalars).
//
// With "check": k, the same 2^k points, scalars and field elements are also printed (hex) with
// ffjavascript's results, so that the caller can run its own code on identical inputs and compare.
import { buildBn128 } from "ffjavascript";
import { randomBytes } from "crypto";
import { readFileSync } from "fs";

const spec = JSON.parse(process.argv[2] || "{}");
const repeat = spec.repeat || 3;
const SCALAR_WIDTHS = [254, 64, 16];

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function timed(fn) {
    await fn(); // warm-up: worker start-up, wasm memory growth
    const times = [];
    for (let i = 0; i < repeat; i++) {
        const start = process.hrtime.bigint();
        await fn();
        times.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    return times;
}

function leBytes(x, n) {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
        out[i] = Number(x & 0xffn);
        x >>= 8n;
    }
    return out;
}

function leToBigInt(bytes, offset, n) {
    let x = 0n;
    for (let i = n - 1; i >= 0; i--) x = (x << 8n) | BigInt(bytes[offset + i]);
    return x;
}

// n uniformly random scalars below 2^bits and below r, little-endian, ceil(bits / 8) bytes each
// (254 bits: uniform below r, by rejection).
function randomScalars(n, bits, r) {
    const size = Math.ceil(bits / 8);
    const top = bits - 8 * (size - 1); // bits used in the last byte
    const out = randomBytes(n * size);
    for (let i = 0; i < n; i++) {
        const o = i * size;
        for (;;) {
            out[o + size - 1] &= (1 << top) - 1;
            if (bits < 254 || leToBigInt(out, o, size) < r) break;
            randomBytes(size).copy(out, o);
        }
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

// n random affine points: [t a^i] P for a random point P and random t, a (batchApplyKey,
// as snarkjs applies keys), in multiExpAffine's input form.
async function randomPoints(curve, n) {
    const G1 = curve.G1, Fr = curve.Fr;
    const p = G1.toAffine(G1.timesScalar(G1.g, randomScalars(1, 254, curve.r)));
    const copies = new Uint8Array(n * 2 * G1.F.n8);
    for (let i = 0; i < n; i++) copies.set(p, i * 2 * G1.F.n8);
    return await G1.batchApplyKey(copies, Fr.random(), Fr.random(), "affine", "affine");
}

// n random Fr elements in Montgomery form: random values below 2^253 < r are valid Montgomery
// representations of uniformly spread elements.
function randomFr(n) {
    const out = new Uint8Array(randomBytes(32 * n));
    for (let i = 0; i < n; i++) out[32 * i + 31] &= 0x1f;
    return out;
}

const hex = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength).toString("hex");

async function main() {
    const curve = await buildBn128();
    try {
        const G1 = curve.G1, Fr = curve.Fr;
        const pkg = JSON.parse(readFileSync(new URL("./node_modules/ffjavascript/package.json", import.meta.url)));
        const result = {
            engine: { package: "ffjavascript", version: pkg.version, node: process.version, threads: curve.tm.concurrency },
            repeat,
            msm: {},
            fft: {},
            scalar_bytes: {},
            samples: { msm: {}, fft: {} },
        };
        const points = {};
        for (const [k, bits] of spec.msm || []) {
            const n = 1 << k;
            points[k] = points[k] || (await randomPoints(curve, n));
            const scalars = randomScalars(n, bits, curve.r);
            const times = await timed(() => G1.multiExpAffine(points[k], scalars));
            result.msm[`${k}/${bits}`] = median(times);
            result.samples.msm[`${k}/${bits}`] = times;
            result.scalar_bytes[`${bits}`] = scalars.byteLength / n;
        }
        for (const k of spec.fft || []) {
            const values = randomFr(1 << k);
            const times = await timed(() => Fr.fft(values));
            result.fft[`${k}`] = median(times);
            result.samples.fft[`${k}`] = times;
        }
        if (spec.check !== undefined) {
            const n = 1 << spec.check;
            const pts = await randomPoints(curve, n);
            const check = { log_size: spec.check, points: hex(pts), msm: {} };
            for (const bits of SCALAR_WIDTHS) {
                const scalars = randomScalars(n, bits, curve.r);
                const sum = G1.toAffine(await G1.multiExpAffine(pts, scalars));
                check.msm[`${bits}`] = { scalars: hex(scalars), result: hex(sum) };
            }
            const values = randomFr(n);
            check.fft = { values: hex(values), result: hex(await Fr.fft(values)) };
            result.check = check;
        }
        console.log(JSON.stringify(result));
    } finally {
        await curve.terminate(); // stops the worker threads, or node would not exit
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
