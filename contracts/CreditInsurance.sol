// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {TokenSweep} from "./base/TokenSweep.sol";
import {IAllianceRegistry, ROLE_INSURER} from "./interfaces/IAllianceRegistry.sol";
import {ILoanRegistry, LoanId, LoanStatus, LoanTerms, LoanState, computeLoanId} from "./interfaces/ILoanRegistry.sol";
import {IRepaymentSplitter, LoanBook} from "./interfaces/IRepaymentSplitter.sol";
import {ICreditInsurance, Policy, PolicyStatus, InsurerCapital} from "./interfaces/ICreditInsurance.sol";
import {ExactTransfer} from "./libraries/ExactTransfer.sol";

/// @title CreditInsurance
/// @notice See {ICreditInsurance}.
contract CreditInsurance is ICreditInsurance, TokenSweep {
    using SafeERC20 for IERC20;
    using ExactTransfer for IERC20;

    uint256 private constant BPS = 10_000;

    IAllianceRegistry public immutable ALLIANCE;
    ILoanRegistry public immutable LOANS;
    IRepaymentSplitter public immutable SPLITTER;
    IERC20 public immutable TOKEN;
    address public waterfall;

    mapping(LoanId loanId => Policy) private _policies;
    mapping(address insurer => InsurerCapital) private _capital;

    constructor(IAllianceRegistry alliance, ILoanRegistry loans, IRepaymentSplitter splitter) {
        ALLIANCE = alliance;
        LOANS = loans;
        SPLITTER = splitter;
        TOKEN = splitter.TOKEN();
    }

    modifier onlyWaterfall() {
        if (msg.sender != waterfall) revert CreditInsuranceNotWaterfall(msg.sender);
        _;
    }

    /// @inheritdoc ICreditInsurance
    function depositCapital(uint256 amount) external nonReentrant {
        _requireInsurer();
        if (amount == 0) revert CreditInsuranceZeroAmount();
        _capital[msg.sender].capital += SafeCast.toUint128(amount);
        emit CapitalDeposited(msg.sender, amount);
        _pull(amount);
    }

    /// @inheritdoc ICreditInsurance
    function withdrawCapital(uint256 amount, address to) external nonReentrant {
        InsurerCapital storage account = _capital[msg.sender];
        uint256 free = account.capital - account.locked;
        if (amount == 0) revert CreditInsuranceZeroAmount();
        if (amount > free) revert CreditInsuranceCapitalLocked(msg.sender, amount, free);
        account.capital -= SafeCast.toUint128(amount);
        emit CapitalWithdrawn(msg.sender, to, amount);
        TOKEN.safeTransfer(to, amount);
    }

    /// @inheritdoc ICreditInsurance
    function writePolicy(LoanTerms calldata terms, uint16 coverageBps, uint40 termEnd) external {
        _requireInsurer();
        LoanId loanId = computeLoanId(terms);
        Policy storage policy = _policies[loanId];
        if (policy.status != PolicyStatus.None) revert CreditInsuranceWrongPolicyStatus(loanId, policy.status);
        LoanStatus status = LOANS.loanState(loanId).status;
        if (status != LoanStatus.Funding && status != LoanStatus.Active) {
            revert CreditInsuranceWrongLoanStatus(loanId, status);
        }
        // The premium is the one the loan's waterfall already charges for this insurer.
        LoanBook memory book = SPLITTER.bookOf(loanId);
        if (book.insurer != msg.sender) revert CreditInsuranceNotNamedInsurer(loanId, book.insurer, msg.sender);
        if (coverageBps == 0 || coverageBps > BPS || termEnd <= block.timestamp) {
            revert CreditInsuranceInvalidPolicy(coverageBps, termEnd);
        }
        uint256 maxClaim = (uint256(terms.principal) * coverageBps) / BPS;
        InsurerCapital storage account = _capital[msg.sender];
        uint256 free = account.capital - account.locked;
        if (free < maxClaim) revert CreditInsuranceUnderCapitalised(msg.sender, free, maxClaim);
        account.locked += SafeCast.toUint128(maxClaim);
        _policies[loanId] = Policy({
            insurer: msg.sender,
            coverageBps: coverageBps,
            premiumBps: book.premiumBps,
            termEnd: termEnd,
            status: PolicyStatus.Active,
            maxClaim: SafeCast.toUint128(maxClaim),
            claimPaid: 0,
            reimbursed: 0
        });
        emit PolicyWritten(loanId, msg.sender, coverageBps, termEnd, maxClaim);
        SPLITTER.setCover(loanId, termEnd, coverageBps);
    }

    /// @inheritdoc ICreditInsurance
    function releasePolicy(LoanTerms calldata terms) external {
        LoanId loanId = computeLoanId(terms);
        Policy storage policy = _policies[loanId];
        if (policy.status != PolicyStatus.Active) revert CreditInsuranceWrongPolicyStatus(loanId, policy.status);
        LoanState memory state = LOANS.loanState(loanId);
        // Recovered is closed too: the loss was made whole before any claim, and the capital must not stay locked.
        bool closed =
            state.status == LoanStatus.Repaid ||
                state.status == LoanStatus.Cancelled ||
                state.status == LoanStatus.Recovered;
        bool expired =
            block.timestamp > policy.termEnd &&
                state.status != LoanStatus.Defaulted &&
                state.status != LoanStatus.WrittenOff &&
                state.status != LoanStatus.Recovered;
        if (!closed && !expired) revert CreditInsuranceWrongLoanStatus(loanId, state.status);
        if (!closed && state.status != LoanStatus.Funding) {
            // The policy covers any default whose first missed due date falls within its term: while such an
            // installment is unpaid, the insurer cannot walk away with the capital that backs it.
            uint256 nextDue = uint256(state.activatedAt) + uint256(state.installmentsPaid + 1) * terms.period;
            if (nextDue <= policy.termEnd) revert CreditInsuranceInstallmentUnpaid(loanId, nextDue, policy.termEnd);
        }
        policy.status = PolicyStatus.Released;
        _capital[policy.insurer].locked -= policy.maxClaim;
        emit PolicyReleased(loanId, policy.insurer);
        SPLITTER.setCover(loanId, 0, 0);
    }

    /// @inheritdoc ICreditInsurance
    function payClaim(
        LoanId loanId,
        uint256 netLoss,
        uint256 firstMissedDue
    ) external onlyWaterfall nonReentrant returns (uint256 paid) {
        Policy storage policy = _policies[loanId];
        if (policy.status != PolicyStatus.Active) return 0;
        InsurerCapital storage account = _capital[policy.insurer];
        account.locked -= policy.maxClaim;
        policy.status = PolicyStatus.Claimed;
        // Cover a default whose first missed due date fell within the term, however late it was declared.
        if (firstMissedDue <= policy.termEnd) {
            paid = (netLoss * policy.coverageBps) / BPS;
            if (paid > policy.maxClaim) paid = policy.maxClaim;
        }
        policy.claimPaid = SafeCast.toUint128(paid);
        account.capital -= SafeCast.toUint128(paid);
        emit ClaimPaid(loanId, policy.insurer, netLoss, paid);
        if (paid != 0) TOKEN.safeTransfer(msg.sender, paid);
    }

    /// @inheritdoc ICreditInsurance
    function reimburse(LoanId loanId, uint256 amount) external onlyWaterfall nonReentrant {
        Policy storage policy = _policies[loanId];
        policy.reimbursed += SafeCast.toUint128(amount);
        _capital[policy.insurer].capital += SafeCast.toUint128(amount);
        emit InsurerReimbursed(loanId, policy.insurer, amount);
        _pull(amount);
    }

    /// @inheritdoc ICreditInsurance
    function setWaterfall(address waterfall_) external {
        if (!ALLIANCE.isGovernance(msg.sender) || waterfall != address(0)) {
            revert CreditInsuranceNotGovernance(msg.sender);
        }
        waterfall = waterfall_;
        emit WaterfallSet(waterfall_);
    }

    /// @inheritdoc ICreditInsurance
    function policyOf(LoanId loanId) external view returns (Policy memory) {
        return _policies[loanId];
    }

    /// @inheritdoc ICreditInsurance
    function capitalOf(address insurer) external view returns (InsurerCapital memory) {
        return _capital[insurer];
    }

    function _requireInsurer() private view {
        if (!ALLIANCE.isActiveMember(msg.sender, ROLE_INSURER)) revert CreditInsuranceNotInsurer(msg.sender);
    }

    function _pull(uint256 amount) private {
        TOKEN.pullExact(msg.sender, amount);
    }

    // ---------------------------------------------------------------- mistaken tokens

    function _sweepAlliance() internal view override returns (IAllianceRegistry) {
        return ALLIANCE;
    }

    function _sweepReserve() internal view override returns (address) {
        return SPLITTER.reserve();
    }

    /// @dev The settlement token here is the insurers' capital and premiums; any other token is owed to nobody.
    function _unowed(IERC20 token) internal view override returns (uint256) {
        return token == TOKEN ? 0 : token.balanceOf(address(this));
    }
}
