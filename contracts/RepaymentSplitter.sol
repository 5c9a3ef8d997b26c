// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {TokenSweep} from "./base/TokenSweep.sol";
import {IAllianceRegistry, ROLE_PLATFORM, ROLE_INSURER} from "./interfaces/IAllianceRegistry.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {Bytes} from "@openzeppelin/contracts/utils/Bytes.sol";
import {
    ILoanRegistry,
    LoanId,
    LoanStatus,
    LoanTerms,
    LoanState,
    PaymentDue,
    computeLoanId
} from "./interfaces/ILoanRegistry.sol";
import {
    IRepaymentSplitter,
    FundingPhase,
    FeeKind,
    FundingConfig,
    FeeCaps,
    Split,
    LoanBook,
    Position,
    Accrual
} from "./interfaces/IRepaymentSplitter.sol";
import {ScheduleMath} from "./libraries/ScheduleMath.sol";
import {ExactTransfer} from "./libraries/ExactTransfer.sol";
import {HistoryFacts} from "./libraries/HistoryFacts.sol";
import {ICollateralRegistry} from "./interfaces/ICollateralRegistry.sol";
import {ICustodyAccounts} from "./interfaces/ICustodyDepositToken.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title RepaymentSplitter
/// @notice See {IRepaymentSplitter}.
/// @dev Every function that moves tokens is `nonReentrant` (transient storage, so the guard costs little on the hot
/// paths). Incoming transfers are measured before anything is booked, so that a short delivery is rejected; that is
/// the one place where an interaction precedes the effects.
contract RepaymentSplitter is IRepaymentSplitter, TokenSweep {
    using SafeERC20 for IERC20;
    using ExactTransfer for IERC20;
    using SafeCast for uint256;

    IAllianceRegistry public immutable ALLIANCE;
    ILoanRegistry public immutable LOANS;
    IERC20 public immutable TOKEN;
    /// @dev The custody bank's account register when the token keeps one (a custody deposit token), else zero.
    ICustodyAccounts public immutable ACCOUNTS;

    FeeCaps private _caps;
    address private _reserve;
    /// @dev The collateral registry, asked before a written-off book closes whether the loan's collateral is in custody.
    address private _collateral;
    address private _waterfall;
    address private _insurance;
    uint256 private _minCommitment;
    /// @dev Rounding remainders of closed loans, owed to the reserve (collected with the contributions).
    uint256 private _remainders;
    mapping(LoanId loanId => LoanBook) private _books;
    mapping(LoanId loanId => mapping(address lender => Position)) private _positions;
    mapping(LoanId loanId => address[]) private _lenders;
    /// @dev The originating platform of each loan opened here, for the checks that hold only the loan's id.
    mapping(LoanId loanId => address) private _platforms;
    /// @dev What each payee accrued, and what it was paid, in total ({Accrual}): owed is the difference. Reserve
    /// contributions are kept per originating platform, so that the reserve can account for them.
    mapping(address payee => Accrual) private _accrued;
    mapping(address payee => Accrual) private _paid;

    constructor(IAllianceRegistry alliance, ILoanRegistry loans, IERC20 token, address reserve_, FeeCaps memory caps) {
        if (address(alliance) == address(0) || address(loans) == address(0) || address(token) == address(0)) {
            revert RepaymentSplitterZeroAddress();
        }
        ALLIANCE = alliance;
        LOANS = loans;
        TOKEN = token;
        ACCOUNTS = _accountsOf(token);
        _setReserve(reserve_);
        _setFeeCaps(caps);
    }

    /// @dev A custody deposit token says so by ERC-165; any other token (a test stand-in) keeps no account register.
    function _accountsOf(IERC20 token) private view returns (ICustodyAccounts) {
        try IERC165(address(token)).supportsInterface(type(ICustodyAccounts).interfaceId) returns (bool yes) {
            return yes ? ICustodyAccounts(address(token)) : ICustodyAccounts(address(0));
        } catch {
            return ICustodyAccounts(address(0));
        }
    }

    /// @dev Principal goes only to an account the custody bank knows, so that it can leave the ledger only to the
    /// borrower's own bank account.
    function _requireBankAccount(address account) private view {
        if (address(ACCOUNTS) != address(0)) ACCOUNTS.requireRegisteredAccount(account);
    }

    modifier onlyGovernance() {
        if (!ALLIANCE.isGovernance(msg.sender)) revert RepaymentSplitterNotGovernance(msg.sender);
        _;
    }

    modifier onlyWaterfall() {
        if (msg.sender != _waterfall) revert RepaymentSplitterNotWaterfall(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- funding

    /// @inheritdoc IRepaymentSplitter
    function openFunding(LoanTerms calldata terms, FundingConfig calldata config) external {
        LoanId loanId = computeLoanId(terms);
        // Opening funding is new business: the loan's servicer, and only while it is an active platform.
        if (msg.sender != LOANS.servicerOf(terms) || !ALLIANCE.isActiveMember(msg.sender, ROLE_PLATFORM)) {
            revert RepaymentSplitterNotPlatform(loanId, msg.sender);
        }
        LoanBook storage book = _books[loanId];
        if (book.phase != FundingPhase.None) revert RepaymentSplitterWrongPhase(loanId, book.phase);
        if (config.borrowerPayout == address(0)) revert RepaymentSplitterZeroAddress();
        if (config.borrowerPayout == terms.platform || config.borrowerPayout == msg.sender) {
            revert RepaymentSplitterOwnLoan(loanId, config.borrowerPayout);
        }
        _requireBankAccount(config.borrowerPayout);
        FeeCaps memory caps = _caps;
        _requireWithinCap(FeeKind.PlatformFee, config.platformFeeBps, caps.platformFeeBps);
        _requireWithinCap(FeeKind.InsurancePremium, config.premiumBps, caps.premiumBps);
        _requireWithinCap(FeeKind.ReserveContribution, config.reserveBps, caps.reserveBps);
        if (
            (config.premiumBps != 0 || config.insurer != address(0)) &&
            !ALLIANCE.isActiveMember(config.insurer, ROLE_INSURER)
        ) revert RepaymentSplitterNotInsurer(config.insurer);

        book.insurer = config.insurer;
        book.platformFeeBps = config.platformFeeBps;
        book.premiumBps = config.premiumBps;
        book.reserveBps = config.reserveBps;
        book.phase = FundingPhase.Funding;
        book.borrowerPayout = config.borrowerPayout;
        _platforms[loanId] = terms.platform;
        emit FundingOpened(loanId, msg.sender, config);

        // Reverts unless the loan is Funding and not yet delegated; records the hand-over in the loan's history.
        LOANS.delegateServicing(terms);
        LOANS.extendHistory(loanId, HistoryFacts.fundingOpened(config));
    }

    /// @inheritdoc IRepaymentSplitter
    function fund(LoanTerms calldata terms, uint256 amount) external nonReentrant returns (uint256) {
        LoanId loanId = computeLoanId(terms);
        LoanBook storage book = _books[loanId];
        if (book.phase != FundingPhase.Funding) revert RepaymentSplitterWrongPhase(loanId, book.phase);
        ALLIANCE.requireAllowedLender(msg.sender);
        address servicer = LOANS.servicerOf(terms);
        // Neither the loan's platform, nor its servicer, nor the account its principal is paid to may take a share of
        // it: each could pay itself the alliance's reserve compensation on a loan made to itself.
        if (msg.sender == terms.platform || msg.sender == servicer || msg.sender == book.borrowerPayout) {
            revert RepaymentSplitterOwnLoan(loanId, msg.sender);
        }
        // An expelled platform's loan takes no more money (anyone may cancel it and refund its lenders).
        if (!ALLIANCE.isServicingMember(servicer, ROLE_PLATFORM)) {
            revert RepaymentSplitterServicerExpelled(loanId, servicer);
        }
        if (amount == 0) revert RepaymentSplitterZeroAmount();
        if (block.timestamp > terms.fundingDeadline) {
            revert RepaymentSplitterFundingDeadlinePassed(loanId, terms.fundingDeadline, block.timestamp);
        }
        uint256 remaining = terms.principal - book.committed;
        // Fill what is left rather than refuse: a dust commitment just before must not block the completing one.
        if (amount > remaining) amount = remaining;
        uint256 minimum = _minCommitment;
        if (amount < minimum && amount != remaining) {
            revert RepaymentSplitterCommitmentTooSmall(loanId, amount, minimum, remaining);
        }

        _pull(msg.sender, amount);
        uint256 committed = book.committed + amount;
        // Fits: committed never exceeds the principal, which the registry bounds to 96 bits.
        book.committed = uint96(committed);
        Position storage position = _positions[loanId][msg.sender];
        if (!_isOpen(position.shares, position.debt)) book.openPositions += 1;
        // Fits: amount is at most the principal still to fund.
        position.shares += uint96(amount);
        _list(loanId, position, msg.sender);
        emit Committed(loanId, msg.sender, amount, committed);

        if (committed == terms.principal) {
            book.phase = FundingPhase.Funded;
            address payout_ = book.borrowerPayout;
            // A successor that took the loan over since funding opened must not be disbursed its principal.
            if (payout_ == servicer) revert RepaymentSplitterOwnLoan(loanId, payout_);
            // The bank may have closed the account since funding opened: the principal waits, or the loan is cancelled.
            _requireBankAccount(payout_);
            emit Disbursed(loanId, payout_, committed);
            LOANS.activateLoan(terms);
            TOKEN.safeTransfer(payout_, committed);
        }
        return amount;
    }

    /// @inheritdoc IRepaymentSplitter
    function cancelFunding(LoanTerms calldata terms) external nonReentrant {
        LoanId loanId = computeLoanId(terms);
        LoanBook storage book = _books[loanId];
        if (book.phase != FundingPhase.Funding) revert RepaymentSplitterWrongPhase(loanId, book.phase);
        if (block.timestamp <= terms.fundingDeadline && !LOANS.mayService(terms, msg.sender)) {
            address servicer = LOANS.servicerOf(terms);
            // Before the deadline only the servicer gives up on funding, unless it was expelled.
            if (msg.sender == servicer || ALLIANCE.isServicingMember(servicer, ROLE_PLATFORM)) {
                revert RepaymentSplitterFundingStillOpen(loanId, terms.fundingDeadline, block.timestamp);
            }
        }
        book.phase = FundingPhase.Cancelled;
        // The commitments are what the lenders are owed back, pro rata to shares that are the commitments themselves.
        book.lendersIn = book.committed;
        emit FundingCancelled(loanId, msg.sender, book.committed);
        LOANS.cancelLoan(terms);
    }

    // ---------------------------------------------------------------- repayments

    /// @inheritdoc IRepaymentSplitter
    function repayLoan(
        LoanTerms calldata terms,
        uint256 amount,
        bytes32 bankRef
    ) external nonReentrant returns (Split memory split) {
        LoanId loanId = computeLoanId(terms);
        LoanBook storage book = _books[loanId];
        if (book.phase != FundingPhase.Funded) revert RepaymentSplitterWrongPhase(loanId, book.phase);
        LoanState memory state = LOANS.loanState(loanId);
        _fillFees(split, book, terms.period, state.outstandingPrincipal);
        uint256 fees = split.platformFee + split.premium + split.reserve;
        // An installment may be all fees (a 0% interest-only period): paying exactly what {amountDue} quotes works.
        if (amount < fees) revert RepaymentSplitterPaymentBelowDue(loanId, amount, fees + _installmentDue(terms));

        _pull(msg.sender, amount);
        (
            bool recorded,
            PaymentDue memory due,
            uint256 prepayment,
            uint256 outstandingAfter,
            bytes memory reason
        ) = _record(terms, amount - fees, bankRef);
        uint256 applied = amount;
        if (!recorded) {
            if (bytes4(reason) != ILoanRegistry.LoanRegistryInstallmentsDue.selector) _rethrowWithFees(reason, fees);
            // A later installment has fallen due too: this payment settles this installment only, never a prepayment,
            // and what the payer sent beyond it (a margin for late interest, say) goes back to it.
            (, , , uint256 installmentDue) = abi.decode(Bytes.slice(reason, 4), (LoanId, uint256, uint256, uint256));
            applied = installmentDue + fees;
            (due, prepayment, outstandingAfter) = LOANS.recordPayment(terms, installmentDue, bankRef);
        }
        split.lateInterest = due.lateInterest;
        split.interest = due.interest;
        split.principal = due.principal;
        split.prepayment = prepayment;

        uint256 toLenders = applied - fees;
        if (split.premium != 0) {
            // A premium buys cover, and only what it covers: the covered share of an installment the policy's term
            // covers (by due date, whenever it is paid) goes to the insurer, the rest to the lenders, who bear the
            // rest of the risk.
            uint256 toInsurer =
                due.dueDate <= book.coverEnd ? (split.premium * book.coverageBps) / ScheduleMath.BPS : 0;
            if (toInsurer != 0) _accrued[book.insurer].fees += toInsurer.toUint128();
            if (toInsurer != split.premium) {
                toLenders += split.premium - toInsurer;
                emit PremiumToLenders(loanId, split.premium - toInsurer);
            }
        }
        book.lendersIn += toLenders.toUint128();
        // At most one a recorded installment, and installments number at most 360.
        if (split.reserve != 0) book.contributions += 1;
        // The platform fee pays for servicing: it follows the loan to a successor. The reserve's contribution stays with
        // the originating platform; while that platform services the loan, both land in its one slot in one write.
        // The copy is read after the insurer's credit and written back last, so that no write to the same slot (an
        // insurer that is the platform, a loan handed back to its own platform) is lost under it.
        address servicer = state.handedOver ? LOANS.servicerOf(terms) : terms.platform;
        Accrual memory platformSums = _accrued[terms.platform];
        platformSums.reserve += split.reserve.toUint128();
        if (servicer == terms.platform) platformSums.fees += split.platformFee.toUint128();
        else _accrued[servicer].fees += split.platformFee.toUint128();
        _accrued[terms.platform] = platformSums;
        if (outstandingAfter == 0) book.phase = FundingPhase.Repaid;
        emit RepaymentSplit(loanId, msg.sender, due.installment, applied, split);
        if (applied < amount) TOKEN.safeTransfer(msg.sender, amount - applied);
    }

    /// @dev The registry's record of a repayment of `net` to the lenders, or the reason it refused it.
    function _record(
        LoanTerms calldata terms,
        uint256 net,
        bytes32 bankRef
    )
        private
        returns (bool recorded, PaymentDue memory due, uint256 prepayment, uint256 outstanding, bytes memory reason)
    {
        try LOANS.recordPayment(terms, net, bankRef) returns (PaymentDue memory d, uint256 p, uint256 o) {
            return (true, d, p, o, "");
        } catch (bytes memory r) {
            reason = r;
        }
    }

    /// @inheritdoc IRepaymentSplitter
    function recover(LoanId loanId, uint256 amount) external nonReentrant onlyWaterfall {
        LoanBook storage book = _books[loanId];
        if (book.phase != FundingPhase.Funded) revert RepaymentSplitterWrongPhase(loanId, book.phase);
        if (amount == 0) revert RepaymentSplitterZeroAmount();
        _pull(msg.sender, amount);
        book.lendersIn += amount.toUint128();
        emit RecoveryReceived(loanId, msg.sender, amount);
        LOANS.extendHistory(loanId, HistoryFacts.recoveryReceived(msg.sender, amount));
    }

    /// @inheritdoc IRepaymentSplitter
    function closeLoss(LoanTerms calldata terms, bool writtenOff) external onlyWaterfall {
        LoanId loanId = computeLoanId(terms);
        LoanBook storage book = _books[loanId];
        if (book.phase != FundingPhase.Funded) revert RepaymentSplitterWrongPhase(loanId, book.phase);
        if (writtenOff) {
            LOANS.writeOff(terms);
        } else {
            // Made whole: no more money can arrive, so the lenders' positions are final and the remainder can be swept.
            book.phase = FundingPhase.Recovered;
            LOANS.markRecovered(terms);
        }
    }

    // ---------------------------------------------------------------- payouts

    /// @inheritdoc IRepaymentSplitter
    function payout(
        LoanId loanId,
        address[] calldata lenders
    ) external nonReentrant returns (uint256 paid, uint256 skipped) {
        LoanBook storage book = _books[loanId];
        FundingPhase phase = book.phase;
        if (phase == FundingPhase.None || phase == FundingPhase.Funding)
            revert RepaymentSplitterWrongPhase(loanId, phase);
        bool closing = phase != FundingPhase.Funded;
        uint256 lendersIn = book.lendersIn;
        uint256 committed = book.committed;
        uint256 closed;
        bytes memory batch = _newBatch(lenders.length);
        // A loan cancelled before anyone committed owes nobody anything (and has no shares to divide by).
        if (committed == 0) {
            for (uint256 i; i < lenders.length; ++i) _putLender(batch, i, lenders[i]);
            emit PayoutsPushed(loanId, msg.sender, lenders.length, 0, 0, _closeBatch(batch, lenders.length));
            return (0, 0);
        }
        for (uint256 i; i < lenders.length; ++i) {
            address lender = lenders[i];
            _putLender(batch, i, lender);
            (uint256 amount, bool sent, bool closes) = _payOne(loanId, lender, lendersIn, committed, closing);
            if (!sent) {
                ++skipped;
                continue;
            }
            paid += amount;
            if (closes) ++closed;
        }
        _book(loanId, book, paid, closed);
        _closeBatch(batch, lenders.length);
        emit PayoutsPushed(loanId, msg.sender, lenders.length, paid, skipped, batch);
        // A batch that neither paid nor settled anyone changed nothing, and is no fact of the loan.
        if (paid != 0 || closed != 0) {
            LOANS.extendHistory(loanId, HistoryFacts.payoutsPushed(batch, paid, skipped));
        }
    }

    /// @inheritdoc IRepaymentSplitter
    function claim(LoanId[] calldata loanIds, address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert RepaymentSplitterZeroAddress();
        for (uint256 i; i < loanIds.length; ++i) {
            LoanId loanId = loanIds[i];
            LoanBook storage book = _books[loanId];
            FundingPhase phase = book.phase;
            // A loan cancelled before anyone committed owes nothing (and has no shares to divide by).
            if (phase == FundingPhase.None || phase == FundingPhase.Funding || book.committed == 0) continue;
            bool closing = phase != FundingPhase.Funded;
            Position storage position = _positions[loanId][msg.sender];
            (uint96 shares, int152 debt) = (position.shares, position.debt);
            uint256 owed = _owed(book.lendersIn, book.committed, shares, debt);
            if (owed == 0 && !(closing && _isOpen(shares, debt))) continue;
            bool closes = _settle(position, shares, debt, owed, closing);
            _book(loanId, book, owed, closes ? 1 : 0);
            amount += owed;
            emit Claimed(loanId, msg.sender, to, owed);
        }
        if (amount == 0) revert RepaymentSplitterNothingToClaim(msg.sender);
        TOKEN.safeTransfer(to, amount);
    }

    /// @inheritdoc IRepaymentSplitter
    function transferShare(LoanId loanId, address to, uint256 shares) external nonReentrant {
        LoanBook storage book = _books[loanId];
        if (book.phase != FundingPhase.Funded) revert RepaymentSplitterWrongPhase(loanId, book.phase);
        if (shares == 0) revert RepaymentSplitterZeroAmount();
        if (to == msg.sender) revert RepaymentSplitterNotAllowedLender(to);
        ALLIANCE.requireAllowedLender(to);
        address platform = _platforms[loanId];
        if (to == platform || to == book.borrowerPayout || to == LOANS.servicerFor(loanId, platform)) {
            revert RepaymentSplitterOwnLoan(loanId, to);
        }
        Position storage seller = _positions[loanId][msg.sender];
        if (seller.shares < shares)
            revert RepaymentSplitterInsufficientShares(loanId, msg.sender, seller.shares, shares);

        // The payouts accrued on the moved shares stay with the seller: its debt drops by their value rounded down,
        // the buyer's grows by it rounded up, so neither side can gain a wei from the move.
        uint256 lendersIn = book.lendersIn;
        uint256 committed = book.committed;
        uint256 accruedDown = (lendersIn * shares) / committed;
        uint256 accruedUp = accruedDown + ((lendersIn * shares) % committed == 0 ? 0 : 1);
        // Fits: shares is at most the seller's holding, itself a uint96.
        seller.shares -= uint96(shares);
        seller.debt -= SafeCast.toInt152(accruedDown.toInt256());
        Position storage buyer = _positions[loanId][to];
        // Open positions are counted so that a closed loan's remainder is swept only once everyone was paid.
        uint32 open = book.openPositions;
        if (!_isOpen(seller.shares, seller.debt)) open -= 1;
        if (!_isOpen(buyer.shares, buyer.debt)) open += 1;
        book.openPositions = open;
        buyer.shares += uint96(shares);
        buyer.debt += SafeCast.toInt152(accruedUp.toInt256());
        _list(loanId, buyer, to);
        emit ShareTransferred(loanId, msg.sender, to, shares);
    }

    /// @inheritdoc IRepaymentSplitter
    function withdrawReserve(
        address[] calldata platforms
    ) external nonReentrant returns (uint256[] memory amounts, uint256 remainders) {
        if (msg.sender != _reserve) revert RepaymentSplitterNotReserve(msg.sender);
        amounts = new uint256[](platforms.length);
        remainders = _remainders;
        _remainders = 0;
        uint256 total = remainders;
        for (uint256 i; i < platforms.length; ++i) {
            address platform = platforms[i];
            uint128 accrued = _accrued[platform].reserve;
            uint256 amount = accrued - _paid[platform].reserve;
            _paid[platform].reserve = accrued;
            amounts[i] = amount;
            total += amount;
            emit ReserveCollected(platform, amount);
        }
        if (total != 0) TOKEN.safeTransfer(msg.sender, total);
    }

    /// @inheritdoc IRepaymentSplitter
    function withdrawFees(address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert RepaymentSplitterZeroAddress();
        uint128 accrued = _accrued[msg.sender].fees;
        amount = accrued - _paid[msg.sender].fees;
        _paid[msg.sender].fees = accrued;
        if (amount == 0) revert RepaymentSplitterNothingToClaim(msg.sender);
        emit FeesWithdrawn(msg.sender, to, amount);
        TOKEN.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IRepaymentSplitter
    function setFeeCaps(FeeCaps calldata caps) external onlyGovernance {
        _setFeeCaps(caps);
    }

    /// @inheritdoc IRepaymentSplitter
    function setReserve(address reserve_) external onlyGovernance {
        _setReserve(reserve_);
    }

    /// @inheritdoc IRepaymentSplitter
    function setInsurance(address insurance_) external onlyGovernance {
        if (_insurance != address(0)) revert RepaymentSplitterInsuranceSet(_insurance);
        if (insurance_ == address(0)) revert RepaymentSplitterZeroAddress();
        _insurance = insurance_;
        emit InsuranceSet(insurance_);
    }

    /// @inheritdoc IRepaymentSplitter
    function setCover(LoanId loanId, uint40 coverEnd, uint16 coverageBps) external {
        if (msg.sender != _insurance) revert RepaymentSplitterNotInsurance(msg.sender);
        LoanBook storage book = _books[loanId];
        book.coverEnd = coverEnd;
        book.coverageBps = coverageBps;
        emit CoverSet(loanId, coverEnd, coverageBps);
    }

    /// @inheritdoc IRepaymentSplitter
    function closeWrittenOff(LoanId loanId) external onlyGovernance {
        LoanBook storage book = _books[loanId];
        if (book.phase != FundingPhase.Funded) revert RepaymentSplitterWrongPhase(loanId, book.phase);
        LoanStatus status = LOANS.loanState(loanId).status;
        if (status != LoanStatus.WrittenOff) revert RepaymentSplitterNotWrittenOff(loanId, status);
        // Collateral in custody for the loan is still to be sold for its lenders: the book stays open until then.
        if (_collateral == address(0)) revert RepaymentSplitterZeroAddress();
        uint256 seized = ICollateralRegistry(_collateral).seizuresOf(loanId);
        if (seized != 0) revert RepaymentSplitterCollateralInCustody(loanId, seized);
        book.phase = FundingPhase.Closed;
        emit BookClosed(loanId, msg.sender);
    }

    /// @inheritdoc IRepaymentSplitter
    function setMinCommitment(uint256 minCommitment_) external onlyGovernance {
        _minCommitment = minCommitment_;
        emit MinCommitmentSet(minCommitment_);
    }

    /// @inheritdoc IRepaymentSplitter
    function setCollateral(address collateral_) external onlyGovernance {
        if (_collateral != address(0)) revert RepaymentSplitterCollateralSet(_collateral);
        if (collateral_ == address(0)) revert RepaymentSplitterZeroAddress();
        _collateral = collateral_;
        emit CollateralSet(collateral_);
    }

    /// @inheritdoc IRepaymentSplitter
    function setWaterfall(address waterfall_) external onlyGovernance {
        if (_waterfall != address(0)) revert RepaymentSplitterWaterfallSet(_waterfall);
        if (waterfall_ == address(0)) revert RepaymentSplitterZeroAddress();
        _waterfall = waterfall_;
        emit WaterfallSet(waterfall_);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IRepaymentSplitter
    function bookOf(LoanId loanId) external view returns (LoanBook memory) {
        return _books[loanId];
    }

    /// @inheritdoc IRepaymentSplitter
    function positionOf(LoanId loanId, address lender) external view returns (Position memory) {
        return _positions[loanId][lender];
    }

    /// @inheritdoc IRepaymentSplitter
    function owedTo(LoanId loanId, address lender) external view returns (uint256) {
        LoanBook storage book = _books[loanId];
        if (book.committed == 0 || book.phase == FundingPhase.Funding) return 0;
        Position storage position = _positions[loanId][lender];
        return _owed(book.lendersIn, book.committed, position.shares, position.debt);
    }

    /// @inheritdoc IRepaymentSplitter
    function lendersOf(LoanId loanId, uint256 offset, uint256 limit) external view returns (address[] memory page) {
        address[] storage all = _lenders[loanId];
        uint256 end = offset + limit < all.length ? offset + limit : all.length;
        page = new address[](end > offset ? end - offset : 0);
        for (uint256 i; i < page.length; ++i) {
            page[i] = all[offset + i];
        }
    }

    /// @inheritdoc IRepaymentSplitter
    function lenderCount(LoanId loanId) external view returns (uint256) {
        return _lenders[loanId].length;
    }

    /// @inheritdoc IRepaymentSplitter
    function remaindersOwed() external view returns (uint256) {
        return _remainders;
    }

    /// @inheritdoc IRepaymentSplitter
    function minCommitment() external view returns (uint256) {
        return _minCommitment;
    }

    /// @inheritdoc IRepaymentSplitter
    function feesOwed(address payee) external view returns (uint256) {
        return _accrued[payee].fees - _paid[payee].fees;
    }

    /// @inheritdoc IRepaymentSplitter
    function reserveOwed(address platform) external view returns (uint256) {
        return _accrued[platform].reserve - _paid[platform].reserve;
    }

    /// @inheritdoc IRepaymentSplitter
    function amountDue(LoanTerms calldata terms) external view returns (Split memory due, uint256 total) {
        LoanId loanId = computeLoanId(terms);
        LoanBook storage book = _books[loanId];
        if (book.phase != FundingPhase.Funded) revert RepaymentSplitterWrongPhase(loanId, book.phase);
        _fillFees(due, book, terms.period, LOANS.loanState(loanId).outstandingPrincipal);
        PaymentDue memory next = LOANS.nextPayment(terms);
        due.lateInterest = next.lateInterest;
        due.interest = next.interest;
        due.principal = next.principal;
        total = due.lateInterest + due.platformFee + due.premium + due.reserve + due.interest + due.principal;
    }

    /// @inheritdoc IRepaymentSplitter
    function feeCaps() external view returns (FeeCaps memory) {
        return _caps;
    }

    /// @inheritdoc IRepaymentSplitter
    function reserve() external view returns (address) {
        return _reserve;
    }

    /// @inheritdoc IRepaymentSplitter
    function waterfall() external view returns (address) {
        return _waterfall;
    }

    // ---------------------------------------------------------------- internals

    function _pull(address from, uint256 amount) private {
        TOKEN.pullExact(from, amount);
    }

    function _fillFees(Split memory split, LoanBook storage book, uint256 period, uint256 outstanding) private view {
        split.platformFee = ScheduleMath.periodInterest(outstanding, book.platformFeeBps, period);
        split.premium = ScheduleMath.periodInterest(outstanding, book.premiumBps, period);
        split.reserve = ScheduleMath.periodInterest(outstanding, book.reserveBps, period);
    }

    /// @dev Only for the error path: what the next installment needs without fees.
    function _installmentDue(LoanTerms calldata terms) private view returns (uint256) {
        PaymentDue memory due = LOANS.nextPayment(terms);
        return due.lateInterest + due.interest + due.principal;
    }

    /// @dev Restates the registry's amount errors with the fees added back, so that the payer sees its own figures.
    function _rethrowWithFees(bytes memory reason, uint256 fees) private pure {
        bytes4 selector = bytes4(reason);
        if (
            selector == ILoanRegistry.LoanRegistryPaymentBelowInstallment.selector ||
            selector == ILoanRegistry.LoanRegistryPaymentExceedsBalance.selector
        ) {
            (LoanId loanId, uint256 net, uint256 limit) = abi.decode(
                Bytes.slice(reason, 4),
                (LoanId, uint256, uint256)
            );
            if (selector == ILoanRegistry.LoanRegistryPaymentBelowInstallment.selector) {
                revert RepaymentSplitterPaymentBelowDue(loanId, net + fees, limit + fees);
            }
            revert RepaymentSplitterPaymentExceedsDue(loanId, net + fees, limit + fees);
        }
        LowLevelCall.bubbleRevert(reason);
    }

    function _owed(uint256 lendersIn, uint256 committed, uint96 shares, int152 debt) private pure returns (uint256) {
        // lendersIn < 2^128 and shares < 2^96: the product cannot overflow.
        int256 owed = int256((lendersIn * shares) / committed) - debt;
        return owed > 0 ? uint256(owed) : 0;
    }

    /// @dev Pushes what the loan owes `lender`. A failed transfer leaves its position as it was (`sent` false).
    function _payOne(
        LoanId loanId,
        address lender,
        uint256 lendersIn,
        uint256 committed,
        bool closing
    ) private returns (uint256 amount, bool sent, bool closes) {
        Position storage position = _positions[loanId][lender];
        // The position is held on the stack: a copy in memory would stay allocated for the rest of the batch.
        (uint96 shares, int152 debt) = (position.shares, position.debt);
        amount = _owed(lendersIn, committed, shares, debt);
        if (amount == 0 && !(closing && _isOpen(shares, debt))) return (0, true, false);
        closes = _settle(position, shares, debt, amount, closing);
        if (amount != 0 && !TOKEN.trySafeTransfer(lender, amount)) {
            // The lender keeps its payout (and its shares): nothing about it changed.
            position.shares = shares;
            position.debt = debt;
            emit PayoutSkipped(loanId, lender, amount);
            return (amount, false, false);
        }
        sent = true;
    }

    /// @dev Marks `amount` as paid; on a closed loan the position is final and closes. Returns whether it closed.
    function _settle(
        Position storage position,
        uint96 shares,
        int152 debtBefore,
        uint256 amount,
        bool closing
    ) private returns (bool closes) {
        if (closing) {
            position.shares = 0;
            position.debt = 0;
            return true;
        }
        // Fits: amount is at most what the loan owes, below lendersIn < 2^128.
        int152 debt = debtBefore + int152(int256(amount));
        position.debt = debt;
        // A seller that sold every share and is now paid what it earned before has nothing left here.
        return shares == 0 && debt == 0;
    }

    /// @dev A position is open while it holds shares or has payouts to settle (a debt either way).
    function _isOpen(uint96 shares, int152 debt) private pure returns (bool) {
        return shares != 0 || debt != 0;
    }

    /// @dev Books `paid` lenders' money out and `closed` positions as settled; once every position of a closed loan
    /// is settled, the rounding remainder goes to the reserve.
    function _book(LoanId loanId, LoanBook storage book, uint256 paid, uint256 closed) private {
        if (paid == 0 && closed == 0) return;
        // Fits: paid is part of lendersIn - lendersPaid, both uint128.
        uint128 lendersPaid = book.lendersPaid + uint128(paid);
        book.lendersPaid = lendersPaid;
        if (closed == 0) return;
        // Fits: each closed position was one of the open ones.
        uint32 open = book.openPositions - uint32(closed);
        book.openPositions = open;
        if (open == 0 && book.phase != FundingPhase.Funded) {
            uint256 remainder = book.lendersIn - lendersPaid;
            if (remainder != 0) {
                book.lendersPaid = book.lendersIn;
                // Kept apart from any platform's contributions: rounding is nobody's, and must not grow a quota.
                _remainders += remainder;
                emit RemainderSwept(loanId, _reserve, remainder);
            }
        }
    }

    function _list(LoanId loanId, Position storage position, address lender) private {
        if (!position.listed) {
            position.listed = true;
            _lenders[loanId].push(lender);
        }
    }

    // A payout names its lenders at 20 bytes each ({PayoutsPushed}): an ABI-encoded array would take 32 bytes a lender,
    // and event data costs 8 gas a byte, against a payout target of 15 000 gas a lender. The batch is written as the
    // payout loop reads each lender, one whole word at a time.

    /// @dev Room for `count` lenders, and 12 bytes of slack for the last whole-word write.
    function _newBatch(uint256 count) private pure returns (bytes memory batch) {
        batch = new bytes(count * 20 + 12);
    }

    /// @dev Writes `lender` as the `i`-th 20 bytes of `batch` (its word's low 12 bytes land on the next entry's place,
    /// which the next write overwrites, or on the slack).
    function _putLender(bytes memory batch, uint256 i, address lender) private pure {
        assembly ("memory-safe") {
            mstore(add(add(batch, 32), mul(i, 20)), shl(96, lender))
        }
    }

    /// @dev Trims the slack off `batch` once its `count` lenders are written.
    function _closeBatch(bytes memory batch, uint256 count) private pure returns (bytes memory) {
        assembly ("memory-safe") {
            mstore(batch, mul(count, 20))
        }
        return batch;
    }

    function _requireWithinCap(FeeKind kind, uint256 bps, uint256 cap) private pure {
        if (bps > cap) revert RepaymentSplitterFeeAboveCap(kind, bps, cap);
    }

    function _setFeeCaps(FeeCaps memory caps) private {
        // A cap above 100% a year would only admit nonsense.
        _requireWithinCap(FeeKind.PlatformFee, caps.platformFeeBps, ScheduleMath.BPS);
        _requireWithinCap(FeeKind.InsurancePremium, caps.premiumBps, ScheduleMath.BPS);
        _requireWithinCap(FeeKind.ReserveContribution, caps.reserveBps, ScheduleMath.BPS);
        _caps = caps;
        emit FeeCapsSet(caps);
    }

    function _setReserve(address reserve_) private {
        if (reserve_ == address(0)) revert RepaymentSplitterZeroAddress();
        _reserve = reserve_;
        emit ReserveSet(reserve_);
    }

    // ---------------------------------------------------------------- mistaken tokens

    function _sweepAlliance() internal view override returns (IAllianceRegistry) {
        return ALLIANCE;
    }

    function _sweepReserve() internal view override returns (address) {
        return _reserve;
    }

    /// @dev Every token of the settlement token here is owed to some lender, platform, insurer or the reserve (the
    /// splitter keeps no single total of it, so none of it is swept); any other token is owed to nobody.
    function _unowed(IERC20 token) internal view override returns (uint256) {
        return token == TOKEN ? 0 : token.balanceOf(address(this));
    }
}
