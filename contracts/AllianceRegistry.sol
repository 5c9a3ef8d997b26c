// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {
    IAllianceRegistry,
    Member,
    MemberStatus,
    Lender,
    ROLE_PLATFORM,
    ALL_ROLES
} from "./interfaces/IAllianceRegistry.sol";

/// @title AllianceRegistry
/// @notice See {IAllianceRegistry}.
contract AllianceRegistry is IAllianceRegistry, AccessControlDefaultAdminRules {
    mapping(address account => Member) private _members;
    address[] private _memberList;
    mapping(address lender => Lender) private _lenders;
    bytes32 private _allianceKeyFingerprint;

    /// @param adminTransferDelay Seconds that must pass between proposing and accepting a new governance account.
    /// @param governance The initial governance account (a multisig in production).
    constructor(
        uint48 adminTransferDelay,
        address governance
    ) AccessControlDefaultAdminRules(adminTransferDelay, governance) {}

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IAllianceRegistry
    function admitMember(address account, uint8 roles, bytes32 metadataHash) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert AllianceRegistryZeroAddress();
        _requireValidRoles(roles);
        if (_members[account].status != MemberStatus.None) revert AllianceRegistryMemberExists(account);

        _members[account] = Member({
            roles: roles,
            status: MemberStatus.Active,
            // Timestamps fit 40 bits until the year 36 812.
            since: uint40(block.timestamp),
            reinstatements: 0,
            metadataHash: metadataHash
        });
        _memberList.push(account);
        emit MemberAdmitted(account, roles, metadataHash);
    }

    /// @inheritdoc IAllianceRegistry
    function setMemberRoles(address account, uint8 roles) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireValidRoles(roles);
        Member storage member = _requireCurrentMember(account);
        member.roles = roles;
        emit MemberRolesChanged(account, roles);
    }

    /// @inheritdoc IAllianceRegistry
    function setMemberMetadata(address account, bytes32 metadataHash) external {
        if (msg.sender != account && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert AllianceRegistryUnauthorized(msg.sender);
        }
        Member storage member = _requireCurrentMember(account);
        member.metadataHash = metadataHash;
        emit MemberMetadataChanged(account, metadataHash);
    }

    /// @inheritdoc IAllianceRegistry
    function setAllianceKeyFingerprint(bytes32 fingerprint) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _allianceKeyFingerprint = fingerprint;
        emit AllianceKeyFingerprintSet(fingerprint);
    }

    /// @inheritdoc IAllianceRegistry
    function suspendMember(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _moveStatus(account, MemberStatus.Active, MemberStatus.Active, MemberStatus.Suspended);
    }

    /// @inheritdoc IAllianceRegistry
    function reinstateMember(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _moveStatus(account, MemberStatus.Suspended, MemberStatus.Suspended, MemberStatus.Active);
        _members[account].reinstatements += 1;
    }

    /// @inheritdoc IAllianceRegistry
    function expelMember(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _moveStatus(account, MemberStatus.Active, MemberStatus.Suspended, MemberStatus.Expelled);
    }

    // ---------------------------------------------------------------- lenders

    /// @inheritdoc IAllianceRegistry
    function allowLender(address lender, uint40 kycExpiry) external {
        if (!isActiveMember(msg.sender, ROLE_PLATFORM)) revert AllianceRegistryNotActivePlatform(msg.sender);
        if (lender == address(0)) revert AllianceRegistryZeroAddress();
        // A platform funding its own loans could pay itself the alliance's reserve compensation.
        if (lender == msg.sender) revert AllianceRegistrySelfVouching(msg.sender);
        if (kycExpiry <= block.timestamp) revert AllianceRegistryKycExpiryInPast(kycExpiry, block.timestamp);
        Lender memory record = _lenders[lender];
        if (
            record.kycProvider != msg.sender &&
            record.kycExpiry > block.timestamp &&
            _members[record.kycProvider].status != MemberStatus.Expelled
        ) revert AllianceRegistryLenderVouchedByOther(lender, record.kycProvider, record.kycExpiry);

        _lenders[lender] = Lender({kycExpiry: kycExpiry, kycProvider: msg.sender});
        emit LenderAllowed(lender, msg.sender, kycExpiry);
    }

    /// @inheritdoc IAllianceRegistry
    function revokeLender(address lender) external {
        Lender memory record = _lenders[lender];
        if (record.kycProvider == address(0)) revert AllianceRegistryUnknownLender(lender);
        bool byProvider = msg.sender == record.kycProvider && _members[msg.sender].status != MemberStatus.Expelled;
        if (!byProvider && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) revert AllianceRegistryUnauthorized(msg.sender);

        delete _lenders[lender];
        emit LenderRevoked(lender, msg.sender);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IAllianceRegistry
    function memberOf(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc IAllianceRegistry
    function isActiveMember(address account, uint8 role) public view returns (bool) {
        Member storage member = _members[account];
        return member.status == MemberStatus.Active && member.roles & role == role;
    }

    /// @inheritdoc IAllianceRegistry
    function isServicingMember(address account, uint8 role) external view returns (bool) {
        Member storage member = _members[account];
        MemberStatus status = member.status;
        return (status == MemberStatus.Active || status == MemberStatus.Suspended) && member.roles & role == role;
    }

    /// @inheritdoc IAllianceRegistry
    function isGovernance(address account) external view returns (bool) {
        return hasRole(DEFAULT_ADMIN_ROLE, account);
    }

    /// @inheritdoc IAllianceRegistry
    function memberCount() external view returns (uint256) {
        return _memberList.length;
    }

    /// @inheritdoc IAllianceRegistry
    function memberAt(uint256 index) external view returns (address) {
        return _memberList[index];
    }

    /// @inheritdoc IAllianceRegistry
    function lenderOf(address lender) external view returns (Lender memory) {
        return _lenders[lender];
    }

    /// @inheritdoc IAllianceRegistry
    function isAllowedLender(address lender) external view returns (bool) {
        return _lenders[lender].kycExpiry > block.timestamp;
    }

    /// @inheritdoc IAllianceRegistry
    function allianceKeyFingerprint() external view returns (bytes32) {
        return _allianceKeyFingerprint;
    }

    /// @inheritdoc IAllianceRegistry
    function requireAllowedLender(address lender) external view {
        Lender storage record = _lenders[lender];
        uint40 expiry = record.kycExpiry;
        if (record.kycProvider == address(0)) revert AllianceRegistryUnknownLender(lender);
        if (expiry <= block.timestamp) revert AllianceRegistryLenderKycExpired(lender, expiry, block.timestamp);
    }

    // ---------------------------------------------------------------- internals

    function _requireValidRoles(uint8 roles) private pure {
        if (roles == 0 || roles & ~ALL_ROLES != 0) revert AllianceRegistryInvalidRoles(roles);
    }

    /// @dev A member that may still be changed: admitted and not expelled.
    function _requireCurrentMember(address account) private view returns (Member storage member) {
        member = _members[account];
        if (member.status == MemberStatus.None) revert AllianceRegistryUnknownMember(account);
        if (member.status == MemberStatus.Expelled) {
            revert AllianceRegistryInvalidStatusTransition(account, MemberStatus.Expelled, MemberStatus.Expelled);
        }
    }

    /// @dev Moves `account` to `to` if its status is `fromA` or `fromB`.
    function _moveStatus(address account, MemberStatus fromA, MemberStatus fromB, MemberStatus to) private {
        Member storage member = _members[account];
        MemberStatus from = member.status;
        if (from == MemberStatus.None) revert AllianceRegistryUnknownMember(account);
        if (from != fromA && from != fromB) revert AllianceRegistryInvalidStatusTransition(account, from, to);

        member.status = to;
        // Timestamps fit 40 bits until the year 36 812.
        member.since = uint40(block.timestamp);
        emit MemberStatusChanged(account, from, to);
    }
}
