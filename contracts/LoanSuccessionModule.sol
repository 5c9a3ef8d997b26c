// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IAllianceRegistry, Member, MemberStatus, ROLE_PLATFORM} from "./interfaces/IAllianceRegistry.sol";
import {
    ILoanRegistry,
    LoanId,
    LoanTerms,
    LoanState,
    Appointment,
    AppointmentStatus
} from "./interfaces/ILoanRegistry.sol";
import {ILoanSuccession} from "./interfaces/ILoanSuccession.sol";
import {HistoryFacts} from "./libraries/HistoryFacts.sol";
import {LoanRegistryModule} from "./LoanRegistryBase.sol";

/// @title LoanSuccessionModule
/// @notice See {ILoanSuccession}. The registry creates this module and runs its code by delegatecall for every function
/// of {ILoanSuccession}, on the registry's own storage ({LoanRegistryModule}).
contract LoanSuccessionModule is ILoanSuccession, LoanRegistryModule {
    constructor(IAllianceRegistry alliance) LoanRegistryModule(alliance) {}

    /// @inheritdoc ILoanSuccession
    function appointSuccessor(address platform, address successor) external onlyDelegated {
        _requireGovernance();
        Member memory member = ALLIANCE.memberOf(platform);
        bool failing =
            (member.status == MemberStatus.Suspended || member.status == MemberStatus.Expelled) &&
                member.roles & ROLE_PLATFORM != 0;
        if (!failing || successor == platform || !ALLIANCE.isActiveMember(successor, ROLE_PLATFORM)) {
            revert ILoanRegistry.LoanRegistryInvalidSuccessor(platform, successor);
        }
        // The platform's reinstatement count dates the appointment: the next reinstatement ends it. Timestamps fit 40
        // bits until the year 36 812.
        _appointments[platform] = Appointment({
            successor: successor,
            reinstatements: member.reinstatements,
            appointedAt: uint40(block.timestamp)
        });
        emit ILoanRegistry.SuccessorAppointed(platform, successor);
    }

    /// @inheritdoc ILoanSuccession
    function withdrawSuccessor(address platform) external onlyDelegated {
        _requireGovernance();
        address successor = _appointments[platform].successor;
        if (successor == address(0)) revert ILoanRegistry.LoanRegistryNoAppointment(platform);
        delete _appointments[platform];
        emit ILoanRegistry.SuccessorWithdrawn(platform, successor);
    }

    /// @inheritdoc ILoanSuccession
    function takeOverLoans(LoanTerms[] calldata terms) external onlyDelegated {
        for (uint256 i; i < terms.length; ++i) {
            (LoanId loanId, LoanState storage state) = _known(terms[i]);
            address platform = terms[i].platform;
            address successor = _standingSuccessor(platform);
            // The appointment is carried out only while it still stands (the platform failing and not reinstated
            // since), to a successor still active, and for a loan still with its platform (a transfer governance made
            // since is not undone).
            if (successor == address(0) || state.handedOver || !ALLIANCE.isActiveMember(successor, ROLE_PLATFORM)) {
                revert ILoanRegistry.LoanRegistryNoSuccessor(loanId, platform);
            }
            _handOver(terms[i], loanId, state, successor);
        }
    }

    /// @inheritdoc ILoanSuccession
    function transferServicing(LoanTerms[] calldata terms, address successor) external onlyDelegated {
        _requireGovernance();
        if (!ALLIANCE.isActiveMember(successor, ROLE_PLATFORM)) {
            revert ILoanRegistry.LoanRegistryInvalidSuccessor(address(0), successor);
        }
        for (uint256 i; i < terms.length; ++i) {
            (LoanId loanId, LoanState storage state) = _known(terms[i]);
            if (_servicerOf(terms[i], loanId, state) == successor) {
                revert ILoanRegistry.LoanRegistryInvalidSuccessor(terms[i].platform, successor);
            }
            _handOver(terms[i], loanId, state, successor);
        }
    }

    /// @inheritdoc ILoanSuccession
    function successorOf(address platform) external view onlyDelegated returns (address) {
        return _standingSuccessor(platform);
    }

    /// @inheritdoc ILoanSuccession
    function appointmentOf(
        address platform
    ) external view onlyDelegated returns (Appointment memory appointment, AppointmentStatus status) {
        appointment = _appointments[platform];
        if (appointment.successor == address(0)) return (appointment, AppointmentStatus.None);
        status = _standingSuccessor(platform) != address(0) ? AppointmentStatus.Standing : AppointmentStatus.Lapsed;
    }

    /// @dev The successor of `platform`'s book while governance's appointment stands: the platform is still failing
    /// (suspended or expelled) and was not reinstated since the appointment, whatever happened to it in between.
    function _standingSuccessor(address platform) private view returns (address) {
        Appointment storage appointment = _appointments[platform];
        address successor = appointment.successor;
        if (successor == address(0)) return address(0);
        Member memory member = ALLIANCE.memberOf(platform);
        bool failing = member.status == MemberStatus.Suspended || member.status == MemberStatus.Expelled;
        return failing && member.reinstatements == appointment.reinstatements ? successor : address(0);
    }

    function _handOver(LoanTerms calldata terms, LoanId loanId, LoanState storage state, address successor) private {
        address previous = _servicerOf(terms, loanId, state);
        state.handedOver = true;
        _servicers[loanId] = successor;
        uint40 at = uint40(block.timestamp);
        bytes32 head = _extend(loanId, HistoryFacts.servicerChanged(loanId, previous, successor, at));
        emit ILoanRegistry.LoanServicerChanged(loanId, previous, successor, at, head);
    }
}
