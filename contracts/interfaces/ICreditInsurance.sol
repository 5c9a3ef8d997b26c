// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {LoanId, LoanStatus, LoanTerms} from "./ILoanRegistry.sol";

enum PolicyStatus {
    None,
    Active,
    Claimed,
    Released
}

/// @notice A policy an insurer member wrote on one loan.
struct Policy {
    address insurer;
    uint16 coverageBps;
    uint16 premiumBps;
    uint40 termEnd;
    PolicyStatus status;
    /// @dev `principal × coverageBps`: the most a claim can pay, locked from the insurer's capital while the policy
    /// is active.
    uint128 maxClaim;
    uint128 claimPaid;
    uint128 reimbursed;
}

/// @notice An insurer's capital: everything deposited, less withdrawals and claims, plus reimbursements.
struct InsurerCapital {
    uint128 capital;
    /// @dev The part of `capital` that backs active policies.
    uint128 locked;
}

/// @title Credit insurance written by insurer members on individual loans
/// @notice An insurer deposits capital, then writes a policy on a loan it was named for when the loan was opened for
/// funding. Its premium arrives through the repayment waterfall, and only for the cover it buys: of each installment
/// whose due date falls within the policy's term the insurer earns `premium × coverageBps / 10 000`, and the lenders,
/// who bear the rest of the risk, the rest (all of it without cover), so a 1 bps policy written late earns 1 bps of the
/// premium. A policy covers any default whose first missed due date falls within its
/// term, whenever the default is declared; its capital cannot be released while an installment due within the term is
/// unpaid. The policy locks `principal × coverage` of the
/// insurer's capital, so an insurer without enough free capital cannot write it. When the loan defaults, the loss
/// waterfall claims `coverage × (loss left after collateral)`, at most the locked amount, and passes it to the lenders;
/// later recoveries reimburse the insurer, up to what it paid. A policy whose loan was repaid, cancelled or recovered in
/// full (Recovered counts as closed: the loss was made whole before any claim), or whose term ended without a default,
/// is released and its capital freed.
///
/// A policy's state machine ({PolicyStatus}):
///
///     from      action         who                          condition                                   to
///     None      writePolicy    the insurer the loan named   loan Funding or Active, free capital        Active
///     Active    releasePolicy  anyone                       loan Repaid, Cancelled or Recovered, or     Released
///                                                           term ended with every installment due
///                                                           within it paid (a Funding loan has none)
///     Active    payClaim       the loss waterfall           at settlement of the loan's default         Claimed
///     Active    writePolicy    anyone                                                                   refused
///     Claimed, Released: final (no action applies)
interface ICreditInsurance {
    event CapitalDeposited(address indexed insurer, uint256 amount);
    event CapitalWithdrawn(address indexed insurer, address to, uint256 amount);
    event PolicyWritten(
        LoanId indexed loanId,
        address indexed insurer,
        uint16 coverageBps,
        uint40 termEnd,
        uint256 maxClaim
    );
    event PolicyReleased(LoanId indexed loanId, address indexed insurer);
    event ClaimPaid(LoanId indexed loanId, address indexed insurer, uint256 netLoss, uint256 paid);
    event InsurerReimbursed(LoanId indexed loanId, address indexed insurer, uint256 amount);
    event WaterfallSet(address waterfall);

    error CreditInsuranceNotInsurer(address caller);
    error CreditInsuranceNotGovernance(address caller);
    error CreditInsuranceNotWaterfall(address caller);
    error CreditInsuranceZeroAmount();
    /// @notice The insurer's free capital `free` does not cover the policy's maximum claim `needed`.
    error CreditInsuranceUnderCapitalised(address insurer, uint256 free, uint256 needed);
    /// @notice `amount` exceeds the insurer's free capital `free`.
    error CreditInsuranceCapitalLocked(address insurer, uint256 amount, uint256 free);
    /// @notice The loan's splitter book names `named` as insurer with premium `premiumBps`; the policy must match.
    error CreditInsuranceNotNamedInsurer(LoanId loanId, address named, address caller);
    /// @notice Coverage is 1 to 10 000 bps and the term must end in the future.
    error CreditInsuranceInvalidPolicy(uint256 coverageBps, uint256 termEnd);
    /// @notice The loan already has a policy, or none in the status this needs (`status`).
    error CreditInsuranceWrongPolicyStatus(LoanId loanId, PolicyStatus status);
    /// @notice A policy is written on a Funding or Active loan, and released once it is closed or its term ended
    /// without a default; the loan is `loanStatus`.
    error CreditInsuranceWrongLoanStatus(LoanId loanId, LoanStatus loanStatus);
    /// @notice The installment due at `dueDate`, within the policy's term ending `termEnd`, is unpaid: the policy still
    /// covers its default and its capital stays locked.
    error CreditInsuranceInstallmentUnpaid(LoanId loanId, uint256 dueDate, uint256 termEnd);

    function depositCapital(uint256 amount) external;

    function withdrawCapital(uint256 amount, address to) external;

    /// @notice Writes a policy covering `coverageBps` of the loan's loss until `termEnd`. Active insurer members only.
    function writePolicy(LoanTerms calldata terms, uint16 coverageBps, uint40 termEnd) external;

    /// @notice Frees the policy's capital once its loan is Repaid, Cancelled or Recovered, or once its term has ended
    /// with every installment due within the term paid (a loan still in funding has none due).
    function releasePolicy(LoanTerms calldata terms) external;

    /// @notice Pays the claim for a defaulted loan's `netLoss` to the loss waterfall (the caller), when the loan's first
    /// missed due date `firstMissedDue` falls within the policy's term. Waterfall only.
    function payClaim(LoanId loanId, uint256 netLoss, uint256 firstMissedDue) external returns (uint256 paid);

    /// @notice Takes `amount` recovered on the loan back into the insurer's capital. Waterfall only.
    function reimburse(LoanId loanId, uint256 amount) external;

    /// @notice Names the loss waterfall, once. Governance only.
    function setWaterfall(address waterfall) external;

    function policyOf(LoanId loanId) external view returns (Policy memory);

    function capitalOf(address insurer) external view returns (InsurerCapital memory);
}
