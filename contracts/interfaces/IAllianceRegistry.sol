// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @dev Member roles, combined as a bitmask in {Member.roles}.
uint8 constant ROLE_PLATFORM = 1;
uint8 constant ROLE_INSURER = 2;
uint8 constant ROLE_AUDITOR = 4;
/// @dev Takes assets into custody and vouches for sale prices (a vehicle pound, a property manager).
uint8 constant ROLE_CUSTODIAN = 8;
/// @dev Keeps the platforms' users' money and issues the ledger's settlement token against it ({ICustodyDepositToken}).
uint8 constant ROLE_CUSTODY_BANK = 16;
uint8 constant ALL_ROLES = ROLE_PLATFORM | ROLE_INSURER | ROLE_AUDITOR | ROLE_CUSTODIAN | ROLE_CUSTODY_BANK;

/// @notice Status of an alliance member. A member is admitted Active; Expelled is final.
enum MemberStatus {
    None,
    Active,
    Suspended,
    Expelled
}

/// @notice A member of the alliance.
/// @dev Slot 0: roles (8) | status (8) | since (40) | reinstatements (32); slot 1: metadataHash.
struct Member {
    /// @dev Bitmask of `ROLE_*` constants above.
    uint8 roles;
    MemberStatus status;
    /// @dev Time of the last status change.
    uint40 since;
    /// @dev How many times governance reinstated the member. Whatever was decided about a failing member's business
    /// (a successor named for its book) holds only until its next reinstatement: the count tells which standing a
    /// decision was made in.
    uint32 reinstatements;
    /// @dev Hash of the member's off-chain profile document (licence, legal entity). Never personal data.
    bytes32 metadataHash;
}

/// @notice A lender on the allowlist.
/// @dev One slot: kycExpiry (40) | kycProvider (160).
struct Lender {
    /// @dev The allowlisting ends at this time unless renewed.
    uint40 kycExpiry;
    /// @dev The platform that performed the KYC and vouches for the lender.
    address kycProvider;
}

/// @title Alliance registry: who the members are and what each may do
/// @notice Every other LoanLedger contract asks this registry who may do what. Governance (the default admin, a multisig
/// in production) admits, suspends, reinstates and expels members and grants the system roles to the suite's contracts.
/// Admin transfer is two-step with a delay (OpenZeppelin `AccessControlDefaultAdminRules`), so the alliance can never be
/// handed over or renounced by a single mistaken transaction.
///
/// The standing rule, applied by every contract of the suite:
/// - **Active** members do business: originate loans, open funding, take new liens, register and revalue assets,
///   vouch for lenders, write policies, deposit to the reserve ({isActiveMember}).
/// - **Suspended** members do no new business, but keep servicing what they have: their loans are marked late,
///   defaulted, repaid and paid out, their liens enforced and their reports published ({isServicingMember}).
/// - **Expelled** members act on nothing: no loan, asset, lien or lender anywhere in the suite. Governance names a
///   successor servicer in the loan registry, who takes over their loans, custody and disposals.
///
/// The powers of the suite's system contracts over loans (taking over a loan's money path, writing history facts) are
/// granted by governance in the loan registry, to contracts only.
interface IAllianceRegistry {
    // ---------------------------------------------------------------- events

    /// @notice `account` was admitted with `roles` and profile `metadataHash`.
    event MemberAdmitted(address indexed account, uint8 roles, bytes32 metadataHash);
    /// @notice `account`'s roles changed to `roles`.
    event MemberRolesChanged(address indexed account, uint8 roles);
    /// @notice `account`'s profile hash changed to `metadataHash`.
    event MemberMetadataChanged(address indexed account, bytes32 metadataHash);
    /// @notice `account`'s status moved from `from` to `to`.
    event MemberStatusChanged(address indexed account, MemberStatus from, MemberStatus to);
    /// @notice `provider` allowlisted `lender` until `kycExpiry`.
    event LenderAllowed(address indexed lender, address indexed provider, uint40 kycExpiry);
    /// @notice `lender` was removed from the allowlist by `by`.
    event LenderRevoked(address indexed lender, address indexed by);
    /// @notice Governance published `fingerprint` of the alliance key (never the key itself).
    event AllianceKeyFingerprintSet(bytes32 fingerprint);

    // ---------------------------------------------------------------- errors

    /// @notice The zero address cannot be a member or a lender.
    error AllianceRegistryZeroAddress();
    /// @notice `roles` is empty or has bits outside the known roles.
    error AllianceRegistryInvalidRoles(uint8 roles);
    /// @notice `account` was admitted before (members are never re-admitted, expelled ones included).
    error AllianceRegistryMemberExists(address account);
    /// @notice `account` is not a member.
    error AllianceRegistryUnknownMember(address account);
    /// @notice `account` cannot move from status `from` to status `to`.
    error AllianceRegistryInvalidStatusTransition(address account, MemberStatus from, MemberStatus to);
    /// @notice `caller` may not do this: it is neither governance nor the member itself.
    error AllianceRegistryUnauthorized(address caller);
    /// @notice `caller` is not an active platform member.
    error AllianceRegistryNotActivePlatform(address caller);
    /// @notice `kycExpiry` is not in the future (`nowTime`).
    error AllianceRegistryKycExpiryInPast(uint40 kycExpiry, uint256 nowTime);
    /// @notice `lender` is not on the allowlist.
    error AllianceRegistryUnknownLender(address lender);
    /// @notice `lender`'s KYC expired at `kycExpiry`; it is `nowTime`. Its platform must renew it.
    error AllianceRegistryLenderKycExpired(address lender, uint40 kycExpiry, uint256 nowTime);
    /// @notice `lender` is vouched for by `provider` until `kycExpiry`: only that platform (while not expelled) or
    /// governance may change the record before it expires.
    error AllianceRegistryLenderVouchedByOther(address lender, address provider, uint40 kycExpiry);
    /// @notice A platform cannot vouch for itself as a lender.
    error AllianceRegistrySelfVouching(address platform);

    // ---------------------------------------------------------------- governance

    /// @notice Admits `account` as an Active member with `roles` (a bitmask of `ROLE_*`).
    /// @dev Governance only. Reverts if `account` was ever a member.
    function admitMember(address account, uint8 roles, bytes32 metadataHash) external;

    /// @notice Replaces `account`'s roles. Governance only; the member must not be expelled.
    function setMemberRoles(address account, uint8 roles) external;

    /// @notice Replaces `account`'s profile hash. Governance or the member itself; not for expelled members.
    function setMemberMetadata(address account, bytes32 metadataHash) external;

    /// @notice Publishes the fingerprint of the alliance key, `HMAC-SHA256(key, "LoanLedger alliance key fingerprint v1")`,
    /// so that every member's tools can check at start-up that they hash borrower references and asset ids under the
    /// alliance's key: a wrong key would make a borrower with loans look clean. Governance only.
    function setAllianceKeyFingerprint(bytes32 fingerprint) external;

    /// @notice Active → Suspended. Governance only. The member stops originating; its loans keep being serviced.
    function suspendMember(address account) external;

    /// @notice Suspended → Active. Governance only. Counts one more reinstatement ({Member-reinstatements}): a successor
    /// appointed for the member's book while it was suspended no longer stands.
    function reinstateMember(address account) external;

    /// @notice Active or Suspended → Expelled, for good. Governance only.
    function expelMember(address account) external;

    // ---------------------------------------------------------------- lenders

    /// @notice Allowlists (or renews) `lender` until `kycExpiry`, vouched for by the calling platform, which did the KYC
    /// off chain. Only an active platform member may call, never for itself. A record that has not expired belongs to
    /// the platform that vouched for it: another platform may take it over only once it has expired, or when its
    /// platform was expelled.
    function allowLender(address lender, uint40 kycExpiry) external;

    /// @notice Removes `lender` from the allowlist. Governance, or the platform that vouched for the lender unless that
    /// platform was expelled.
    function revokeLender(address lender) external;

    // ---------------------------------------------------------------- views

    /// @notice The member record of `account` (status None if it never was one).
    function memberOf(address account) external view returns (Member memory);

    /// @notice Whether `account` is an Active member holding every role bit of `role`: it may do new business.
    function isActiveMember(address account, uint8 role) external view returns (bool);

    /// @notice Whether `account` is an Active or Suspended member holding every role bit of `role`: it may keep
    /// servicing what it has (see the standing rule above). Expelled members may not.
    function isServicingMember(address account, uint8 role) external view returns (bool);

    /// @notice Whether `account` is the alliance's governance. The one governance check of every contract of the suite.
    function isGovernance(address account) external view returns (bool);

    /// @notice Number of accounts ever admitted, for enumeration with {memberAt}.
    function memberCount() external view returns (uint256);

    /// @notice The `index`-th admitted account, in admission order.
    function memberAt(uint256 index) external view returns (address);

    /// @notice The allowlist record of `lender` (zero if never allowlisted).
    function lenderOf(address lender) external view returns (Lender memory);

    /// @notice Whether `lender` is allowlisted and its KYC has not expired.
    function isAllowedLender(address lender) external view returns (bool);

    /// @notice Reverts unless `lender` is allowlisted with a KYC that has not expired, naming which of the two failed.
    function requireAllowedLender(address lender) external view;

    /// @notice The published fingerprint of the alliance key (zero until governance sets it).
    function allianceKeyFingerprint() external view returns (bytes32);
}
