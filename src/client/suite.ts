/**
 * The suite: one table of LoanLedger's contracts, and one object that opens a deployment of them (from its Ignition
 * deployment record, from settings, or from explicit addresses) and hands out the typed contracts, the clients and the
 * ledger reader. The CLI, the demo, the scripts and the test fixtures all ask it; adding a contract to the suite is a
 * row here plus its deployment in deploy/modules/LoanLedger.ts.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ContractRunner, Interface } from "ethers";
import {
  AllianceRegistry__factory,
  CollateralRegistry__factory,
  CreditInsurance__factory,
  DisclosureRegistry__factory,
  LoanRegistry__factory,
  LossWaterfall__factory,
  RepaymentSplitter__factory,
  RiskReserveFund__factory,
  SettlementToken__factory,
  type AllianceRegistry,
  type CollateralRegistry,
  type CreditInsurance,
  type LossWaterfall,
  type RepaymentSplitter,
  type RiskReserveFund,
  type SettlementToken,
} from "../../typechain-types/index.js";
import { AllianceClient } from "./alliance.js";
import { CollateralClient } from "./collateral.js";
import { DisclosureClient } from "./disclosure.js";
import { LoanLedgerError } from "./errors.js";
import { toAddress, type Address } from "./ids.js";
import { LedgerReader, type LedgerReadOptions } from "./ledger.js";
import { LoanRegistryClient } from "./loans.js";
import { InsuranceClient, ReserveClient, WaterfallClient } from "./risk.js";
import { SplitterClient } from "./splitter.js";
import { settlementToken } from "./token.js";

/** The contracts an export reads. */
export interface AuditSources {
  loans: LoanRegistryClient;
  alliance: AllianceRegistry;
  splitter: RepaymentSplitter;
  collateral: CollateralRegistry;
  insurance: CreditInsurance;
  reserve: RiskReserveFund;
  waterfall: LossWaterfall;
}

/** One contract of the suite: how a deployment names it, how to reach it, and how to recognise it on a chain. */
export interface SuiteRow<C, L> {
  /** The Solidity contract's name, also its name in an audit export's manifest. */
  name: string;
  /** Its key in an Ignition deployment record (`deployed_addresses.json`): `<module>#<contract>`. */
  record: string;
  /** The setting that gives (or overrides) its address. */
  env: string;
  /** The TypeChain factory of its typed contract. */
  factory: { connect(address: string, runner?: ContractRunner | null): C; readonly abi: readonly unknown[] };
  /** Its client over `suite`, which lends it the other clients it builds on. */
  client: (address: string, suite: Suite) => L;
  /** Views only a contract of this kind answers: a start-up check asks them to recognise it. */
  identity: readonly (keyof C & string)[];
  /** Views that return another contract of the suite it was deployed with, by that contract's key in the table. */
  wiring: Partial<Record<keyof C & string, string>>;
  /** Whether its events are part of an audit export (the manifest names the contract, the export holds its events). */
  exported: boolean;
  /**
   * A deployment may leave this address out: production settles in the custodian bank's token, which no LoanLedger
   * module deploys. The suite then takes the address the splitter was deployed with.
   */
  optional?: true;
  /** Other record keys it may be found under: the custody deposit token is deployed inside the LoanLedger module. */
  alsoRecordedAs?: readonly string[];
}

function contract<C, L>(row: SuiteRow<C, L>): SuiteRow<C, L> {
  return row;
}

/**
 * The suite's contracts, by key. Each client is built on the suite's others, so the order here is only the order of
 * lists and messages.
 */
export const SUITE = {
  alliance: contract({
    name: "AllianceRegistry",
    record: "LoanLedger#AllianceRegistry",
    env: "LOANLEDGER_ALLIANCE_REGISTRY",
    factory: AllianceRegistry__factory,
    client: (at, suite): AllianceClient => new AllianceClient(at, suite.runner),
    identity: ["allianceKeyFingerprint", "memberCount"],
    exported: true,
    wiring: {},
  }),
  loans: contract({
    name: "LoanRegistry",
    record: "LoanLedger#LoanRegistry",
    env: "LOANLEDGER_LOAN_REGISTRY",
    factory: LoanRegistry__factory,
    client: (at, suite): LoanRegistryClient => new LoanRegistryClient(at, suite.runner, suite.fromBlock),
    identity: ["MAX_BATCH"],
    exported: true,
    wiring: { ALLIANCE: "alliance" },
  }),
  splitter: contract({
    name: "RepaymentSplitter",
    record: "LoanLedger#RepaymentSplitter",
    env: "LOANLEDGER_SPLITTER",
    factory: RepaymentSplitter__factory,
    client: (at, suite): SplitterClient => new SplitterClient(at, suite.runner, suite.clients.loans, suite.fromBlock),
    identity: [],
    exported: true,
    wiring: { ALLIANCE: "alliance", LOANS: "loans", TOKEN: "token" },
  }),
  collateral: contract({
    name: "CollateralRegistry",
    record: "LoanLedger#CollateralRegistry",
    env: "LOANLEDGER_COLLATERAL",
    factory: CollateralRegistry__factory,
    client: (at, suite): CollateralClient =>
      new CollateralClient(at, suite.runner, suite.clients.loans, suite.fromBlock),
    identity: [],
    exported: true,
    wiring: { ALLIANCE: "alliance", LOANS: "loans", SPLITTER: "splitter", WATERFALL: "waterfall", TOKEN: "token" },
  }),
  insurance: contract({
    name: "CreditInsurance",
    record: "LoanLedger#CreditInsurance",
    env: "LOANLEDGER_INSURANCE",
    factory: CreditInsurance__factory,
    client: (at, suite): InsuranceClient => new InsuranceClient(at, suite.runner, suite.clients.loans),
    identity: [],
    exported: true,
    wiring: { ALLIANCE: "alliance", LOANS: "loans", SPLITTER: "splitter", TOKEN: "token" },
  }),
  reserve: contract({
    name: "RiskReserveFund",
    record: "LoanLedger#RiskReserveFund",
    env: "LOANLEDGER_RESERVE",
    factory: RiskReserveFund__factory,
    client: (at, suite): ReserveClient => new ReserveClient(at, suite.runner),
    identity: [],
    exported: true,
    wiring: { ALLIANCE: "alliance", SPLITTER: "splitter", TOKEN: "token" },
  }),
  waterfall: contract({
    name: "LossWaterfall",
    record: "LoanLedger#LossWaterfall",
    env: "LOANLEDGER_WATERFALL",
    factory: LossWaterfall__factory,
    client: (at, suite): WaterfallClient => new WaterfallClient(at, suite.runner, suite.clients.loans),
    identity: [],
    exported: true,
    wiring: {
      ALLIANCE: "alliance",
      LOANS: "loans",
      SPLITTER: "splitter",
      INSURANCE: "insurance",
      RESERVE: "reserve",
      TOKEN: "token",
    },
  }),
  disclosures: contract({
    name: "DisclosureRegistry",
    record: "LoanLedger#DisclosureRegistry",
    env: "LOANLEDGER_DISCLOSURES",
    factory: DisclosureRegistry__factory,
    client: (at, suite): DisclosureClient =>
      new DisclosureClient(
        at,
        suite.runner,
        { loans: suite.clients.loans, splitter: suite.clients.splitter, insurance: suite.addresses.insurance },
        suite.fromBlock,
        suite.readOptions,
      ),
    identity: [],
    exported: false,
    wiring: { ALLIANCE: "alliance" },
  }),
  token: contract({
    name: "SettlementToken",
    record: "SettlementToken#SettlementToken",
    env: "LOANLEDGER_TOKEN",
    // Only the ERC-20 functions are used, so the stand-in's typed contract serves the custodian's token too.
    factory: SettlementToken__factory,
    client: (at, suite): SettlementToken => settlementToken(at, suite.runner),
    identity: ["decimals", "symbol"],
    exported: false,
    wiring: {},
    optional: true,
    alsoRecordedAs: ["LoanLedger#CustodyDepositToken"],
  }),
};

type Table = typeof SUITE;
export type SuiteKey = keyof Table;
/** Every key of the table, in its order. */
export const SUITE_KEYS = Object.keys(SUITE) as SuiteKey[];
/** The address of every contract of a deployment. */
export type DeploymentAddresses = Record<SuiteKey, Address>;
/** The typed (TypeChain) contract of every key. */
export type SuiteContracts = { readonly [K in SuiteKey]: ReturnType<Table[K]["factory"]["connect"]> };
/** The client of every key. */
export type SuiteClients = { readonly [K in SuiteKey]: ReturnType<Table[K]["client"]> };

// A wiring view names another row: a typo would silently skip a start-up check.
for (const key of SUITE_KEYS)
  for (const target of Object.values<string | undefined>(SUITE[key].wiring))
    if (!(target! in SUITE))
      throw new Error(`SUITE.${key}.wiring names ${target}, which is not a contract of the suite`);

/** How a suite reads: the first block of its deployment, and how its ledger reader queries a node. */
export interface SuiteOptions {
  /** Block of the suite's deployment, where event searches start. */
  fromBlock?: number;
  readOptions?: LedgerReadOptions;
}

/** An object whose properties are made on first use and kept: a command builds only what it touches. */
function lazily<T>(make: (key: SuiteKey) => unknown): T {
  const made = new Map<SuiteKey, unknown>();
  const target = {};
  for (const key of SUITE_KEYS)
    Object.defineProperty(target, key, {
      enumerable: true,
      get: () => {
        if (!made.has(key)) made.set(key, make(key));
        return made.get(key);
      },
    });
  return target as T;
}

/** One deployment of the suite, as seen by one account (or by a provider, to read). */
export class Suite {
  /** The typed contracts, each connected on first use. */
  readonly contracts: SuiteContracts;
  /** The clients, each built on first use. */
  readonly clients: SuiteClients;
  readonly fromBlock: number;
  readonly readOptions: LedgerReadOptions;

  private constructor(
    readonly addresses: Readonly<DeploymentAddresses>,
    readonly runner: ContractRunner,
    private readonly options: SuiteOptions,
  ) {
    this.fromBlock = options.fromBlock ?? 0;
    this.readOptions = options.readOptions ?? {};
    this.contracts = lazily((key) => SUITE[key].factory.connect(addresses[key], runner));
    this.clients = lazily((key) => SUITE[key].client(addresses[key], this));
  }

  /** The suite at `addresses`, every one given. */
  static at(addresses: Record<SuiteKey, string>, runner: ContractRunner, options: SuiteOptions = {}): Suite {
    const checked = Object.fromEntries(
      SUITE_KEYS.map((key) => {
        const address = addresses[key];
        if (!address) throw new LoanLedgerError(`no address for the suite's ${SUITE[key].name}`);
        return [key, toAddress(address)];
      }),
    ) as DeploymentAddresses;
    return new Suite(checked, runner, options);
  }

  /**
   * The suite at `addresses`, where an optional contract's address may be missing: the splitter's settlement token is
   * then read from the splitter, the one place a deployment records it.
   */
  static async open(
    addresses: Partial<Record<SuiteKey, string>>,
    runner: ContractRunner,
    options: SuiteOptions = {},
  ): Promise<Suite> {
    const token =
      addresses.token || (await SUITE.splitter.factory.connect(required(addresses, "splitter"), runner).TOKEN());
    return Suite.at({ ...(addresses as Record<SuiteKey, string>), token }, runner, options);
  }

  /**
   * The suite an Ignition deployment returned (its modules' contracts, by the table's keys; the token's too, or it is
   * read from the splitter), as seen by the account that deployed it.
   */
  static async fromDeployed(
    deployed: Partial<Record<SuiteKey, { target: unknown; runner: ContractRunner | null }>>,
    options: SuiteOptions = {},
  ): Promise<Suite> {
    const runner = deployed.splitter?.runner;
    if (!runner) throw new LoanLedgerError("the deployment returned no RepaymentSplitter connected to an account");
    const addresses = Object.fromEntries(
      SUITE_KEYS.filter((key) => deployed[key]).map((key) => [key, String(deployed[key]!.target)]),
    );
    return Suite.open(addresses, runner, options);
  }

  /** The suite an Ignition deployment recorded in `file` (a `deployed_addresses.json`). */
  static async fromRecord(file: string, runner: ContractRunner, options: SuiteOptions = {}): Promise<Suite> {
    const record = await readDeploymentRecord(file).catch((error: Error) => {
      throw new LoanLedgerError(`no deployment record at ${file} (${error.message.split("\n")[0]}): deploy first`);
    });
    const { found, missing } = addressesInRecord(record);
    if (missing.length)
      throw new LoanLedgerError(`${file} has no ${missing.map((key) => SUITE[key].name).join(", ")}: redeploy`);
    return Suite.open(found, runner, options);
  }

  /** The suite deployed on chain `chainId`, from its record under `folder` (deploy/deployments by default). */
  static async fromChain(
    chainId: bigint | number,
    runner: ContractRunner,
    options: SuiteOptions & { folder?: string } = {},
  ): Promise<Suite> {
    return Suite.fromRecord(deploymentRecordFile(chainId, options.folder), runner, options);
  }

  /** The same deployment as seen by `runner` (another signer, or a provider). */
  connect(runner: ContractRunner): Suite {
    return new Suite(this.addresses, runner, this.options);
  }

  /** The settings that name this deployment (`LOANLEDGER_SPLITTER=0x…`, …), as the CLI reads them. */
  settings(): Record<string, string> {
    return Object.fromEntries(SUITE_KEYS.map((key) => [SUITE[key].env, this.addresses[key]]));
  }

  /** What an audit export reads: the registry's client and the typed contracts of the others that write money facts. */
  get auditSources(): AuditSources {
    const { alliance, splitter, collateral, insurance, reserve, waterfall } = this.contracts;
    return { loans: this.clients.loans, alliance, splitter, collateral, insurance, reserve, waterfall };
  }

  /** A ledger reader pinned to block `at` (the latest by default), reading from the suite's first block. */
  async reader(at: number | "latest" = "latest"): Promise<LedgerReader> {
    const provider = this.runner.provider;
    if (!provider) throw new LoanLedgerError("the suite's runner has no provider to read the ledger from");
    return LedgerReader.pin(provider, { ...this.readOptions, fromBlock: this.fromBlock, at });
  }
}

function required(addresses: Partial<Record<SuiteKey, string>>, key: SuiteKey): string {
  const address = addresses[key];
  if (!address) throw new LoanLedgerError(`no address for the suite's ${SUITE[key].name}`);
  return address;
}

/** The contracts an audit export reads in `sources`, by the name its manifest gives each, in the table's order. */
export function auditedContracts(sources: AuditSources): [string, { target: unknown; interface: Interface }][] {
  return SUITE_KEYS.filter((key) => SUITE[key].exported).map((key) => {
    const source = sources[key as keyof AuditSources];
    return [SUITE[key].name, source instanceof LoanRegistryClient ? source.contract : source];
  });
}

// ---------------------------------------------------------------- deployment records

/** Where Ignition records the deployment of chain `chainId`: `<folder>/chain-<id>/deployed_addresses.json`. */
export function deploymentRecordFile(chainId: bigint | number, folder = "deploy/deployments"): string {
  return join(resolve(folder), `chain-${chainId}`, "deployed_addresses.json");
}

/** The deployment records kept under `folder` (`chain-<id>`, or a deployment id), to name in a message. */
export async function deploymentRecords(folder = "deploy/deployments"): Promise<string[]> {
  return (await readdir(resolve(folder)).catch(() => [] as string[])).filter((name) => !name.startsWith("."));
}

/** An Ignition deployment record: contract future ids (`LoanLedger#LoanRegistry`) to addresses. */
export async function readDeploymentRecord(file: string): Promise<Record<string, string>> {
  return JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
}

/** The suite's addresses in a deployment record, and the keys of the contracts it lacks (optional ones aside). */
export function addressesInRecord(record: Record<string, string>): {
  found: Partial<Record<SuiteKey, string>>;
  missing: SuiteKey[];
} {
  const found: Partial<Record<SuiteKey, string>> = {};
  for (const key of SUITE_KEYS) {
    const row: { record: string; alsoRecordedAs?: readonly string[] } = SUITE[key];
    const at = [row.record, ...(row.alsoRecordedAs ?? [])].find((name) => record[name]);
    if (at) found[key] = record[at];
  }
  const missing = SUITE_KEYS.filter((key) => !found[key] && !isOptional(key));
  return { found, missing };
}

/** True for a contract a deployment may leave out (see {SuiteRow.optional}). */
export function isOptional(key: SuiteKey): boolean {
  return (SUITE[key] as { optional?: true }).optional === true;
}
