// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @notice The key figures of a periodic disclosure, as the unified format (schemas/disclosure-v1.schema.json) defines
/// them. Amounts are in the settlement token's smallest unit; rates in basis points.
struct KeyFigures {
    uint32 loansOriginated;
    uint128 volume;
    uint128 outstandingPrincipal;
    uint16 overdueRateBps;
    uint16 badDebtRateBps;
    uint32 borrowers;
    uint32 lenders;
    uint128 reserveContributed;
    uint128 insuranceClaimsPaid;
}

/// @notice One version of a platform's report for a period.
struct Report {
    bytes32 contentHash;
    uint16 schemaVersion;
    uint40 publishedAt;
    KeyFigures figures;
}

/// @notice An auditor's on-chain attestation of an audit report (audit-report.json), by the report's SHA-256.
/// @dev Two slots: manifestSha256 (256); exportBlock (64) | attestedBlock (64) | attestedAt (40).
struct AuditAttestation {
    /// @dev SHA-256 of the manifest.json of the export the report verified; zero for a report read from a chain.
    bytes32 manifestSha256;
    /// @dev The block the audited ledger was read at (the export's block).
    uint64 exportBlock;
    /// @dev The block and time of the attestation; zero while the auditor has not attested the report.
    uint64 attestedBlock;
    uint40 attestedAt;
}

/// @title The alliance's unified disclosures, operations reports, related parties and auditors' attestations
/// @notice A platform publishes, per period (a month, written YYYYMM), the content hash of its report in the unified
/// format and its key figures; one report per period, and corrections only as new versions, which keep the earlier
/// ones. Auditor members attest a version by naming its content hash, which proves they attest what they read.
///
/// Schema version 2 is the monthly operations report (schemas/operations-report.schema.json), computed from the ledger:
/// a platform publishes the keccak-256 of the report's canonical JSON and the digest of its figures
/// ({publishOperations}); its key figures are not repeated here, since anyone recomputes them from the ledger and compares
/// the digest. Version-1 reports stay readable as they were.
///
/// A platform declares its related parties (borrower references and accounts, never personal data) here, so that the
/// report flags, from the ledger alone, the loans made to or funded by them.
///
/// Auditor members also attest the audit reports they sign (the verifier's audit-report.json) by the report's SHA-256,
/// with the SHA-256 of the verified export's manifest.json and the block the ledger was read at: anyone holding the
/// report recomputes its digest and finds here who attested it, and when. The report itself stays off chain.
interface IDisclosureRegistry {
    event ReportPublished(
        address indexed platform,
        uint32 indexed period,
        uint16 version,
        bytes32 contentHash,
        Report report
    );
    /// @notice Version `version` of `platform`'s report for `period` is an operations report (schema version 2) whose
    /// canonical JSON has keccak-256 `reportHash` and whose figures have digest `figuresDigest`.
    event OperationsReportPublished(
        address indexed platform,
        uint32 indexed period,
        uint16 version,
        bytes32 reportHash,
        bytes32 figuresDigest
    );
    /// @notice `platform` declared borrower reference `borrowerRef` its related party (`related`), or withdrew that.
    event RelatedBorrowerDeclared(address indexed platform, bytes32 indexed borrowerRef, bool related);
    /// @notice `platform` declared `account` (a lender's or borrower's address) its related party, or withdrew that.
    event RelatedAccountDeclared(address indexed platform, address indexed account, bool related);
    event ReportAttested(address indexed platform, uint32 indexed period, uint16 version, address indexed auditor);
    /// @notice Auditor `auditor` attested the audit report of SHA-256 `reportSha256`, which verified the export whose
    /// manifest.json has SHA-256 `manifestSha256` (zero: read from a chain), as of block `exportBlock`.
    event AuditReportAttested(
        bytes32 indexed reportSha256,
        address indexed auditor,
        bytes32 manifestSha256,
        uint64 exportBlock
    );

    error DisclosureRegistryNotPlatform(address caller);
    error DisclosureRegistryNotAuditor(address caller);
    /// @notice Periods are YYYYMM with a month from 01 to 12; `period` is not.
    error DisclosureRegistryInvalidPeriod(uint32 period);
    /// @notice The content hash must not be zero and the schema version must be one this function publishes
    /// (`expected`: 1 for key figures, 2 for an operations report), and the one of the period's earlier versions.
    error DisclosureRegistryInvalidReport(bytes32 contentHash, uint16 schemaVersion, uint16 expected);
    /// @notice An operations report's figures digest must not be zero.
    error DisclosureRegistryMissingFiguresDigest(address platform, uint32 period);
    /// @notice A related-party declaration must name at least one borrower reference or account, none of them zero.
    error DisclosureRegistryInvalidRelatedParty(uint256 borrowerRefs, uint256 accounts);
    /// @notice The period has `versions` reports already: publish a correction instead.
    error DisclosureRegistryAlreadyPublished(address platform, uint32 period, uint256 versions);
    /// @notice There is no report to correct for the period.
    error DisclosureRegistryNothingToCorrect(address platform, uint32 period);
    /// @notice Version `version` of the period's report does not exist, or its content hash is not `contentHash`.
    error DisclosureRegistryUnknownReport(address platform, uint32 period, uint16 version, bytes32 contentHash);
    error DisclosureRegistryAlreadyAttested(address platform, uint32 period, uint16 version, address auditor);
    /// @notice `auditor` attested the audit report `reportSha256` already, at block `attestedBlock`.
    error DisclosureRegistryAuditAlreadyAttested(bytes32 reportSha256, address auditor, uint256 attestedBlock);
    /// @notice An audit report's digest must not be zero, and the ledger it audits must have been read at a block that
    /// holds the suite and is settled: after genesis (block 0 holds no transaction) and before the current block
    /// `current`, whose state is not final until it is mined.
    error DisclosureRegistryInvalidAuditReport(bytes32 reportSha256, uint256 exportBlock, uint256 current);

    /// @notice Publishes the period's first report. Platform members, for themselves, active or suspended: reporting is
    /// servicing, which a suspended platform keeps doing (the alliance's standing rule); an expelled one does not.
    function publish(uint32 period, uint16 schemaVersion, bytes32 contentHash, KeyFigures calldata figures) external;

    /// @notice Publishes a correction: a new version of the period's report; earlier versions stay.
    function correct(uint32 period, uint16 schemaVersion, bytes32 contentHash, KeyFigures calldata figures) external;

    /// @notice Publishes the period's operations report (schema version 2): its first version, or a correction when
    /// `correction` is set. Who may publish, and when, is as for {publish}.
    function publishOperations(uint32 period, bytes32 reportHash, bytes32 figuresDigest, bool correction) external;

    /// @notice Declares (`related` true) or withdraws the declaration of `borrowerRefs` and `accounts` as the caller's
    /// related parties, from this block on. Platform members that are servicing, for themselves.
    function declareRelatedParties(bytes32[] calldata borrowerRefs, address[] calldata accounts, bool related) external;

    /// @notice The figures digest of version `version` of an operations report (zero for a version-1 report).
    function figuresDigestOf(address platform, uint32 period, uint16 version) external view returns (bytes32);

    function isRelatedBorrower(address platform, bytes32 borrowerRef) external view returns (bool);

    function isRelatedAccount(address platform, address account) external view returns (bool);

    /// @notice Attests version `version` of `platform`'s report for `period`, whose content hash is `contentHash`.
    /// Active auditor members only.
    function attest(address platform, uint32 period, uint16 version, bytes32 contentHash) external;

    /// @notice Attests the audit report of SHA-256 `reportSha256`, which verified the export whose manifest.json has
    /// SHA-256 `manifestSha256` (zero for a report read straight from a chain) as of block `exportBlock`. Active
    /// auditor members only, once per report and auditor; several auditors may attest the same report.
    function attestAudit(bytes32 reportSha256, bytes32 manifestSha256, uint64 exportBlock) external;

    /// @notice `auditor`'s attestation of the audit report `reportSha256` (`attestedBlock` zero: none).
    function auditAttestationOf(bytes32 reportSha256, address auditor) external view returns (AuditAttestation memory);

    function versionsOf(address platform, uint32 period) external view returns (uint256);

    /// @notice Version `version` (1-based) of the period's report.
    function reportOf(address platform, uint32 period, uint16 version) external view returns (Report memory);

    function isAttested(address platform, uint32 period, uint16 version, address auditor) external view returns (bool);
}
