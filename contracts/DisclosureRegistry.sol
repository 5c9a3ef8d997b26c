// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IAllianceRegistry, ROLE_PLATFORM, ROLE_AUDITOR} from "./interfaces/IAllianceRegistry.sol";
import {IDisclosureRegistry, AuditAttestation, KeyFigures, Report} from "./interfaces/IDisclosureRegistry.sol";

/// @title DisclosureRegistry
/// @notice See {IDisclosureRegistry}.
contract DisclosureRegistry is IDisclosureRegistry {
    /// @notice The newest schema version of the unified format.
    uint16 public constant LATEST_SCHEMA_VERSION = 1;

    IAllianceRegistry public immutable ALLIANCE;

    mapping(address platform => mapping(uint32 period => Report[])) private _reports;
    mapping(bytes32 key => bool) private _attested;
    mapping(bytes32 reportSha256 => mapping(address auditor => AuditAttestation)) private _audits;

    constructor(IAllianceRegistry alliance) {
        ALLIANCE = alliance;
    }

    /// @inheritdoc IDisclosureRegistry
    function publish(uint32 period, uint16 schemaVersion, bytes32 contentHash, KeyFigures calldata figures) external {
        uint256 versions = _reports[msg.sender][period].length;
        if (versions != 0) revert DisclosureRegistryAlreadyPublished(msg.sender, period, versions);
        _append(period, schemaVersion, contentHash, figures);
    }

    /// @inheritdoc IDisclosureRegistry
    function correct(uint32 period, uint16 schemaVersion, bytes32 contentHash, KeyFigures calldata figures) external {
        if (_reports[msg.sender][period].length == 0) revert DisclosureRegistryNothingToCorrect(msg.sender, period);
        _append(period, schemaVersion, contentHash, figures);
    }

    /// @inheritdoc IDisclosureRegistry
    function attest(address platform, uint32 period, uint16 version, bytes32 contentHash) external {
        if (!ALLIANCE.isActiveMember(msg.sender, ROLE_AUDITOR)) revert DisclosureRegistryNotAuditor(msg.sender);
        Report[] storage reports = _reports[platform][period];
        if (version == 0 || version > reports.length || reports[version - 1].contentHash != contentHash) {
            revert DisclosureRegistryUnknownReport(platform, period, version, contentHash);
        }
        bytes32 key = keccak256(abi.encode(platform, period, version, msg.sender));
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
        return _attested[keccak256(abi.encode(platform, period, version, auditor))];
    }

    function _append(uint32 period, uint16 schemaVersion, bytes32 contentHash, KeyFigures calldata figures) private {
        // Reporting is servicing, not new business: a suspended platform keeps publishing, an expelled one does not.
        if (!ALLIANCE.isServicingMember(msg.sender, ROLE_PLATFORM)) revert DisclosureRegistryNotPlatform(msg.sender);
        uint32 month = period % 100;
        if (month == 0 || month > 12 || period < 200001 || period > 999912)
            revert DisclosureRegistryInvalidPeriod(period);
        if (contentHash == bytes32(0) || schemaVersion == 0 || schemaVersion > LATEST_SCHEMA_VERSION) {
            revert DisclosureRegistryInvalidReport(contentHash, schemaVersion, LATEST_SCHEMA_VERSION);
        }
        Report memory report = Report({
            contentHash: contentHash,
            schemaVersion: schemaVersion,
            // Timestamps fit 40 bits until the year 36 812.
            publishedAt: uint40(block.timestamp),
            figures: figures
        });
        Report[] storage reports = _reports[msg.sender][period];
        reports.push(report);
        emit ReportPublished(msg.sender, period, SafeCast.toUint16(reports.length), contentHash, report);
    }
}
