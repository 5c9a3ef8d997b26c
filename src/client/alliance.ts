import type { ContractRunner, ContractTransactionReceipt } from "ethers";
import { AllianceRegistry__factory, type AllianceRegistry } from "../../typechain-types/index.js";
import { toAddress, toHash32, type Address, type Hash32 } from "./ids.js";
import { read, transact } from "./transact.js";
import {
  maskFromRoles,
  MEMBER_STATUS_NAMES,
  rolesFromMask,
  type LenderInfo,
  type MemberInfo,
  type RoleName,
} from "./types.js";

/** Typed access to the AllianceRegistry: members, their roles and status, and the lender allowlist. */
export class AllianceClient {
  readonly contract: AllianceRegistry;

  constructor(address: string, runner: ContractRunner) {
    this.contract = AllianceRegistry__factory.connect(address, runner);
  }

  get address(): Address {
    return toAddress(this.contract.target as string);
  }

  admitMember(account: Address, roles: readonly RoleName[], metadataHash: Hash32): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.admitMember(account, maskFromRoles(roles), metadataHash));
  }

  setMemberRoles(account: Address, roles: readonly RoleName[]): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.setMemberRoles(account, maskFromRoles(roles)));
  }

  setMemberMetadata(account: Address, metadataHash: Hash32): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.setMemberMetadata(account, metadataHash));
  }

  suspendMember(account: Address): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.suspendMember(account));
  }

  reinstateMember(account: Address): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.reinstateMember(account));
  }

  expelMember(account: Address): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.expelMember(account));
  }

  /** Allowlists `lender` until `kycExpiry` (unix seconds), vouched for by the signing platform. */
  allowLender(lender: Address, kycExpiry: number): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.allowLender(lender, kycExpiry));
  }

  revokeLender(lender: Address): Promise<ContractTransactionReceipt> {
    return transact(() => this.contract.revokeLender(lender));
  }

  async member(account: Address): Promise<MemberInfo> {
    const m = await read(() => this.contract.memberOf(account));
    return {
      account,
      roles: rolesFromMask(Number(m.roles)),
      status: MEMBER_STATUS_NAMES[Number(m.status)],
      since: Number(m.since),
      metadataHash: toHash32(m.metadataHash),
    };
  }

  /** Every member ever admitted, in admission order. */
  async members(): Promise<MemberInfo[]> {
    const count = await read(() => this.contract.memberCount());
    const accounts = await Promise.all(
      Array.from({ length: Number(count) }, (_, i) => read(() => this.contract.memberAt(i))),
    );
    return Promise.all(accounts.map((account) => this.member(toAddress(account))));
  }

  async lender(account: Address): Promise<LenderInfo> {
    const [record, allowed] = await Promise.all([
      read(() => this.contract.lenderOf(account)),
      read(() => this.contract.isAllowedLender(account)),
    ]);
    return {
      account,
      kycExpiry: Number(record.kycExpiry),
      kycProvider: toAddress(record.kycProvider),
      allowed,
    };
  }
}
