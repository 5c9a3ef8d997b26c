// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {LoanTerms, Appointment, AppointmentStatus} from "./ILoanRegistry.sol";

/// @title Loan succession: governance hands a failing platform's book to another platform
/// @notice The loan registry's functions that move loans from one servicer to another. They are served at the registry's
/// own address, by its succession module, and their events and errors are the registry's ({ILoanRegistry}); each
/// hand-over is a `ServicerChanged` fact in the loan's history.
///
/// Governance appoints a successor for the whole book of a suspended or expelled platform; anyone then carries the
/// appointment out loan by loan ({takeOverLoans}). An appointment covers the book of the standing it was made in, never
/// later business: the platform's reinstatement ends it for good (a suspended or expelled platform anchors nothing, so
/// no loan anchored after an appointment can be reached by it), and governance may withdraw it. The appointment's
/// state machine ({AppointmentStatus}):
///
///     from      action             who         condition                                    to
///     None      appointSuccessor   governance  platform suspended or expelled,              Standing
///                                              successor an active platform
///     Standing  appointSuccessor   governance  as above (replaces the successor)            Standing
///     Lapsed    appointSuccessor   governance  as above (the platform failed again)         Standing
///     Standing  withdrawSuccessor  governance                                               None
///     Lapsed    withdrawSuccessor  governance                                               None
///     Standing  reinstateMember    governance  (in the alliance registry)                   Lapsed
///     Standing  takeOverLoans      anyone      successor still an active platform,          Standing
///                                              loan still with its platform
///     None      takeOverLoans      anyone                                                   refused
///     Lapsed    takeOverLoans      anyone                                                   refused
///     None      withdrawSuccessor  governance                                               refused
///
/// Every other caller is refused for the governance actions ({ILoanRegistry-LoanRegistryNotGovernance}).
interface ILoanSuccession {
    /// @notice Names `successor`, an active platform, to take over every loan of `platform`, a suspended or expelled
    /// platform (a later appointment replaces an earlier one). Each loan passes to it by {takeOverLoans}, which records
    /// the hand-over in the loan's history. The appointment stands until governance withdraws it or reinstates the
    /// platform. Governance only.
    function appointSuccessor(address platform, address successor) external;

    /// @notice Withdraws the appointment of a successor for `platform`'s loans: loans handed over already stay with
    /// the successor (governance moves them with {transferServicing}). Governance only.
    function withdrawSuccessor(address platform) external;

    /// @notice Hands each loan of `terms` over to the successor appointed for its platform. Anyone may call it (the
    /// decision was governance's), but only while the appointment stands (the platform still suspended or expelled,
    /// and not reinstated since the appointment), only to a successor that is still an active platform, and only for
    /// loans still with their platform (a loan governance transferred elsewhere stays there); each loan's history
    /// records the hand-over.
    function takeOverLoans(LoanTerms[] calldata terms) external;

    /// @notice Hands the loans of `terms` over to `successor`, an active platform, whatever their platform's standing
    /// (a portfolio transfer, or a successor for part of a book). Governance only.
    function transferServicing(LoanTerms[] calldata terms, address successor) external;

    /// @notice The successor whose appointment for `platform`'s loans stands now (zero if none stands).
    function successorOf(address platform) external view returns (address);

    /// @notice Governance's last appointment for `platform`'s loans and where it stands.
    function appointmentOf(address platform) external view returns (Appointment memory, AppointmentStatus);
}
