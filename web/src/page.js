// The verification page: the customer picks or drops their inclusion file (and, against a pinned key, the
// round's round.json, whose proof is verified here); the verdict, their balances and the pin it was checked
// against are shown.
import { FormatError } from "./json.js";
import { parseInclusionFile } from "./formats.js";
import { InclusionError } from "./inclusion.js";
import { RoundError, roundFromJson } from "./round.js";
import { roundFromRegistry } from "./registry.js";
import { verdictOf } from "./verdict.js";
import { DEBT_LABEL, accountSummary } from "./customer.js";

const $ = (id) => document.getElementById(id);

/** The pin the page was served with (`zksolvency web`): {"pin": {"vk_digest"} | {"registry", "rpc"}, "allow_insecure_srs"}. */
function config() {
  try {
    const obj = JSON.parse($("zksolvency-config").textContent || "{}");
    return { pin: obj.pin ?? null, allowInsecureSrs: obj.allow_insecure_srs === true, circuit: obj.circuit ?? null };
  } catch {
    return { pin: null, allowInsecureSrs: false, circuit: null };
  }
}

export function formatUnits(units, decimals) {
  if (decimals === 0) return units.toString();
  const s = units.toString().padStart(decimals + 1, "0");
  return `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

function element(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function describePin(cfg) {
  if (cfg.pin?.vk_digest) return `the verifying key ${cfg.pin.vk_digest} (pinned by the page's publisher)`;
  if (cfg.pin?.registry) return `the registry ${cfg.pin.registry} through ${cfg.pin.rpc}`;
  return "nothing: this page was served without a pin";
}

function showPin(cfg) {
  const pin = $("pin");
  pin.replaceChildren(element("p", `Checks against ${describePin(cfg)}.`));
  if (cfg.allowInsecureSrs) {
    pin.append(element("p", "INSECURE: this page accepts rounds made with a development SRS, whose secret is public: " +
      "anyone can forge their proofs (tests only).", "insecure"));
  }
  $("drop-round").hidden = !cfg.pin?.vk_digest;
  $("round-file").required = Boolean(cfg.pin?.vk_digest);
}

async function loadRound(cfg, inclusionText, roundFile) {
  if (cfg.pin?.vk_digest) {
    if (!roundFile) throw new RoundError("round", "pick the round's round.json too");
    return roundFromJson(await roundFile.text(), { vkDigest: cfg.pin.vk_digest, circuit: cfg.circuit },
      cfg.allowInsecureSrs, roundFile.name);
  }
  if (cfg.pin?.registry) {
    // Only the round id and the shard are read from the file before the check: they are what the registry is
    // asked about (as verify-inclusion --rpc: a sharded round's file is checked against its shard's record).
    const file = parseInclusionFile(inclusionText);
    return roundFromRegistry(cfg.pin.rpc, cfg.pin.registry, file.roundId, file.shard, cfg.allowInsecureSrs);
  }
  throw new RoundError("pin", "this page was served without a pin (zksolvency web --vk-digest HEX, or --registry ADDR --rpc URL)");
}

function showVerdict(cfg, round, userId, verdict) {
  $("result").hidden = false;
  const v = $("verdict");
  v.textContent = verdict.valid ? "VALID" : "INVALID";
  v.className = verdict.valid ? "valid" : "invalid";
  v.dataset.rule = verdict.valid ? "VALID" : verdict.rule;
  $("reason").textContent = verdict.valid ? `User id ${JSON.stringify(userId)} is included with these balances.`
    : `${verdict.reason} (${verdict.rule})`;
  const facts = $("round-facts");
  facts.replaceChildren();
  if (round) {
    // Against a registry a sharded round's keys are its customer's shard's only (the others are not read).
    const rows = 1n << BigInt(round.shards.find(Boolean).logN);
    const shown = [["Round", round.roundId], ["Time", round.timestamp], ["Rows", String(rows)]];
    if (round.sharded) {
      shown.push(["Shards", String(round.shards.length)]);
      const checked = round.source === "registry" ? "the registry verified every shard's proof" : "every shard's proof checked";
      if (verdict.valid) shown.push(["Your shard", `${verdict.shard} of ${round.shards.length} (${checked})`]);
    }
    for (const [k, value] of shown) facts.append(element("dt", k), element("dd", value));
  }
  const head = $("balances").tHead;
  const body = $("balances").tBodies[0];
  head.replaceChildren();
  body.replaceChildren();
  const account = $("account");
  account.replaceChildren();
  if (verdict.valid) {
    const weights = round.shards[verdict.shard].weights;
    const margin = Boolean(weights);
    const tr = element("tr");
    tr.append(element("th", "Asset"), element("th", margin ? "Equity" : "Balance"));
    if (margin) tr.append(element("th", "Debt"));
    head.append(tr);
    for (const a of round.assets) {
      const row = element("tr");
      row.dataset.asset = a.name;
      row.append(element("td", a.name), element("td", formatUnits(verdict.balances.get(a.name) ?? 0n, a.decimals)));
      if (margin) row.append(element("td", formatUnits(verdict.balances.get(a.name + DEBT_LABEL) ?? 0n, a.decimals)));
      body.append(row);
    }
    if (margin) {
      // The collateral check (rule 20) was exact; the USD figures are rounded for display only.
      const summary = accountSummary(verdict.balances, round.assets, weights);
      const text = [...summary.debts.values()].some((d) => d > 0n)
        ? `Your collateral after haircuts, ${formatUnits(summary.collateralUsdUnits, 8)} USD, covers your debt, ` +
          `${formatUnits(summary.debtUsdUnits, 8)} USD (checked exactly).`
        : "No debt: your balances back no one's loan (weighted 0 in every account's collateral).";
      account.append(element("span", text));
      account.dataset.covered = String(summary.covered);
    }
  }
  const against = $("checked-against");
  against.replaceChildren(element("span", `Checked against ${describePin(cfg)}`));
  if (round?.source === "round") against.append(element("span", "; the round's proof was verified in this browser."));
  if (round?.source === "registry") {
    against.append(element("span", round.sharded
      ? `, your shard recorded in block ${round.block} (the registry verified every shard's proof).`
      : `, recorded in block ${round.block} (the registry verified the round's proof).`));
  }
  if (round?.development) {
    against.append(element("p", "This round was made with an INSECURE development SRS: its proofs can be forged.", "insecure"));
  }
}

async function check(cfg) {
  const userId = $("user-id").value;
  const inclusionFile = $("inclusion-file").files[0];
  const roundFile = $("round-file").files[0];
  $("verdict").dataset.rule = "";
  let round = null;
  let verdict;
  const started = performance.now();
  try {
    if (!inclusionFile) throw new RoundError("input", "pick your inclusion file");
    const inclusionText = await inclusionFile.text();
    round = await loadRound(cfg, inclusionText, roundFile);
    verdict = verdictOf(inclusionText, round, userId);
  } catch (e) {
    const rule = e instanceof InclusionError ? e.ruleName : e instanceof FormatError ? "MALFORMED" : e.rule ?? "error";
    verdict = { valid: false, rule, reason: e.message };
  }
  // The time from reading the files to the verdict (benches/web_page.py reads it).
  document.body.dataset.checkMs = (performance.now() - started).toFixed(1);
  showVerdict(cfg, round, userId, verdict);
  document.body.dataset.checked = String(Number(document.body.dataset.checked || 0) + 1);
}

function dropZone(label, input) {
  label.addEventListener("dragover", (e) => { e.preventDefault(); label.classList.add("over"); });
  label.addEventListener("dragleave", () => label.classList.remove("over"));
  label.addEventListener("drop", (e) => {
    e.preventDefault();
    label.classList.remove("over");
    if (e.dataTransfer?.files?.length) input.files = e.dataTransfer.files;
  });
}

export function start() {
  const cfg = config();
  showPin(cfg);
  dropZone($("drop-inclusion"), $("inclusion-file"));
  dropZone($("drop-round"), $("round-file"));
  $("check").addEventListener("submit", (e) => {
    e.preventDefault();
    check(cfg);
  });
  document.body.dataset.ready = "true";
}

start();
