// Times snarkjs's engine (ffjavascript) on the operations benches/compare_snarkjs.py compares:
// G1.multiExpAffine over 2^k random points with scalars of a given width, and Fr.fft over 2^k elements.
// Usage: node peer.mjs '{"msm": [[16, 254], [16, 64]], "fft": [18, 20], "repeat": 3}'
// Prints one JSON object: {"msm": {"16/254": seconds, ...}, "fft": {"18": seconds, ...}} (medians).
import { buildBn128 } from "ffjavascript";
import { randomBytes } from "crypto";

const spec = JSON.parse(process.argv[2]);
const repeat = spec.repeat || 3;

function median(xs) {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
}

async function timed(fn) {
    await fn(); // warm-up
    const times = [];
    for (let i = 0; i < repeat; i++) {
        const start = process.hrtime.bigint();
        await fn();
        times.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    return median(times);
}

function scalars(n, bits) {
    // Little-endian 32-byte scalars below 2^bits (254 bits: below r by masking to 253 bits).
    const out = new Uint8Array(32 * n);
    const bytes = randomBytes(32 * n);
    const width = Math.min(bits, 253);
    for (let i = 0; i < n; i++) {
        for (let b = 0; b < 32; b++) {
            const lo = 8 * b;
            let v = bytes[32 * i + b];
            if (lo >= width) v = 0;
            else if (lo + 8 > width) v &= (1 << (width - lo)) - 1;
            out[32 * i + b] = v;
        }
    }
    return out;
}

async function main() {
    const curve = await buildBn128();
    const G1 = curve.G1, Fr = curve.Fr;
    const result = { msm: {}, fft: {} };
    const pointsBySize = {};
    for (const [k, bits] of spec.msm || []) {
        const n = 1 << k;
        if (!pointsBySize[k]) {
            // Random points: [r_i]G for random r_i, in the affine Montgomery form multiExpAffine reads.
            const base = G1.timesScalar(G1.g, scalars(1, 254));
            const buff = new Uint8Array(n * G1.F.n8 * 2);
            let p = base;
            for (let i = 0; i < n; i++) {
                p = G1.add(p, base);
                buff.set(G1.toAffine(p), i * G1.F.n8 * 2);
            }
            pointsBySize[k] = buff;
        }
        const s = scalars(n, bits);
        result.msm[`${k}/${bits}`] = await timed(() => G1.multiExpAffine(pointsBySize[k], s));
    }
    for (const k of spec.fft || []) {
        const n = 1 << k;
        const buff = new Uint8Array(n * Fr.n8);
        for (let i = 0; i < n; i++) buff.set(Fr.e(i * 7919 + 1), i * Fr.n8);
        result.fft[`${k}`] = await timed(() => Fr.fft(buff));
    }
    await curve.terminate();
    console.log(JSON.stringify(result));
}

main().catch((e) => { console.error(e); process.exit(1); });
