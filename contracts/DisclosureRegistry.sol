// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IAllianceRegistry, ROLE_PLATFORM, ROLE_AUDITOR} from "./interfaces/IAllianceRegistry.sol";
import {IDisclosureRegistry, AuditAttestation, KeyFigures, Report} from "./interfaces/IDisclosureRegistry.sol";

/// @title DisclosureRegistry
/// @notice See {IDisclosureRegistry}.
contract DisclosureRegistry is IDisclosureRegistry {
    /// @notice The schema version of a report published with its key figures ({publish}, {correct}).
    uint16 public constant KEY_FIGURES_SCHEMA_VERSION = 1;
    /// @notice The schema version of an operations report ({publishOperations}).
    uint16 public constant OPERATIONS_SCHEMA_VERSION = 2;

    IAllianceRegistry public immutable ALLIANCE;

    mapping(address platform => mapping(uint32 period => Report[])) private _reports;
    mapping(bytes32 key => bool) private _attested;
    mapping(bytes32 reportSha256 => mapping(address auditor => AuditAttestation)) private _audits;
    mapping(bytes32 versionKey => bytes32 figuresDigest) private _figuresDigests;
    mapping(address platform => mapping(bytes32 borrowerRef => bool)) private _relatedBorrowers;
    mapping(address platform => mapping(address account => bool)) private _relatedAccounts;

    constructor(IAllianceRegistry alliance) {
        ALLIANCE = alliance;
    }

    /// @inheritdoc IDisclosureRegistry
    function publish(uint32 period, uint16 schemaVersion, bytes32 contentHash, KeyFigures calldata figures) external {
        _requireServicingPlatform();
        uint256 versions = _reports[msg.sender][period].length;
        if (versions != 0) revert DisclosureRegistryAlreadyPublished(msg.sender, period, versions);
        _append(period, schemaVersion, KEY_FIGURES_SCHEMA_VERSION, contentHash, figures);
    }

    /// @inheritdoc IDisclosureRegistry
    function correct(uint32 period, uint16 schemaVersion, bytes32 contentHash, KeyFigures calldata figures) external {
        _requireServicingPlatform();
        if (_reports[msg.sender][period].length == 0) revert DisclosureRegistryNothingToCorrect(msg.sender, period);
        _append(period, schemaVersion, KEY_FIGURES_SCHEMA_VERSION, contentHash, figures);
    }

    /// @inheritdoc IDisclosureRegistry
    function publishOperations(uint32 period, bytes32 reportHash, bytes32 figuresDigest, bool correction) external {
        _requireServicingPlatform();
        if (figuresDigest == bytes32(0)) revert DisclosureRegistryMissingFiguresDigest(msg.sender, period);
        uint256 versions = _reports[msg.sender][period].length;
        if (correction && versions == 0) revert DisclosureRegistryNothingToCorrect(msg.sender, period);
        if (!correction && versions != 0) revert DisclosureRegistryAlreadyPublished(msg.sender, period, versions);
        KeyFigures memory none;
        uint16 version = _append(period, OPERATIONS_SCHEMA_VERSION, OPERATIONS_SCHEMA_VERSION, reportHash, none);
        _figuresDigests[_versionKey(msg.sender, period, version)] = figuresDigest;
        emit OperationsReportPublished(msg.sender, period, version, reportHash, figuresDigest);
    }

    /// @inheritdoc IDisclosureRegistry
    function declareRelatedParties(
        bytes32[] calldata borrowerRefs,
        address[] calldata accounts,
        bool related
    ) external {
        _requireServicingPlatform();
        if (borrowerRefs.length + accounts.length == 0) {
            revert DisclosureRegistryInvalidRelatedParty(borrowerRefs.length, accounts.length);
        }
        for (uint256 i; i < borrowerRefs.length; ++i) {
            if (borrowerRefs[i] == bytes32(0)) revert DisclosureRegistryInvalidRelatedParty(i, accounts.length);
            _relatedBorrowers[msg.sender][borrowerRefs[i]] = related;
            emit RelatedBorrowerDeclared(msg.sender, borrowerRefs[i], related);
        }
        for (uint256 i; i < accounts.length; ++i) {
            if (accounts[i] == address(0)) revert DisclosureRegistryInvalidRelatedParty(borrowerRefs.length, i);
            _relatedAccounts[msg.sender][accounts[i]] = related;
            emit RelatedAccountDeclared(msg.sender, accounts[i], related);
        }
    }

    /// @inheritdoc IDisclosureRegistry
    function figuresDigestOf(address platform, uint32 period, uint16 version) external view returns (bytes32) {
        return _figuresDigests[_versionKey(platform, period, version)];
    }

    /// @inheritdoc IDisclosureRegistry
    function isRelatedBorrower(address platform, bytes32 borrowerRef) external view returns (bool) {
        return _relatedBorrowers[platform][borrowerRef];
    }

    /// @inheritdoc IDisclosureRegistry
    function isRelatedAccount(address platform, address account) external view returns (bool) {
        return _relatedAccounts[platform][account];
    }

    /// @inheritdoc IDisclosureRegistry
    function attest(address platform, uint32 period, uint16 version, bytes32 contentHash) external {
        if (!ALLIANCE.isActiveMember(msg.sender, ROLE_AUDITOR)) revert DisclosureRegistryNotAuditor(msg.sender);
        Report[] storage reports = _reports[platform][period];
        if (version == 0 || version > reports.length || reports[version - 1].contentHash != contentHash) {
            revert DisclosureRegistryUnknownReport(platform, period, version, contentHash);
        }
        bytes32 key = _attestationKey(platform, period, version, msg.sender);
        if (_attested[key]) revert DisclosureRegistryAlreadyAttested(platform, period, version, msg.sender);
        _attested[key] = true;
        emit ReportAttested(platform, period, version, msg.sender);
    }

    /// @inheritdoc IDisclosureRegistry
    function attestAudit(bytes32 reportSha256, bytes32 manifestSha256, uint64 exportBlock) external {
        if (!ALLIANCE.isActiveMember(msg.sender, ROLE_AUDITOR)) revert DisclosureRegistryNotAuditor(msg.sender);
        if (reportSha256 == bytes32(0) || exportBlock == 0 || exportBlock >= block.number) {
            revert DisclosureRegistryInvalidAuditReport(reportSha256, exportBlock, block.number);
        }
        AuditAttestation storage attestation = _audits[reportSha256][msg.sender];
        if (attestation.attestedBlock != 0) {
            revert DisclosureRegistryAuditAlreadyAttested(reportSha256, msg.sender, attestation.attestedBlock);
        }
        attestation.manifestSha256 = manifestSha256;
        attestation.exportBlock = exportBlock;
        // Block numbers fit 64 bits and timestamps 40 bits for longer than any chain will run; block 0 (genesis) holds
        // no transactions, so a recorded attestation's block is never zero.
        attestation.attestedBlock = uint64(block.number);
        attestation.attestedAt = uint40(block.timestamp);
        emit AuditReportAttested(reportSha256, msg.sender, manifestSha256, exportBlock);
    }

    /// @inheritdoc IDisclosureRegistry
    function auditAttestationOf(bytes32 reportSha256, address auditor) external view returns (AuditAttestation memory) {
        return _audits[reportSha256][auditor];
    }

    /// @inheritdoc IDisclosureRegistry
    function versionsOf(address platform, uint32 period) external view returns (uint256) {
        return _reports[platform][period].length;
    }

    /// @inheritdoc IDisclosureRegistry
    function reportOf(address platform, uint32 period, uint16 version) external view returns (Report memory) {
        Report[] storage reports = _reports[platform][period];
        if (version == 0 || version > reports.length)
            revert DisclosureRegistryUnknownReport(platform, period, version, 0);
        return reports[version - 1];
    }

    /// @inheritdoc IDisclosureRegistry
    function isAttested(address platform, uint32 period, uint16 version, address auditor) external view returns (bool) {
        return _attested[_attestationKey(platform, period, version, auditor)];
    }

    /// @dev Reporting is servicing, not new business: a suspended platform keeps publishing and declaring, an expelled
    /// one does not.
    function _requireServicingPlatform() private view {
        if (!ALLIANCE.isServicingMember(msg.sender, ROLE_PLATFORM)) revert DisclosureRegistryNotPlatform(msg.sender);
    }

    function _attestationKey(
        address platform,
        uint32 period,
        uint16 version,
        address auditor
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(platform, period, version, auditor));
    }

    function _versionKey(address platform, uint32 period, uint16 version) private pure returns (bytes32) {
        return keccak256(abi.encode(platform, period, version));
    }

    /// @dev Appends a version of the caller's report for `period`, whose schema version must be `expected`.
    function _append(
        uint32 period,
        uint16 schemaVersion,
        uint16 expected,
        bytes32 contentHash,
        KeyFigures memory figures
    ) private returns (uint16 version) {
        uint32 month = period % 100;
        if (month == 0 || month > 12 || period < 200001 || period > 999912)
            revert DisclosureRegistryInvalidPeriod(period);
        if (contentHash == bytes32(0) || schemaVersion != expected) {
            revert DisclosureRegistryInvalidReport(contentHash, schemaVersion, expected);
        }
        Report memory report = Report({
            contentHash: contentHash,
            schemaVersion: schemaVersion,
            // Timestamps fit 40 bits until the year 36 812.
            publishedAt: uint40(block.timestamp),
            figures: figures
        });
        Report[] storage reports = _reports[msg.sender][period];
        // A period's versions keep one schema: a platform whose month is an operations report cannot fall back to
        // declared key figures, which check less, by publishing a version-1 correction on top of it (nor the reverse).
        if (reports.length != 0 && reports[0].schemaVersion != schemaVersion) {
            revert DisclosureRegistryInvalidReport(contentHash, schemaVersion, reports[0].schemaVersion);
        }
        reports.push(report);
        version = SafeCast.toUint16(reports.length);
        emit ReportPublished(msg.sender, period, version, contentHash, report);
    }
}
