// SPDX-License-Identifier: UNLICENSED
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

/// @title The alliance's unified disclosures
/// @notice A platform publishes, per period (a month, written YYYYMM), the content hash of its report in the unified
/// format and its key figures; one report per period, and corrections only as new versions, which keep the earlier
/// ones. Auditor members attest a version by naming its content hash, which proves they attest what they read.
interface IDisclosureRegistry {
    event ReportPublished(
        address indexed platform,
        uint32 indexed period,
        uint16 version,
        bytes32 contentHash,
        Report report
    );
    event ReportAttested(address indexed platform, uint32 indexed period, uint16 version, address indexed auditor);

    error DisclosureRegistryNotPlatform(address caller);
    error DisclosureRegistryNotAuditor(address caller);
    /// @notice Periods are YYYYMM with a month from 01 to 12; `period` is not.
    error DisclosureRegistryInvalidPeriod(uint32 period);
    /// @notice The content hash must not be zero and the schema version must be known (1 to `latest`).
    error DisclosureRegistryInvalidReport(bytes32 contentHash, uint16 schemaVersion, uint16 latest);
    /// @notice The period has `versions` reports already: publish a correction instead.
    error DisclosureRegistryAlreadyPublished(address platform, uint32 period, uint256 versions);
    /// @notice There is no report to correct for the period.
    error DisclosureRegistryNothingToCorrect(address platform, uint32 period);
    /// @notice Version `version` of the period's report does not exist, or its content hash is not `contentHash`.
    error DisclosureRegistryUnknownReport(address platform, uint32 period, uint16 version, bytes32 contentHash);
    error DisclosureRegistryAlreadyAttested(address platform, uint32 period, uint16 version, address auditor);

    /// @notice Publishes the period's first report. Active platform members, for themselves.
    function publish(uint32 period, uint16 schemaVersion, bytes32 contentHash, KeyFigures calldata figures) external;

    /// @notice Publishes a correction: a new version of the period's report; earlier versions stay.
    function correct(uint32 period, uint16 schemaVersion, bytes32 contentHash, KeyFigures calldata figures) external;

    /// @notice Attests version `version` of `platform`'s report for `period`, whose content hash is `contentHash`.
    /// Active auditor members only.
    function attest(address platform, uint32 period, uint16 version, bytes32 contentHash) external;

    function versionsOf(address platform, uint32 period) external view returns (uint256);

    /// @notice Version `version` (1-based) of the period's report.
    function reportOf(address platform, uint32 period, uint16 version) external view returns (Report memory);

    function isAttested(address platform, uint32 period, uint16 version, address auditor) external view returns (bool);
}
