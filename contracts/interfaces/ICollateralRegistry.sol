// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {LoanId, LoanStatus, LoanTerms} from "./ILoanRegistry.sol";

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

/// @notice The facts about an asset that extend a loan's history (as External facts of the collateral registry).
enum CollateralFact {
    Pledged,
    Released,
    Seized,
    Disposed,
    Revalued,
    Returned
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
/// asset cannot be transferred.
///
/// Every lien can end. It is released by anyone once its loan is Repaid, Cancelled or Recovered; once its loan is
/// WrittenOff its servicer enforces or waives it (and governance can always hand a loan to a servicer that will). When
/// its loan has Defaulted (or was written off), the loan's servicer may seize the asset; a seized asset whose enforcing
/// loan was made whole some other way (Recovered) goes back to its owner by anyone's call. A disposal pays nothing to a
/// lien whose loan owes nothing any more (Repaid, Cancelled, Recovered): it is released.
/// After the sale the servicer records the disposal and pays the proceeds in: they go to the liens in priority order
/// (liens of one priority pro rata to their secured amounts), each up to its secured amount and what its loan's loss has
/// left to recover, and the surplus to the owner. A lien's share goes through the loss waterfall to its loan's lenders
/// (pari passu with insurer and reserve once the loss is settled) when the loan was funded through the splitter,
/// otherwise to its servicer; a payment that fails is kept for its recipient to withdraw.
///
/// Only the registrar of record (unless expelled), a custodian member or governance may revalue an asset; a revaluation
/// names every loan the asset secures and extends each one's history.
///
/// Facts that concern a loan extend its history as External facts of this contract, with factHash =
///
///     Pledged:  keccak256(abi.encode(CollateralFact.Pledged, assetId, securedAmount, priority))
///     Released: keccak256(abi.encode(CollateralFact.Released, assetId))
///     Seized:   keccak256(abi.encode(CollateralFact.Seized, assetId))
///     Disposed: keccak256(abi.encode(CollateralFact.Disposed, assetId, proceeds, allocated, buyerRef, saleDocHash))
///     Revalued: keccak256(abi.encode(CollateralFact.Revalued, assetId, appraisalValue, appraisalDocHash))
///     Returned: keccak256(abi.encode(CollateralFact.Returned, assetId))
///
/// where `allocated` is the part of the proceeds that went to that loan.
interface ICollateralRegistry {
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
    /// @notice The seized asset was sold for `proceeds` to `buyerRef` (a reference, never personal data).
    event CollateralDisposed(
        uint256 indexed assetId,
        LoanId indexed loanId,
        uint256 proceeds,
        bytes32 buyerRef,
        bytes32 saleDocHash,
        uint256 ownerSurplus
    );
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
    /// `newLoanId` may take rank `priority` beside or ahead of it.
    function consentToRank(uint256 assetId, LoanTerms calldata lienLoan, LoanId newLoanId, uint8 priority) external;

    /// @notice Releases the lien of the loan of `loanId` once that loan is Repaid, Cancelled or Recovered. Anyone may
    /// call it.
    function release(uint256 assetId, LoanId loanId) external;

    /// @notice Releases the lien of the WrittenOff loan of `terms` without enforcing it. That loan's servicer only: an
    /// owner cannot free its asset by waiting out a silent platform (governance hands such a loan to a successor, who
    /// enforces or waives its liens).
    function waive(uint256 assetId, LoanTerms calldata terms) external;

    /// @notice Takes the asset into custody for disposal, enforcing the lien of the Defaulted (or WrittenOff) loan of
    /// `terms`. That loan's servicer only (its platform or successor, never an expelled member).
    function seize(uint256 assetId, LoanTerms calldata terms) external;

    /// @notice Gives a seized asset back to its owner once the loan that seized it is Recovered: its loss was made
    /// whole some other way. The enforcing lien is released; the others stay. Anyone may call it.
    function returnSeized(uint256 assetId) external;

    /// @notice Records the sale of a seized asset and pays the `proceeds` (approved beforehand) through the waterfall.
    /// `liens` are the terms of every loan with a lien on the asset, in priority order. The servicer of the seizing
    /// loan only (its platform or successor: the successor holds the custody of an expelled platform's seizures).
    function dispose(
        uint256 assetId,
        LoanTerms[] calldata liens,
        uint256 proceeds,
        bytes32 buyerRef,
        bytes32 saleDocHash
    ) external;

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

    /// @notice What failed payments kept for `account`.
    function keptFor(address account) external view returns (uint256);
}
