/**
 * Writes besu/: the genesis file and node configurations of a four-validator QBFT network for trying LoanLedger
 * locally on Besu (it cannot run on this project's build machine). The node keys derive from fixed seeds so the
 * output is reproducible; they are public, so the network is for local trials only.
 *
 *   npx tsx scripts/besu-network.ts
 */
import { mkdir, writeFile } from "node:fs/promises";
import { encodeRlp, id, SigningKey, computeAddress, zeroPadValue } from "ethers";

const OUT = "besu";
const VALIDATORS = 4;
const CHAIN_ID = 20261128;
/** Hardhat's first five development accounts (governance, platform, lender, borrower, auditor in the tests). */
const FUNDED = [
  "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
  "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
  "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
];

const keys = Array.from(
  { length: VALIDATORS },
  (_, i) => new SigningKey(id(`loanledger local besu validator ${i + 1}`)),
);
const addresses = keys.map((k) => computeAddress(k.publicKey));
// QBFT extra data: RLP([32-byte vanity, validators, no vote, round 0, no seals]).
const extraData = encodeRlp([zeroPadValue("0x", 32), addresses, [], "0x", []]);

const genesis = {
  config: {
    chainId: CHAIN_ID,
    berlinBlock: 0,
    londonBlock: 0,
    shanghaiTime: 0,
    // Cancun brings MCOPY and transient storage, which the contracts are compiled for.
    cancunTime: 0,
    zeroBaseFee: true,
    qbft: { blockperiodseconds: 2, epochlength: 30000, requesttimeoutseconds: 4 },
  },
  nonce: "0x0",
  timestamp: "0x0",
  gasLimit: "0x1c9c380",
  difficulty: "0x1",
  mixHash: "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365",
  coinbase: "0x0000000000000000000000000000000000000000",
  alloc: Object.fromEntries(FUNDED.map((a) => [a.slice(2).toLowerCase(), { balance: "0x33b2e3c9fd0803ce8000000" }])),
  extraData,
};

await mkdir(OUT, { recursive: true });
await writeFile(`${OUT}/genesis.json`, JSON.stringify(genesis, null, 2) + "\n");
const enode = (i: number) => `enode://${keys[i].publicKey.slice(4)}@127.0.0.1:${30303 + i}`;
for (const [i, key] of keys.entries()) {
  const dir = `${OUT}/node${i + 1}`;
  await mkdir(dir, { recursive: true });
  await writeFile(`${dir}/key`, key.privateKey + "\n");
  await writeFile(
    `${dir}/config.toml`,
    [
      `# Validator ${i + 1} of the local LoanLedger QBFT network (address ${addresses[i]}).`,
      `data-path="besu/node${i + 1}/data"`,
      `genesis-file="besu/genesis.json"`,
      `node-private-key-file="besu/node${i + 1}/key"`,
      `p2p-port=${30303 + i}`,
      `rpc-http-enabled=true`,
      `rpc-http-host="127.0.0.1"`,
      `rpc-http-port=${8545 + i}`,
      `rpc-http-api=["ETH","NET","QBFT","WEB3","TXPOOL"]`,
      `host-allowlist=["localhost","127.0.0.1"]`,
      `min-gas-price=0`,
      ...(i === 0 ? [] : [`bootnodes=["${enode(0)}"]`]),
      "",
    ].join("\n"),
  );
}
console.log(`wrote ${OUT}/genesis.json and ${VALIDATORS} node configurations; validators ${addresses.join(", ")}`);
