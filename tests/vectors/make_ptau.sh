#!/usr/bin/env bash
# Regenerate the small powers-of-tau test vectors with a pinned snarkjs.
#
# snarkjs 0.7.6 (with the ffjavascript 0.3.1 and @iden3/binfileutils 0.0.12 it pins)
# is installed from npm into a temporary directory, used, and removed. The files it
# writes next to this script:
#
#   pot4_final.ptau       power 4, one contribution, prepared for phase 2
#   pot4_final.json       `snarkjs powersoftau export json` of it
#   pot4_points.json      its tauG1 / tauG2 points as affine integer coordinates
#   pot6_contributed.ptau power 6, two contributions and a beacon, not prepared
#   pot6_final.ptau       the same powers prepared for phase 2
#   pot6_final.json       `snarkjs powersoftau export json` of it
#   pot6_points.json      its tauG1 / tauG2 points as affine integer coordinates
#
# `snarkjs contribute` mixes operating-system randomness into the given entropy, so
# every run writes different (equally valid) ceremonies; the tests only rely on
# each .ptau agreeing with the JSON files written beside it in the same run.
#
# snarkjs 0.7.6's `export json` prints each point as one number (the field's
# string conversion applied to the first coordinate's Montgomery bytes), so the
# *_points.json files, decoded by snarkjs's own libraries (binfileutils reads the
# sections, ffjavascript's bn128 turns each point into integers), give the full
# coordinates.
#
# Usage: tests/vectors/make_ptau.sh   (needs node >= 18 and npm)
set -euo pipefail

SNARKJS_VERSION=0.7.6
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

npm install --prefix "$WORK" --no-audit --no-fund --silent "snarkjs@${SNARKJS_VERSION}"
SNARKJS="$WORK/node_modules/.bin/snarkjs"

cat > "$WORK/export_points.mjs" <<'JS'
// Print a .ptau's tauG1 and tauG2 sections as affine integer coordinates (decimal strings).
import { readBinFile, readSection } from "@iden3/binfileutils";
import { buildBn128 } from "ffjavascript";

const [ptauFile, outFile] = process.argv.slice(2);
const curve = await buildBn128(true);
const { fd, sections } = await readBinFile(ptauFile, "ptau", 1);
const header = await readSection(fd, sections, 1);
const power = new DataView(header.buffer, header.byteOffset).getUint32(4 + 32, true);

function points(sectionId, G, count) {
    return readSection(fd, sections, sectionId).then((raw) => {
        const size = G.F.n8 * 2;
        const out = [];
        for (let i = 0; i < count; i++) {
            const p = G.fromRprLEM(raw, i * size);
            const [x, y] = G.toObject(p);
            out.push([x, y]);
        }
        return out;
    });
}

const tauG1 = await points(2, curve.G1, 2 ** (power + 1) - 1);
const tauG2 = await points(3, curve.G2, 2 ** power);
await fd.close();
const text = JSON.stringify({ power, tauG1, tauG2 }, (k, v) => (typeof v === "bigint" ? v.toString() : v));
(await import("fs")).writeFileSync(outFile, text + "\n");
await curve.terminate();
JS

# snarkjs reports some failures on stderr with exit status 0: check each output exists.
step() {
    local out="$1"
    shift
    "$@"
    [ -s "$out" ] || { echo "make_ptau.sh: $* did not write $out" >&2; exit 1; }
}

cd "$WORK"
# Power 4: one contribution.
step pot4_0.ptau "$SNARKJS" powersoftau new bn128 4 pot4_0.ptau
step pot4_1.ptau "$SNARKJS" powersoftau contribute pot4_0.ptau pot4_1.ptau --name="first" -e="zksolvency test vector, power 4"
step pot4_final.ptau "$SNARKJS" powersoftau prepare phase2 pot4_1.ptau pot4_final.ptau
"$SNARKJS" powersoftau verify pot4_final.ptau
step pot4_final.json "$SNARKJS" powersoftau export json pot4_final.ptau pot4_final.json
step pot4_points.json node export_points.mjs pot4_final.ptau pot4_points.json

# Power 6: two contributions and a beacon; kept both before and after phase-2 preparation.
step pot6_0.ptau "$SNARKJS" powersoftau new bn128 6 pot6_0.ptau
step pot6_1.ptau "$SNARKJS" powersoftau contribute pot6_0.ptau pot6_1.ptau --name="first" -e="zksolvency test vector, power 6, first"
step pot6_2.ptau "$SNARKJS" powersoftau contribute pot6_1.ptau pot6_2.ptau --name="second" -e="zksolvency test vector, power 6, second"
step pot6_contributed.ptau "$SNARKJS" powersoftau beacon pot6_2.ptau pot6_contributed.ptau \
    0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 10 --name="beacon"
step pot6_final.ptau "$SNARKJS" powersoftau prepare phase2 pot6_contributed.ptau pot6_final.ptau
"$SNARKJS" powersoftau verify pot6_final.ptau
step pot6_final.json "$SNARKJS" powersoftau export json pot6_final.ptau pot6_final.json
step pot6_points.json node export_points.mjs pot6_final.ptau pot6_points.json

for f in pot4_final.ptau pot4_final.json pot4_points.json \
         pot6_contributed.ptau pot6_final.ptau pot6_final.json pot6_points.json; do
    cp "$f" "$HERE/$f"
done
echo "wrote $(cd "$HERE" && du -ch pot4_* pot6_* | tail -1 | cut -f1) of vectors to $HERE (snarkjs ${SNARKJS_VERSION})"
