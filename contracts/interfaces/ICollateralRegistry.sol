// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {LoanId, LoanStatus, LoanTerms} from "./ILoanRegistry.sol";
import {IERC5192} from "./IERC5192.sol";

/// @notice The kind of real asset a collateral token stands for.
enum AssetClass {
    RealEstate,
    Vehicle,
    Equipment,
    Receivable
}

/// @notice Registered: held by its owner, may carry liens. Seized: in the registry's custody for disposal. Disposed:
/// sold; the token is burnt and the asset may be registered again for its new owner.
enum AssetStatus {
    None,
    Registered,
    Seized,
    Disposed
}

/// @notice Active: secures its loan. Released: its loan was repaid or cancelled. Enforcing: its platform seized the
/// asset. Discharged: the asset was sold and the lien paid from the proceeds as far as they went.
enum LienStatus {
    None,
    Active,
    Released,
    Enforcing,
    Discharged
}

/// @notice A registered asset.
/// @dev Two slots: the first is read and written by every pledge, so the per-asset consent nonce lives there too; the
/// second names the registrar of record. The appraisal document's hash lives in the registration and revaluation
/// events (and in the history of every loan the asset secures), not in storage.
struct Asset {
    uint96 appraisalValue;
    /// @dev Sum of the secured amounts of the active first-priority liens; never above `appraisalValue` when a lien is
    /// added.
    uint96 firstPrioritySecured;
    AssetClass assetClass;
    AssetStatus status;
    /// @dev Liens Active or Enforcing.
    uint8 lienCount;
    /// @dev The owner's consent nonce for this asset: a consent signature names it; a pledge, a revocation and every
    /// change of owner bump it, so that an earlier owner's unused signatures never come back to life.
    uint32 consentNonce;
    /// @dev The lowest rank (highest priority number) among the liens it carries: a new lien must rank behind it unless
    /// the liens it would join or jump consent. Zero once the asset is free of liens.
    uint8 lastRank;
    /// @dev The member that registered the asset: with custodians and governance, the only one that may revalue it.
    address registrar;
}

/// @notice The sale of a seized asset its servicer proposed: every lienholder sees it for the alliance's sale window
/// before it can complete, and a price below the appraisal's floor needs a custodian member's confirmation.
/// @dev Six slots.
struct SaleProposal {
    uint128 price;
    uint40 proposedAt;
    /// @dev The end of the window the proposal announced: a later change of the rules does not shorten it.
    uint40 completesAt;
    /// @dev Who takes the asset (and the liens that survive the sale); zero when the buyer is off the ledger and no
    /// lien survives, in which case the token is burnt.
    address buyer;
    address proposer;
    /// @dev The custodian member that confirmed exactly this proposal, or zero. A confirmation by the account that
    /// completes the sale counts for nothing.
    address confirmer;
    /// @dev A reference to the buyer, never personal data.
    bytes32 buyerRef;
    bytes32 saleDocHash;
}

/// @notice A lien of a loan on an asset. One slot.
struct Lien {
    uint96 securedAmount;
    /// @dev 1 is first priority; liens of one priority share pari passu.
    uint8 priority;
    LienStatus status;
    uint40 since;
}

/// @title Collateral registry: real assets as ERC-721 tokens, liens that follow their loans, seizure and disposal
/// @notice Each real asset exists once: its token id is the keyed hash of its class and canonical official id
/// (HMAC-SHA256 under the alliance key of "<class>:<id>" with case, spaces and separators normalised away, computed by
/// the client so that the official id never reaches the chain). An asset is pledged to a loan only with its owner's
/// consent and by the lienholder together: the loan's servicer (its platform or successor, an active platform member)
/// sends the pledge with the owner's EIP-712 signature over (asset, loan, secured amount, priority, the asset's consent
/// nonce, deadline): an ECDSA signature for a plain account, an ERC-1271 approval for a contract wallet. A new lien
/// ranks behind every lien the asset carries, unless each lien it would rank with or ahead of consents; a lien secures
/// at most its loan's principal, and first-priority liens together never exceed the appraisal value. A pledged or seized
/// asset cannot be transferred: it is locked in ERC-5192's sense ({IERC5192-locked}), and `Locked` is emitted when its
/// first lien is taken, `Unlocked` when its last lien ends with the asset in its owner's (or a buyer's) hands, or when a
/// sale without a buyer on the ledger burns it (so that a token registered again under that id is seen free).
///
/// `tokenURI` is empty: what an asset is (a house's address, a vehicle's VIN) stays with the platforms and the
/// appraisal document, never on chain; the token id and the appraisal document's hash in the registration and
/// revaluation events tie the token to those documents.
///
/// Every lien can end. It is released by anyone once its loan owes nothing: Repaid, Cancelled or Recovered, or a loan
/// serviced off the splitter whose recorded loss earlier sales paid in full (whatever status its servicer left it in);
/// once its loan is WrittenOff its servicer enforces or waives it (and governance can always hand a loan to a servicer
/// that will). When its loan has Defaulted (or was written off), the loan's servicer may seize the asset, unless its
/// loss was paid in full that way; a seized asset whose enforcing loan was made whole some other way goes back to its
/// owner by anyone's call.
///
/// The lien's state machine ({LienStatus}; the asset's is {AssetStatus}):
///
///     lien       action                   who                        condition                        to
///     (none)     pledge                   loan's servicer + owner    loan Funding/Active/Late,        Active
///                pledgeWithRankConsent                               rank behind, or consents given
///     Active     release                  anyone                     loan owes nothing                Released
///     Active     waive                    loan's servicer            loan WrittenOff                  Released
///     Active     seize                    loan's servicer            loan Defaulted/WrittenOff,       Enforcing
///                                                                    book open, loss not paid
///     Active     dispose (another lien)   seizing loan's servicer    loan Active/Late                 Active
///                                                                    (survives, buyer takes it)
///     Active     dispose (another lien)   seizing loan's servicer    loan owes nothing                Released
///     Active     dispose (another lien)   seizing loan's servicer    loan Defaulted/WrittenOff        Discharged
///     Active     dispose (another lien)   seizing loan's servicer    loan Funding                     refused
///     Enforcing  returnSeized             anyone                     loan owes nothing                Released
///     Enforcing  dispose                  seizing loan's servicer    window passed, floor or          Discharged
///                                                                    confirmation, no lien Funding
///     Released, Discharged: final (the same loan never pledges the same asset again)
///
///     asset       action          to                  asset       action        to
///     (none)      register        Registered          Seized      returnSeized  Registered (owner)
///     Disposed    register        Registered          Seized      dispose       Registered (buyer) | Disposed
///     Registered  seize           Seized              Registered  transfer      refused while it carries liens
///
/// A sale proposal's ({SaleProposal}): none → proposed (proposeSale, the seizing loan's servicer; a new one replaces
/// it and restarts the window) → confirmed (confirmSale, an active custodian other than the proposer) → none
/// (dispose completes it, withdrawSale by governance, returnSeized or a new seizure drops it).
///
/// A sale is proposed before it happens: the servicer of the seizing loan proposes a price, a buyer and the sale
/// document's hash; every lienholder sees the proposal (an event) for the alliance's sale window (governance sets it);
/// a price below the appraisal floor (the appraisal less what the surviving liens secure, less the alliance's haircut)
/// also needs the confirmation of a custodian member other than the proposer. Then the servicer completes the sale and
/// pays the price in. Only loans in loss take from a sale: the liens of Defaulted and WrittenOff loans, in priority order
/// (liens of one priority pro rata to their secured amounts), each up to its secured amount and what its loan still has
/// to recover; the rest goes to the owner. A lien whose loan owes nothing any more and never will (Repaid, Cancelled,
/// Recovered) is released and takes nothing. The lien of a loan still owed (Active, Late) takes nothing either: it
/// survives the sale, counts against the sale's floor, and the buyer takes the asset subject to it, so no money reaches
/// a loan whose borrower still owes it. No sale completes while a lien of the asset belongs to a loan still in Funding:
/// its lenders may yet disburse against it, and what it will secure is not known (counted in full it would zero the
/// floor, counted as nothing the buyer would pay for an asset it does not get free); the wait ends when that loan
/// funds, or at its funding deadline, when anyone may cancel it and release its lien. A custodian's confirmation counts
/// only while the custodian is an active custodian member, and never when it is the buyer's or the seller's. A lien's share goes through the loss waterfall to its loan's lenders (pari passu with insurer and reserve
/// once the loss is settled) when the loan was funded through the splitter, otherwise to its servicer; a payment that
/// fails is kept for its recipient to withdraw.
///
/// Only the registrar of record (unless expelled), a custodian member or governance may revalue an asset; a revaluation
/// names every loan the asset secures and extends each one's history.
///
/// Facts that concern a loan (a pledge, a release, a seizure, a sale, a revaluation, the return of a seized asset) extend
/// its history as External facts of this contract, each tagged by its {FactKind} and named for the event it summarises:
/// {ILoanRegistry} gives their encodings.
interface ICollateralRegistry is IERC5192 {
    // ---------------------------------------------------------------- events

    event CollateralRegistered(
        uint256 indexed assetId,
        address indexed owner,
        address indexed registrar,
        AssetClass assetClass,
        uint96 appraisalValue,
        bytes32 appraisalDocHash
    );
    event CollateralRevalued(
        uint256 indexed assetId,
        address indexed by,
        uint96 appraisalValue,
        bytes32 appraisalDocHash
    );
    event CollateralPledged(
        uint256 indexed assetId,
        LoanId indexed loanId,
        address owner,
        uint96 securedAmount,
        uint8 priority
    );
    event LienReleased(uint256 indexed assetId, LoanId indexed loanId, address indexed by);
    event CollateralSeized(uint256 indexed assetId, LoanId indexed loanId, address indexed platform, address owner);
    /// @notice The seized asset was sold for `proceeds` to `buyerRef` (a reference, never personal data); `buyer` took
    /// the token and `survivingLiens` liens of performing loans with it (zero buyer: the token was burnt).
    event CollateralDisposed(
        uint256 indexed assetId,
        LoanId indexed loanId,
        uint256 proceeds,
        bytes32 buyerRef,
        bytes32 saleDocHash,
        uint256 ownerSurplus,
        address buyer,
        uint8 survivingLiens
    );
    /// @notice The servicer of the seizing loan `loanId` proposes to sell the asset; it may complete from `completesAt`.
    event SaleProposed(
        uint256 indexed assetId,
        LoanId indexed loanId,
        address indexed proposer,
        uint256 price,
        address buyer,
        bytes32 buyerRef,
        bytes32 saleDocHash,
        uint256 appraisalValue,
        uint256 completesAt
    );
    /// @notice Custodian member `custodian` confirmed the proposal of hash `proposalHash`.
    event SaleConfirmed(uint256 indexed assetId, address indexed custodian, bytes32 proposalHash);
    /// @notice Governance withdrew the proposed sale.
    event SaleWithdrawn(uint256 indexed assetId, address indexed by);
    /// @notice Governance set the sale window (seconds) and the haircut below the appraisal (basis points) that a sale
    /// may go without a custodian's confirmation.
    event SaleRulesSet(uint32 window, uint16 haircutBps);
    /// @notice `amount` of a disposal went to lien `loanId`: to its lenders through the splitter, or to `recipient`.
    event DisposalAllocated(uint256 indexed assetId, LoanId indexed loanId, address recipient, uint256 amount);
    event ConsentsRevoked(uint256 indexed assetId, uint32 consentNonce);
    /// @notice The servicer of the lien of `lienLoanId` agreed that a lien of `newLoanId` may take rank `priority`,
    /// beside or ahead of it.
    event RankConsented(uint256 indexed assetId, LoanId indexed lienLoanId, LoanId indexed newLoanId, uint8 priority);
    /// @notice The seized asset went back to `owner`: the loss of the loan that seized it was made whole otherwise.
    event SeizedAssetReturned(uint256 indexed assetId, LoanId indexed loanId, address indexed owner);
    /// @notice A payment to `account` failed and is kept for it to withdraw.
    event PaymentKept(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, address indexed to, uint256 amount);

    // ---------------------------------------------------------------- errors

    error CollateralRegistryZeroAddress();
    /// @notice `caller` lacks the member role this needs.
    error CollateralRegistryUnauthorized(address caller);
    /// @notice An asset with this key is registered (and not yet disposed).
    error CollateralRegistryAlreadyRegistered(uint256 assetId);
    error CollateralRegistryUnknownAsset(uint256 assetId);
    /// @notice The appraisal value must be positive and fit 96 bits; the document hash must not be zero.
    error CollateralRegistryInvalidAppraisal(uint256 value, bytes32 docHash);
    /// @notice The asset is `status`, where this cannot be done.
    error CollateralRegistryWrongAssetStatus(uint256 assetId, AssetStatus status);
    /// @notice The asset carries liens (or is seized) and cannot be transferred.
    error CollateralRegistryPledgedAsset(uint256 assetId);
    /// @notice Only the loan's servicer, an active platform member, takes a lien for the loan; `caller` is not it.
    error CollateralRegistryNotLienholder(LoanId loanId, address caller);
    /// @notice The consent is not the owner's signature over this pledge and the asset's current nonce.
    error CollateralRegistryInvalidConsent(uint256 assetId, address owner);
    /// @notice The consent expired at `deadline`; it is `nowTime`.
    error CollateralRegistryConsentExpired(uint256 assetId, uint256 deadline, uint256 nowTime);
    /// @notice The secured amount must be positive and fit 96 bits; the priority between 1 and `maxPriority`.
    error CollateralRegistryInvalidLien(uint256 securedAmount, uint8 priority, uint8 maxPriority);
    /// @notice The loan already has a lien (`status`) on this asset.
    error CollateralRegistryLienExists(uint256 assetId, LoanId loanId, LienStatus status);
    /// @notice The asset carries the most liens it may, `max`.
    error CollateralRegistryTooManyLiens(uint256 assetId, uint256 max);
    /// @notice First-priority liens would secure `requested` in all, above the appraisal value `appraisalValue`.
    error CollateralRegistryFirstLiensExceedAppraisal(uint256 assetId, uint256 requested, uint256 appraisalValue);
    /// @notice The lien of `loanId` on the asset is `status`, where this cannot be done.
    error CollateralRegistryWrongLienStatus(uint256 assetId, LoanId loanId, LienStatus status);
    /// @notice A lien is released when its loan is Repaid, Cancelled or Recovered (by anyone), or waived by its servicer
    /// once it is WrittenOff; the loan is `status`.
    error CollateralRegistryLoanNotClosed(LoanId loanId, LoanStatus status);
    /// @notice A lien is enforced only when its loan has Defaulted or was written off; it is `status`.
    error CollateralRegistryLoanNotDefaulted(LoanId loanId, LoanStatus status);
    /// @notice Only the servicer of the seizing lien's loan may record the disposal; `caller` is not it.
    error CollateralRegistryNotSeizingPlatform(uint256 assetId, address caller, address platform);
    /// @notice The seized asset stays in custody while the loan that seized it is `status` (only Recovered returns it).
    error CollateralRegistryLossNotMadeWhole(uint256 assetId, LoanId loanId, LoanStatus status);
    /// @notice A disposal must list every lien of the asset, `expected`, in priority order; it listed `given`.
    error CollateralRegistryLiensIncomplete(uint256 assetId, uint256 given, uint256 expected);
    /// @notice A new lien at `priority` would rank with or ahead of the asset's liens, down to rank `lastRank`: it needs
    /// their consent ({pledgeWithRankConsent}).
    error CollateralRegistryRankTaken(uint256 assetId, uint8 priority, uint8 lastRank);
    /// @notice The lien of `lienLoanId` did not agree that `newLoanId`'s lien may take rank `priority`.
    error CollateralRegistryRankConsentMissing(uint256 assetId, LoanId lienLoanId, LoanId newLoanId, uint8 priority);
    /// @notice A lien secures at most its loan's principal: `securedAmount` is above `principal`.
    error CollateralRegistrySecuredAbovePrincipal(uint256 assetId, uint256 securedAmount, uint256 principal);
    /// @notice Nothing is kept for `account`.
    error CollateralRegistryNothingToWithdraw(address account);
    /// @notice A sale names its document and its buyer's reference, and a price that fits 128 bits.
    error CollateralRegistryInvalidSale(uint256 price, bytes32 buyerRef, bytes32 saleDocHash);
    /// @notice No sale of the asset is proposed.
    error CollateralRegistryNoSaleProposed(uint256 assetId);
    /// @notice The lienholders' window to see the proposed sale is still open.
    error CollateralRegistrySaleWindowOpen(uint256 assetId, uint256 completesAt, uint256 nowTime);
    /// @notice `price` is below the appraisal floor `floor`: a custodian member must confirm the sale first.
    error CollateralRegistrySaleNeedsConfirmation(uint256 assetId, uint256 price, uint256 floor);
    /// @notice The proposal changed since the confirmer read it (`expected`): it confirms nothing.
    error CollateralRegistryProposalChanged(uint256 assetId, bytes32 expected, bytes32 actual);
    /// @notice Liens of performing loans survive the sale, so the buyer must be an account that can hold the asset.
    error CollateralRegistryBuyerRequired(uint256 assetId, uint256 survivingLiens);
    /// @notice Governance's sale rules are out of range: a window of at most `maxWindow`, a haircut of at most 10 000.
    error CollateralRegistrySaleRulesOutOfRange(uint256 window, uint256 haircutBps, uint256 maxWindow);
    /// @notice A disposal names every lien of the asset once, the seizing loan's among them; `loanId` is named twice or
    /// the seizing loan `enforcing` is missing.
    error CollateralRegistryLienNamedTwice(uint256 assetId, LoanId loanId);
    /// @notice The servicer of `loanId`, whose lien takes from this sale, was expelled: a successor must take the loan
    /// over first.
    error CollateralRegistryServicerExpelled(LoanId loanId, address servicer);
    /// @notice Governance closed the splitter book of `loanId`: its lien can only be waived.
    error CollateralRegistryBookClosed(LoanId loanId);
    /// @notice The lien of `loanId` belongs to a loan still in Funding: no sale completes until it funds or is
    /// cancelled, which anyone may do after its funding deadline `fundingDeadline`.
    error CollateralRegistryLoanInFunding(uint256 assetId, LoanId loanId, uint256 fundingDeadline);
    /// @notice The loss of `loanId`, a loan serviced off the splitter, was paid in full by earlier sales: its liens
    /// enforce nothing more, and anyone may release them.
    error CollateralRegistryLossPaid(LoanId loanId);
    /// @notice The seizing loan's terms do not name the loan that seized the asset.
    error CollateralRegistryNotEnforcingLoan(uint256 assetId, LoanId given, LoanId enforcing);

    // ---------------------------------------------------------------- assets

    /// @notice Registers asset `assetId` (see above) for `owner`, minting its token. Active platform or custodian members.
    function registerCollateral(
        uint256 assetId,
        address owner,
        AssetClass assetClass,
        uint256 appraisalValue,
        bytes32 appraisalDocHash
    ) external;

    /// @notice Records a new appraisal of a registered asset: its registrar of record (unless expelled), a custodian
    /// member or governance. `liens` are the terms of every loan with an active lien on the asset (proven complete
    /// against its lien count); each one's history records the revaluation.
    function revalue(
        uint256 assetId,
        uint256 appraisalValue,
        bytes32 appraisalDocHash,
        LoanTerms[] calldata liens
    ) external;

    /// @notice Invalidates every consent signature given for the asset so far. The owner only.
    function revokeConsents(uint256 assetId) external;

    // ---------------------------------------------------------------- liens

    /// @notice Pledges the asset to the loan of `terms`, securing `securedAmount` at `priority`. Called by the loan's
    /// servicer, an active platform member, with the owner's EIP-712 consent: for a plain account its signature in the
    /// 64-byte ERC-2098 form (`r`, `vs`), for a contract wallet the same 64 bytes as its ERC-1271 signature. When the
    /// servicer owns the asset itself its own transaction is the consent.
    function pledge(
        uint256 assetId,
        LoanTerms calldata terms,
        uint256 securedAmount,
        uint8 priority,
        uint256 deadline,
        bytes32 r,
        bytes32 vs
    ) external;

    /// @notice Pledges as {pledge} does, at a rank beside or ahead of existing liens: `liens` are the terms of every
    /// active lien of the asset (proven complete), and each one that the new lien would rank with or ahead of must have
    /// agreed to exactly this rank ({consentToRank}).
    function pledgeWithRankConsent(
        uint256 assetId,
        LoanTerms calldata terms,
        uint256 securedAmount,
        uint8 priority,
        uint256 deadline,
        bytes32 r,
        bytes32 vs,
        LoanTerms[] calldata liens
    ) external;

    /// @notice Agrees, as the servicer of the loan of `lienLoan` (which has an active lien on the asset), that a lien of
    /// `newLoanId` may take rank `priority` beside or ahead of it. While that loan is in loss (Defaulted, WrittenOff)
    /// its lien is what its lenders recover from, so only governance may agree for it.
    function consentToRank(uint256 assetId, LoanTerms calldata lienLoan, LoanId newLoanId, uint8 priority) external;

    /// @notice Releases the lien of the loan of `loanId` once that loan owes nothing (Repaid, Cancelled, Recovered, or
    /// a loss serviced off the splitter that sales paid in full). Anyone may call it.
    function release(uint256 assetId, LoanId loanId) external;

    /// @notice Releases the lien of the WrittenOff loan of `terms` without enforcing it. That loan's servicer only: an
    /// owner cannot free its asset by waiting out a silent platform (governance hands such a loan to a successor, who
    /// enforces or waives its liens).
    function waive(uint256 assetId, LoanTerms calldata terms) external;

    /// @notice Takes the asset into custody for disposal, enforcing the lien of the Defaulted (or WrittenOff) loan of
    /// `terms`. That loan's servicer only (its platform or successor, never an expelled member).
    function seize(uint256 assetId, LoanTerms calldata terms) external;

    /// @notice Gives a seized asset back to its owner once the loan that seized it owes nothing: Recovered, or a loan
    /// serviced off the splitter whose loss other sales paid in full. The enforcing lien is released; the others stay.
    /// Anyone may call it.
    function returnSeized(uint256 assetId) external;

    /// @notice Proposes to sell the seized asset for `price` to `buyer` (zero: a buyer off the ledger; the token is then
    /// burnt), referenced as `buyerRef`, under the sale document of hash `saleDocHash`. `enforcing` are the terms of the
    /// loan that seized the asset; its servicer only. A new proposal replaces the previous one and restarts the window.
    function proposeSale(
        uint256 assetId,
        LoanTerms calldata enforcing,
        uint256 price,
        address buyer,
        bytes32 buyerRef,
        bytes32 saleDocHash
    ) external;

    /// @notice Confirms the proposed sale of hash `proposalHash` ({saleProposalHash}) as a custodian member other than
    /// its proposer: what a price below the appraisal floor needs.
    function confirmSale(uint256 assetId, bytes32 proposalHash) external;

    /// @notice Withdraws the proposed sale. Governance only.
    function withdrawSale(uint256 assetId) external;

    /// @notice Sets the sale window (seconds, at most `MAX_SALE_WINDOW`) and the haircut below the appraisal floor
    /// (basis points) that a sale may go without a custodian's confirmation. Governance only.
    function setSaleRules(uint32 window, uint16 haircutBps) external;

    /// @notice Completes the proposed sale once its window has passed, pulling the price (approved beforehand) and
    /// paying it through the waterfall. `liens` are the terms of every loan with a lien on the asset, in priority order.
    /// The servicer of the seizing loan only (its platform or successor: the successor holds the custody of an expelled
    /// platform's seizures).
    function dispose(uint256 assetId, LoanTerms[] calldata liens) external;

    /// @notice Pays the caller what was kept for it after a failed payment.
    function withdraw(address to) external returns (uint256 amount);

    // ---------------------------------------------------------------- views

    function assetOf(uint256 assetId) external view returns (Asset memory);

    function lienOf(uint256 assetId, LoanId loanId) external view returns (Lien memory);

    /// @notice The EIP-712 digest the owner signs to consent to a pledge.
    function consentDigest(
        uint256 assetId,
        LoanId loanId,
        uint256 securedAmount,
        uint8 priority,
        uint32 consentNonce,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice The sale proposed for the asset (zero fields when none).
    function saleOf(uint256 assetId) external view returns (SaleProposal memory);

    /// @notice The hash a custodian confirms: keccak256(abi.encode(assetId, price, buyer, buyerRef, saleDocHash,
    /// proposedAt)) of the current proposal.
    function saleProposalHash(uint256 assetId) external view returns (bytes32);

    /// @notice The sale window in seconds and the haircut in basis points.
    function saleRules() external view returns (uint32 window, uint16 haircutBps);

    /// @notice How many assets are seized for the loan and not yet sold or returned.
    function seizuresOf(LoanId loanId) external view returns (uint256);

    /// @notice What failed payments kept for `account`.
    function keptFor(address account) external view returns (uint256);
}
