/** `loanledger audit …`: the auditor's export, verification and attestation. */
import { noun } from "../table.js";

export const audit = noun({
  export: {
    flags: { out: { value: "<dir>", required: true, help: "the folder the export is written to" } },
    summary: "every loan's, asset's and member's history as JSON Lines, with the heads",
    example: "audit export --out audit-export",
    in: "audit",
  },
  verify: {
    flags: {
      loan: { value: "<id>", help: "only this loan" },
      "from-export": { value: "<dir>", help: "verify an export rather than the chain (needs no chain)" },
      rpc: { value: "<url>", help: "prove the export's heads against this node, at the export's block" },
      docs: { value: "<dir>", help: "check the documents in this folder against their hashes" },
      out: { value: "<dir>", help: "where the report goes (default: this folder)" },
    },
    summary: "writes audit-report.json, .md and .html; exits 1 on any finding",
    example: ["audit verify", "audit verify --from-export audit-export --rpc http://127.0.0.1:8545"],
    in: "audit",
  },
  attest: {
    args: ["<audit-report.json>"],
    flags: {
      out: { value: "<file>", help: "the attestation (default: audit-attestation.json beside the report)" },
      "on-chain": { help: "also record the attestation in the disclosure registry" },
    },
    summary:
      "an auditor member signs the report's and its export's digests (audit-attestation.json); --on-chain records " +
      "them in the disclosure registry",
    example: "audit attest audit-report.json",
    in: "audit",
  },
  "check-attestation": {
    args: ["<attestation.json>", "<audit-report.json>"],
    flags: {
      "from-export": { value: "<dir>", help: "the export the report was made from" },
      "on-chain": { help: "also check that the auditor attested the report in the disclosure registry" },
    },
    summary:
      "exits 1 unless the signature, the report and the export's manifest match (and, with --on-chain, the auditor " +
      "attested it on chain)",
    example: "audit check-attestation audit-attestation.json audit-report.json --from-export audit-export",
    in: "audit",
  },
});
