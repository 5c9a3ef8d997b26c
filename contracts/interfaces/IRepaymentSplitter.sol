// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {LoanId, LoanStatus, LoanTerms} from "./ILoanRegistry.sol";

/// @notice Where a loan stands in the splitter. Funded covers Active, Late, Defaulted and WrittenOff in the loan
/// registry (a written-off loan may still recover money through the loss waterfall); Recovered is a loss made whole, after
/// which no money can arrive. The splitter only needs to know whether money can still arrive and whether lenders'
/// positions are final: in Cancelled, Repaid and Recovered they are, and the loan's rounding remainder is swept once
/// all of them are settled.
enum FundingPhase {
    None,
    Funding,
    Funded,
    Cancelled,
    Repaid,
    Recovered,
    /// @dev A written-off loan whose recovery efforts governance declared ended: no more money arrives, so every
    /// lender's position is final and the rounding remainder goes to the reserve.
    Closed
}

/// @notice The waterfall step a fee rate is about.
enum FeeKind {
    PlatformFee,
    InsurancePremium,
    ReserveContribution
}

/// @notice What the originating platform sets when it opens a loan for funding. Rates are basis points a year on the
/// outstanding principal, charged per installment period the way interest is (actual/365, rounded down).
struct FundingConfig {
    /// @dev Where the principal is disbursed: the borrower's (or its escrow's) account at the settlement bank.
    address borrowerPayout;
    /// @dev The insurer member that covers the loan, or zero when it is uninsured (then the premium rate must be zero).
    address insurer;
    uint16 platformFeeBps;
    uint16 premiumBps;
    uint16 reserveBps;
}

/// @notice The alliance's caps on the per-loan rates of {FundingConfig}, set by governance.
struct FeeCaps {
    uint16 platformFeeBps;
    uint16 premiumBps;
    uint16 reserveBps;
}

/// @notice One repayment, applied in waterfall order. Everything but the three fees goes to the lenders.
struct Split {
    uint256 lateInterest;
    uint256 platformFee;
    uint256 premium;
    uint256 reserve;
    uint256 interest;
    uint256 principal;
    uint256 prepayment;
}

/// @notice A loan's money in the splitter.
/// @dev Four slots, laid out for the hot paths: a repayment reads the first and updates the second, which funding
/// already made non-zero (so the policy's coverage and the count of contributions, which a repayment reads or writes,
/// sit there too). `committed` is the total of lenders' shares: while Funding it grows to the principal, and it
/// is the divisor of every pro-rata entitlement. `lendersIn` is everything that ever arrived for the lenders
/// (repayments, or the commitments themselves once a loan is cancelled); `lendersPaid` is what left to them.
/// `openPositions` counts the positions that hold shares or have payouts to settle; once a repaid or cancelled loan has
/// none left, the rounding remainder `lendersIn - lendersPaid` goes to the reserve.
struct LoanBook {
    address insurer;
    uint16 platformFeeBps;
    uint16 premiumBps;
    uint16 reserveBps;
    FundingPhase phase;
    /// @dev The last due date the named insurer's policy covers (zero: no cover). The premium of an installment due
    /// later goes to the lenders, who bear the uninsured risk.
    uint40 coverEnd;
    uint128 lendersIn;
    uint96 committed;
    /// @dev The share of the loss the policy covers (basis points, zero: no cover): the insurer earns this share of each
    /// covered installment's premium, and the lenders the rest.
    uint16 coverageBps;
    /// @dev Installments whose risk-reserve contribution was paid: the reserve compensates only loans that paid into it
    /// ({IRiskReserveFund}).
    uint16 contributions;
    address borrowerPayout;
    uint32 openPositions;
    uint128 lendersPaid;
}

/// @notice A lender's share of a loan.
/// @dev One slot. The lender is owed `lendersIn * shares / committed - debt` (rounded down, never below zero). `debt`
/// grows by every payout; a share transfer moves debt with the shares so that accrued payouts stay with the seller.
struct Position {
    uint96 shares;
    int152 debt;
    bool listed;
}

/// @notice What a payee accrued, or was paid, in total: its fees (a servicer's platform fee, an insurer's share of the
/// premium) and, for an originating platform, the risk-reserve contributions its loans paid, owed to the reserve.
/// @dev One slot for both sums, so that a repayment whose platform fee and reserve contribution both name its platform
/// updates one slot (5 000 gas) where two sums kept apart took two. The splitter keeps one of these for what each
/// payee accrued and one for what it was paid, never emptied: what is owed is the difference, and a repayment after a
/// withdrawal updates a slot rather than writing one from zero (22 100).
struct Accrual {
    uint128 fees;
    uint128 reserve;
}

/// @title Repayment splitter: loan funding, the repayment waterfall and lender payouts
/// @notice Allowlisted lenders commit settlement tokens to a loan that its platform opened for funding; when the
/// principal is reached it is disbursed to the borrower and the loan becomes Active; if the funding deadline passes
/// first, the loan is cancelled and every lender gets its commitment back. Lenders' shares are their commitments.
///
/// Anyone may repay a funded loan. Each payment is applied in this order: late interest, platform fee, insurance
/// premium, risk-reserve contribution, interest, scheduled principal, prepayment. It must cover at least the next
/// installment with its fees. The fees accrue to the loan's servicer (its platform, or a successor), the insurer and
/// (per originating platform) the reserve, who withdraw them; the rest is the lenders', tracked per share so that a
/// repayment costs the same for 1 or 500 lenders.
///
/// A premium buys cover, and only the cover it buys: the insurer earns `premium × coverageBps / 10 000` of an
/// installment whose due date its policy covers (rounded down), and the lenders, who bear the rest of the risk, the
/// rest of the premium. An installment is routed by its due date, not by when it is paid, so a late payment of a covered
/// installment pays the insurer and an early one of an uncovered installment does not.
///
/// Payouts are pushed by anyone to a batch of lenders; a lender whose transfer fails is skipped and keeps its payout,
/// which it can claim itself (to any address) at any time. Once a repaid or cancelled loan's lenders have all been paid,
/// the rounding remainder goes to the reserve: every wei that enters leaves to a named party.
///
/// History: opening a loan for funding delegates its servicing in the loan registry and records the configuration as
/// an External fact from this contract (FundingOpened). Every recovery it receives for the loan's lenders (collateral
/// proceeds, insurance claims, reserve compensation, late payments through the loss waterfall, on a loan in default or
/// not) is an External fact too (RecoveryReceived), so that no money reaches a loan without its history showing it.
/// Each repayment is recorded by the registry (its `RepaymentRecorded.amount` is the lenders' part: the payment less the
/// three fees) in the same transaction as this contract's {RepaymentSplit}, so an auditor checks `amount = platformFee +
/// premium + reserve + RepaymentRecorded.amount` per transaction.
///
/// Each payout that moves money or settles a position is an External fact too (PayoutsPushed, over the hash of its
/// batch), so that the history a chain proves also fixes which lenders each payout went to. {ILoanRegistry} gives the
/// encoding of each fact, tagged by its {FactKind}.
interface IRepaymentSplitter {
    // ---------------------------------------------------------------- events

    event FundingOpened(LoanId indexed loanId, address indexed platform, FundingConfig config);
    event Committed(LoanId indexed loanId, address indexed lender, uint256 amount, uint256 committed);
    event Disbursed(LoanId indexed loanId, address indexed borrowerPayout, uint256 amount);
    event FundingCancelled(LoanId indexed loanId, address indexed by, uint256 committed);
    /// @notice `payer` paid `amount` for installment `installment`, split as `split`. The bank reference it named is in
    /// the registry's `RepaymentRecorded` of the same transaction: a fact of the loan's history.
    event RepaymentSplit(LoanId indexed loanId, address indexed payer, uint16 installment, uint256 amount, Split split);
    /// @notice `keeper` pushed the loan's payouts to the `lenders` accounts of `batch` (each 20 bytes, in the order
    /// given, as the call named them): `paid` in all, `skipped` of them failed (each has its {PayoutSkipped}). What
    /// each lender got is not repeated: it is what the loan owed it, which an auditor replays from the lender's
    /// commitments, share transfers, claims and earlier payouts; `paid` is their sum.
    event PayoutsPushed(
        LoanId indexed loanId,
        address indexed keeper,
        uint256 lenders,
        uint256 paid,
        uint256 skipped,
        bytes batch
    );
    /// @notice The transfer of `amount` to `lender` failed; the amount stays claimable.
    event PayoutSkipped(LoanId indexed loanId, address indexed lender, uint256 amount);
    event Claimed(LoanId indexed loanId, address indexed lender, address to, uint256 amount);
    event ShareTransferred(LoanId indexed loanId, address indexed from, address indexed to, uint256 shares);
    /// @notice Servicer contract `from` paid `amount` recovered on the loan (collateral proceeds, later insurance or
    /// reserve compensation) to its lenders.
    event RecoveryReceived(LoanId indexed loanId, address indexed from, uint256 amount);
    /// @notice The reserve collected `amount` of risk-reserve contributions made on `platform`'s loans.
    event ReserveCollected(address indexed platform, uint256 amount);
    event FeesWithdrawn(address indexed payee, address indexed to, uint256 amount);
    event RemainderSwept(LoanId indexed loanId, address indexed reserve, uint256 amount);
    event CollateralSet(address indexed collateral);
    /// @notice Governance closed the book of written-off loan `loanId`: no more recoveries reach it.
    event BookClosed(LoanId indexed loanId, address indexed by);
    event FeeCapsSet(FeeCaps caps);
    event ReserveSet(address indexed reserve);
    event WaterfallSet(address indexed waterfall);
    event MinCommitmentSet(uint256 minCommitment);
    event InsuranceSet(address indexed insurance);
    /// @notice The loan's policy now covers `coverageBps` of its loss for installments due until `coverEnd` (zero: no
    /// longer).
    event CoverSet(LoanId indexed loanId, uint40 coverEnd, uint16 coverageBps);
    /// @notice `amount` of a repayment's premium went to the lenders: the premium beyond what the policy covers (all of
    /// it when no policy covers the installment).
    event PremiumToLenders(LoanId indexed loanId, uint256 amount);

    // ---------------------------------------------------------------- errors

    /// @notice Only alliance governance may do this; `caller` is not.
    error RepaymentSplitterNotGovernance(address caller);
    error RepaymentSplitterZeroAddress();
    error RepaymentSplitterZeroAmount();
    /// @notice The `kind` rate `bps` exceeds the alliance cap `cap`.
    error RepaymentSplitterFeeAboveCap(FeeKind kind, uint256 bps, uint256 cap);
    /// @notice `insurer` is not an active insurer member (a premium needs one).
    error RepaymentSplitterNotInsurer(address insurer);
    /// @notice `caller` is not the loan's servicer (its platform or successor), or not an active one where new business
    /// is concerned.
    error RepaymentSplitterNotPlatform(LoanId loanId, address caller);
    /// @notice `lender` cannot take shares of this loan: it is the caller itself.
    error RepaymentSplitterNotAllowedLender(address lender);
    /// @notice `account` is the loan's platform or servicer: a platform can neither fund its own loans nor receive
    /// their principal, which would let it pay itself the alliance's reserve compensation.
    error RepaymentSplitterOwnLoan(LoanId loanId, address account);
    /// @notice The loan's servicer `servicer` was expelled and no successor took the loan over: it cannot be funded.
    error RepaymentSplitterServicerExpelled(LoanId loanId, address servicer);
    /// @notice The loan is `phase` in the splitter, where this cannot be done.
    error RepaymentSplitterWrongPhase(LoanId loanId, FundingPhase phase);
    /// @notice The collateral registry is named already, as `collateral`.
    error RepaymentSplitterCollateralSet(address collateral);
    /// @notice `seized` assets are in custody for the loan, still to be sold for its lenders: its book stays open.
    error RepaymentSplitterCollateralInCustody(LoanId loanId, uint256 seized);
    /// @notice Only a WrittenOff loan's book can be closed; the loan is `status`.
    error RepaymentSplitterNotWrittenOff(LoanId loanId, LoanStatus status);
    /// @notice A commitment of `amount` is below the alliance's minimum `minimum`, and does not complete the loan's
    /// funding either (`remaining` is left to fund).
    error RepaymentSplitterCommitmentTooSmall(LoanId loanId, uint256 amount, uint256 minimum, uint256 remaining);
    /// @notice Funding closed at `deadline`; it is `nowTime`.
    error RepaymentSplitterFundingDeadlinePassed(LoanId loanId, uint256 deadline, uint256 nowTime);
    /// @notice Before the funding deadline `deadline` only the platform may cancel; it is `nowTime`.
    error RepaymentSplitterFundingStillOpen(LoanId loanId, uint256 deadline, uint256 nowTime);
    /// @notice `amount` does not cover the next installment with its fees, `due`.
    error RepaymentSplitterPaymentBelowDue(LoanId loanId, uint256 amount, uint256 due);
    /// @notice `amount` exceeds everything the loan can take now with its fees, `maxPayable`.
    error RepaymentSplitterPaymentExceedsDue(LoanId loanId, uint256 amount, uint256 maxPayable);
    /// @notice `lender` holds `held` shares of the loan, fewer than `wanted`.
    error RepaymentSplitterInsufficientShares(LoanId loanId, address lender, uint256 held, uint256 wanted);
    /// @notice `caller` is not the loss waterfall, the one contract that pays recoveries in and closes losses.
    error RepaymentSplitterNotWaterfall(address caller);
    /// @notice The loss waterfall was named already; it cannot be replaced.
    error RepaymentSplitterWaterfallSet(address waterfall);
    /// @notice `caller` is not the credit insurance contract, the one that says when a policy covers a loan.
    error RepaymentSplitterNotInsurance(address caller);
    /// @notice The credit insurance contract was named already; it cannot be replaced.
    error RepaymentSplitterInsuranceSet(address insurance);
    /// @notice Only the reserve collects reserve contributions; `caller` is not it.
    error RepaymentSplitterNotReserve(address caller);
    /// @notice Nothing is owed to `account`.
    error RepaymentSplitterNothingToClaim(address account);

    // ---------------------------------------------------------------- funding

    /// @notice Opens a Funding loan for commitments with `config`, and takes over its activation, cancellation and
    /// repayments in the loan registry. The loan's active originating platform only; rates within the caps. When the
    /// settlement token is a custody deposit token, the borrower's payout account must be registered with the custody
    /// bank ({ICustodyAccounts}), now and again when the principal is disbursed.
    function openFunding(LoanTerms calldata terms, FundingConfig calldata config) external;

    /// @notice Commits up to `amount` settlement tokens (approved beforehand) to the loan: the commitment fills
    /// `min(amount, principal still unfunded)`, so a dust commitment placed just before cannot make the completing one
    /// fail. Allowlisted lenders only, before the funding deadline, at least the alliance's minimum commitment unless it
    /// completes the funding. The commitment that completes the principal disburses it to the borrower and activates
    /// the loan.
    /// @return committed What was taken from the caller.
    function fund(LoanTerms calldata terms, uint256 amount) external returns (uint256 committed);

    /// @notice Cancels a loan still in funding: its servicer at any time, anyone once the funding deadline has passed or
    /// the servicer was expelled. Commitments become payable back to the lenders, through {payout} or {claim}.
    function cancelFunding(LoanTerms calldata terms) external;

    // ---------------------------------------------------------------- repayments and payouts

    /// @notice Pays `amount` (approved beforehand) towards the loan, from any account. See the waterfall above. Every
    /// installment already due is paid before any prepayment: while a later installment has fallen due too, the payment
    /// settles the next installment only and the rest of `amount` goes back to the payer. `bankRef` links the payment to
    /// the custody bank's: the reference of the issue that brought the borrower's money to the ledger, or zero when it
    /// was paid from tokens already held. It is recorded in the loan's history (`RepaymentRecorded`), and the auditor
    /// checks a non-zero one against the token's issues.
    /// @dev Named `repayLoan`, not `repay`, for its selector: the compiler's dispatcher (via-IR) tries the selectors in
    /// ascending order, and this one comes early, which saves the hot path some 500 gas over `repay`'s.
    function repayLoan(LoanTerms calldata terms, uint256 amount, bytes32 bankRef) external returns (Split memory split);

    /// @notice Pays `amount` (approved beforehand) recovered on a funded loan to its lenders, pro rata like a repayment
    /// but outside the waterfall and without changing the loan's schedule. The loss waterfall only.
    function recover(LoanId loanId, uint256 amount) external;

    /// @notice Closes the loss of a Defaulted loan in the loan registry, as the loan's funding delegate: Recovered, or
    /// WrittenOff when `writtenOff`. The loss waterfall only, which decides when a loss is closed.
    function closeLoss(LoanTerms calldata terms, bool writtenOff) external;

    /// @notice Pushes what the loan owes to each of `lenders`. Anyone may call it. A failed transfer is skipped.
    function payout(LoanId loanId, address[] calldata lenders) external returns (uint256 paid, uint256 skipped);

    /// @notice Pays the caller everything its positions in `loanIds` are owed, in one transfer to `to`.
    function claim(LoanId[] calldata loanIds, address to) external returns (uint256 amount);

    /// @notice Moves `shares` of the caller's position in a funded loan to allowlisted lender `to`. Payouts that accrued
    /// before stay with the caller; later ones follow the shares.
    function transferShare(LoanId loanId, address to, uint256 shares) external;

    /// @notice Pays the reserve the risk-reserve contributions accrued on each of `platforms`' loans. The reserve only.
    /// @return amounts What each of `platforms` had accrued.
    /// @return remainders The rounding remainders of closed loans, paid to the reserve with the contributions and
    /// attributed to no platform.
    function withdrawReserve(
        address[] calldata platforms
    ) external returns (uint256[] memory amounts, uint256 remainders);

    /// @notice Pays the caller's accrued fees to `to`: the platform fees of the loans it services and, for an insurer, its
    /// share of the premiums. Reserve contributions and rounding remainders go to the reserve alone ({withdrawReserve}).
    function withdrawFees(address to) external returns (uint256 amount);

    // ---------------------------------------------------------------- governance

    function setFeeCaps(FeeCaps calldata caps) external;

    /// @notice The account that receives risk-reserve contributions and rounding remainders.
    function setReserve(address reserve) external;

    /// @notice Names the loss waterfall, once. Governance only.
    function setWaterfall(address waterfall) external;

    /// @notice Names the credit insurance contract, once. Governance only.
    function setInsurance(address insurance) external;

    /// @notice Records that the loan's named insurer covers `coverageBps` of its loss for installments due until
    /// `coverEnd` (zero: no longer). The credit insurance contract only, when a policy is written or released.
    function setCover(LoanId loanId, uint40 coverEnd, uint16 coverageBps) external;

    /// @notice Names the collateral registry, once. Governance only.
    function setCollateral(address collateral) external;

    /// @notice Closes the book of a WrittenOff loan once its recovery efforts have ended: it takes no more recoveries,
    /// each lender's next payout settles its position for good, and the rounding remainder then goes to the reserve.
    /// Not while collateral of the loan is in custody (it is sold for the lenders first); a lien of a closed loan can
    /// only be waived. Governance only.
    function closeWrittenOff(LoanId loanId) external;

    /// @notice The least a commitment may be, unless it completes a loan's funding. Governance only.
    function setMinCommitment(uint256 minCommitment) external;

    // ---------------------------------------------------------------- views

    function bookOf(LoanId loanId) external view returns (LoanBook memory);

    function positionOf(LoanId loanId, address lender) external view returns (Position memory);

    /// @notice What the loan owes `lender` now.
    function owedTo(LoanId loanId, address lender) external view returns (uint256);

    /// @notice Up to `limit` of the accounts that ever held a share of the loan, in order of arrival, from `offset` on.
    function lendersOf(LoanId loanId, uint256 offset, uint256 limit) external view returns (address[] memory);

    /// @notice How many accounts ever held a share of the loan.
    function lenderCount(LoanId loanId) external view returns (uint256);

    function minCommitment() external view returns (uint256);

    /// @notice Rounding remainders of closed loans not yet collected by the reserve.
    function remaindersOwed() external view returns (uint256);

    /// @notice Fees accrued to `payee` and not yet withdrawn.
    function feesOwed(address payee) external view returns (uint256);

    /// @notice Risk-reserve contributions accrued on `platform`'s loans and not yet collected by the reserve.
    function reserveOwed(address platform) external view returns (uint256);

    /// @notice The next installment with its fees, as it stands now; `total` is the least a repayment must be.
    function amountDue(LoanTerms calldata terms) external view returns (Split memory due, uint256 total);

    function feeCaps() external view returns (FeeCaps memory);

    /// @notice The settlement token every amount is paid in.
    // solhint-disable-next-line func-name-mixedcase
    function TOKEN() external view returns (IERC20);

    function reserve() external view returns (address);

    function waterfall() external view returns (address);
}
