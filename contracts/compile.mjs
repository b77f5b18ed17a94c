// Compiles Solidity with the pinned npm solc: standard JSON in on stdin, standard JSON out on stdout.
import solc from "solc";
import { readFileSync } from "fs";

const input = readFileSync(0, "utf8");
process.stdout.write(solc.compile(input));
