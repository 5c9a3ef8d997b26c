// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {TokenSweep} from "./base/TokenSweep.sol";
import {IERC5192} from "./interfaces/IERC5192.sol";
import {
    IAllianceRegistry,
    Member,
    MemberStatus,
    ROLE_PLATFORM,
    ROLE_CUSTODIAN
} from "./interfaces/IAllianceRegistry.sol";
import {ILoanRegistry, LoanId, LoanStatus, LoanTerms, Loss, computeLoanId} from "./interfaces/ILoanRegistry.sol";
import {IRepaymentSplitter, FundingPhase} from "./interfaces/IRepaymentSplitter.sol";
import {ILossWaterfall} from "./interfaces/ILossWaterfall.sol";
import {CollateralSales} from "./libraries/CollateralSales.sol";
import {CollateralLiens} from "./libraries/CollateralLiens.sol";
import {HistoryFacts} from "./libraries/HistoryFacts.sol";
import {
    ICollateralRegistry,
    AssetClass,
    AssetStatus,
    LienStatus,
    Asset,
    Lien,
    SaleProposal
} from "./interfaces/ICollateralRegistry.sol";

/// @title CollateralRegistry
/// @notice See {ICollateralRegistry}.
/// @dev A registered asset is two fresh slots besides its ERC-721 mint; a lien is one slot, found by (asset, loan), so
/// that a disposal takes the liens' terms as calldata and proves them complete against the asset's lien count.
contract CollateralRegistry is ICollateralRegistry, ERC721, EIP712, TokenSweep {
    using SafeERC20 for IERC20;

    /// @dev Bounds the disposal loop.
    uint8 public constant MAX_LIENS = 8;
    uint8 public constant MAX_PRIORITY = 8;
    uint32 public constant MAX_SALE_WINDOW = CollateralSales.MAX_WINDOW;

    bytes32 public constant PLEDGE_TYPEHASH = keccak256(
        "Pledge(uint256 assetId,uint256 loanId,uint256 securedAmount,uint8 priority,uint32 nonce,uint256 deadline)"
    );

    IAllianceRegistry public immutable ALLIANCE;
    ILoanRegistry public immutable LOANS;
    IRepaymentSplitter public immutable SPLITTER;
    ILossWaterfall public immutable WATERFALL;
    IERC20 public immutable TOKEN;

    mapping(uint256 assetId => Asset) private _assets;
    mapping(uint256 assetId => mapping(LoanId loanId => Lien)) private _liens;
    /// @dev For a seized asset: the owner it was taken from, and the loan whose lien seized it.
    mapping(uint256 assetId => address) private _seizedFrom;
    mapping(uint256 assetId => LoanId) private _enforcer;
    mapping(address account => uint256) private _kept;
    /// @dev The sum of `_kept`: all this registry owes between calls.
    uint256 private _keptTotal;
    /// @dev The rank each existing lien agreed a new loan's lien may take beside or ahead of it.
    mapping(uint256 assetId => mapping(LoanId newLoan => mapping(LoanId lienLoan => CollateralLiens.RankConsent)))
        private _rankConsents;
    mapping(uint256 assetId => SaleProposal) private _sales;
    /// @dev What sales paid to the servicer of a loan serviced off the splitter, so that its liens together never take
    /// more than the loss it recorded at default.
    mapping(LoanId loanId => uint256) private _collectedOffSplitter;
    /// @dev Assets in custody per seizing loan: the splitter closes no book while its loan's collateral is being sold.
    mapping(LoanId loanId => uint256) private _seizures;
    CollateralSales.Rules private _saleRules = CollateralSales.Rules({window: 3 days, haircutBps: 2_000});

    constructor(
        IAllianceRegistry alliance,
        ILoanRegistry loans,
        IRepaymentSplitter splitter,
        ILossWaterfall waterfall
    ) ERC721("LoanLedger Collateral", "LLCOL") EIP712("LoanLedger Collateral", "1") {
        if (
            address(alliance) == address(0) ||
            address(loans) == address(0) ||
            address(splitter) == address(0) ||
            address(waterfall) == address(0)
        ) revert CollateralRegistryZeroAddress();
        ALLIANCE = alliance;
        LOANS = loans;
        SPLITTER = splitter;
        WATERFALL = waterfall;
        TOKEN = splitter.TOKEN();
    }

    // ---------------------------------------------------------------- assets

    /// @inheritdoc ICollateralRegistry
    function registerCollateral(
        uint256 assetId,
        address owner,
        AssetClass assetClass,
        uint256 appraisalValue,
        bytes32 appraisalDocHash
    ) external {
        _requireAppraiser();
        if (owner == address(0)) revert CollateralRegistryZeroAddress();
        Asset storage asset = _assets[assetId];
        if (asset.status == AssetStatus.Registered || asset.status == AssetStatus.Seized) {
            revert CollateralRegistryAlreadyRegistered(assetId);
        }
        _requireAppraisal(appraisalValue, appraisalDocHash);
        // A disposed asset starts afresh for its new owner; its consent nonce carries on, so old signatures stay void.
        // _requireAppraisal bounded the value to 96 bits.
        asset.appraisalValue = uint96(appraisalValue);
        asset.firstPrioritySecured = 0;
        asset.assetClass = assetClass;
        asset.status = AssetStatus.Registered;
        asset.registrar = msg.sender;
        emit CollateralRegistered(assetId, owner, msg.sender, assetClass, uint96(appraisalValue), appraisalDocHash);
        _mint(owner, assetId);
    }

    /// @inheritdoc ICollateralRegistry
    function revalue(
        uint256 assetId,
        uint256 appraisalValue,
        bytes32 appraisalDocHash,
        LoanTerms[] calldata liens
    ) external {
        CollateralLiens.revalue(
            _registered(assetId),
            _liens,
            address(ALLIANCE),
            address(LOANS),
            assetId,
            appraisalValue,
            appraisalDocHash,
            liens
        );
    }

    /// @inheritdoc ICollateralRegistry
    function revokeConsents(uint256 assetId) external {
        Asset storage asset = _registered(assetId);
        if (msg.sender != _ownerOf(assetId)) revert CollateralRegistryUnauthorized(msg.sender);
        uint32 nonce = asset.consentNonce + 1;
        asset.consentNonce = nonce;
        emit ConsentsRevoked(assetId, nonce);
    }

    // ---------------------------------------------------------------- liens

    /// @inheritdoc ICollateralRegistry
    function pledge(
        uint256 assetId,
        LoanTerms calldata terms,
        uint256 securedAmount,
        uint8 priority,
        uint256 deadline,
        bytes32 r,
        bytes32 vs
    ) external {
        _pledge(_registered(assetId), assetId, terms, securedAmount, priority, deadline, r, vs, true);
    }

    /// @inheritdoc ICollateralRegistry
    function pledgeWithRankConsent(
        uint256 assetId,
        LoanTerms calldata terms,
        uint256 securedAmount,
        uint8 priority,
        uint256 deadline,
        bytes32 r,
        bytes32 vs,
        LoanTerms[] calldata liens
    ) external {
        Asset storage asset = _registered(assetId);
        LoanId loanId = computeLoanId(terms);
        CollateralLiens.requireRankConsents(
            _rankConsents,
            _liens,
            address(LOANS),
            assetId,
            asset.lienCount,
            loanId,
            priority,
            liens
        );
        _pledge(asset, assetId, terms, securedAmount, priority, deadline, r, vs, false);
    }

    /// @inheritdoc ICollateralRegistry
    function consentToRank(uint256 assetId, LoanTerms calldata lienLoan, LoanId newLoanId, uint8 priority) external {
        CollateralLiens.consentToRank(
            _rankConsents,
            _liens,
            address(ALLIANCE),
            address(LOANS),
            assetId,
            lienLoan,
            newLoanId,
            priority
        );
    }

    /// @dev The pledge itself: the owner's consent, the lien's bounds and rank, and the registry's check of the
    /// lienholder. `behindOnly`: the new lien must rank behind every lien the asset carries (no consents were shown).
    function _pledge(
        Asset storage asset,
        uint256 assetId,
        LoanTerms calldata terms,
        uint256 securedAmount,
        uint8 priority,
        uint256 deadline,
        bytes32 r,
        bytes32 vs,
        bool behindOnly
    ) private {
        LoanId loanId = computeLoanId(terms);
        address owner = _ownerOf(assetId);
        uint32 nonce = asset.consentNonce;
        // Two parties make a lien: the owner consents here, and the loan registry checks below that the caller is the
        // loan's lienholder (its servicer, an active platform). A servicer that owns the asset consents by sending.
        if (msg.sender != owner) {
            if (block.timestamp > deadline) revert CollateralRegistryConsentExpired(assetId, deadline, block.timestamp);
            bytes32 digest = _consentDigest(assetId, loanId, securedAmount, priority, nonce, deadline);
            // A plain account's signature is tried first, so that it never pays for looking up the owner's code; a
            // contract wallet (a company's multisig, a custodian's wallet) approves by ERC-1271.
            (address signer, , ) = ECDSA.tryRecover(digest, r, vs);
            if (signer != owner && !SignatureChecker.isValidERC1271SignatureNow(owner, digest, abi.encodePacked(r, vs)))
                revert CollateralRegistryInvalidConsent(assetId, owner);
        }
        if (securedAmount == 0 || securedAmount > type(uint96).max || priority == 0 || priority > MAX_PRIORITY) {
            revert CollateralRegistryInvalidLien(securedAmount, priority, MAX_PRIORITY);
        }
        // A lien secures at most what its loan lends.
        if (securedAmount > terms.principal) {
            revert CollateralRegistrySecuredAbovePrincipal(assetId, securedAmount, terms.principal);
        }
        // The owner and a new lender cannot dilute or jump ahead of an existing lienholder without its consent.
        if (behindOnly && asset.lienCount != 0 && priority <= asset.lastRank) {
            revert CollateralRegistryRankTaken(assetId, priority, asset.lastRank);
        }
        Lien storage lien = _liens[assetId][loanId];
        if (lien.status != LienStatus.None) revert CollateralRegistryLienExists(assetId, loanId, lien.status);
        uint8 lienCount = asset.lienCount;
        if (lienCount == MAX_LIENS) revert CollateralRegistryTooManyLiens(assetId, MAX_LIENS);
        uint96 firstSecured = asset.firstPrioritySecured;
        if (priority == 1) {
            uint256 firstLiens = firstSecured + securedAmount;
            if (firstLiens > asset.appraisalValue) {
                revert CollateralRegistryFirstLiensExceedAppraisal(assetId, firstLiens, asset.appraisalValue);
            }
            // Fits: firstLiens is at most the appraisal value, a uint96.
            firstSecured = uint96(firstLiens);
        }
        uint8 lastRank = asset.lastRank;
        // One write of the asset's first slot: its fields change together.
        _writeLienBook(asset, firstSecured, lienCount + 1, nonce + 1, priority > lastRank ? priority : lastRank);
        // The lien check above bounded securedAmount to 96 bits; timestamps fit 40 bits until the year 36 812.
        _liens[assetId][loanId] = Lien({
            securedAmount: uint96(securedAmount),
            priority: priority,
            status: LienStatus.Active,
            since: uint40(block.timestamp)
        });
        emit CollateralPledged(assetId, loanId, owner, uint96(securedAmount), priority);
        if (lienCount == 0) emit Locked(assetId);
        // The registry checks that the loan is open and the caller its lienholder while recording the pledge in its
        // history (one call instead of three); either failing undoes the whole pledge.
        LOANS.recordLien(
            loanId,
            terms.platform,
            msg.sender,
            HistoryFacts.collateralPledged(assetId, securedAmount, priority)
        );
    }

    /// @inheritdoc ICollateralRegistry
    function release(uint256 assetId, LoanId loanId) external {
        Asset storage asset = _assets[assetId];
        if (asset.status != AssetStatus.Registered) revert CollateralRegistryWrongAssetStatus(assetId, asset.status);
        Lien storage lien = _liens[assetId][loanId];
        if (lien.status != LienStatus.Active) revert CollateralRegistryWrongLienStatus(assetId, loanId, lien.status);
        LoanStatus status = LOANS.loanState(loanId).status;
        if (!_owesNothing(loanId, status)) revert CollateralRegistryLoanNotClosed(loanId, status);
        _release(asset, lien, assetId, loanId);
    }

    /// @inheritdoc ICollateralRegistry
    function waive(uint256 assetId, LoanTerms calldata terms) external {
        Asset storage asset = _assets[assetId];
        if (asset.status != AssetStatus.Registered) revert CollateralRegistryWrongAssetStatus(assetId, asset.status);
        LoanId loanId = computeLoanId(terms);
        Lien storage lien = _liens[assetId][loanId];
        if (lien.status != LienStatus.Active) revert CollateralRegistryWrongLienStatus(assetId, loanId, lien.status);
        if (!LOANS.mayService(terms, msg.sender)) revert CollateralRegistryUnauthorized(msg.sender);
        LoanStatus status = LOANS.loanState(loanId).status;
        if (status != LoanStatus.WrittenOff) revert CollateralRegistryLoanNotClosed(loanId, status);
        _release(asset, lien, assetId, loanId);
    }

    function _release(Asset storage asset, Lien storage lien, uint256 assetId, LoanId loanId) private {
        _releaseLien(asset, lien, assetId);
        emit LienReleased(assetId, loanId, msg.sender);
        LOANS.extendHistory(loanId, HistoryFacts.lienReleased(assetId));
    }

    /// @inheritdoc ICollateralRegistry
    function seize(uint256 assetId, LoanTerms calldata terms) external {
        Asset storage asset = _assets[assetId];
        if (asset.status != AssetStatus.Registered) revert CollateralRegistryWrongAssetStatus(assetId, asset.status);
        LoanId loanId = computeLoanId(terms);
        Lien storage lien = _liens[assetId][loanId];
        if (lien.status != LienStatus.Active) revert CollateralRegistryWrongLienStatus(assetId, loanId, lien.status);
        if (!LOANS.mayService(terms, msg.sender)) revert CollateralRegistryUnauthorized(msg.sender);
        LoanStatus status = LOANS.loanState(loanId).status;
        if (status != LoanStatus.Defaulted && status != LoanStatus.WrittenOff) {
            revert CollateralRegistryLoanNotDefaulted(loanId, status);
        }

        // Governance closed this loan's book: its recovery efforts ended, and its lien can only be waived.
        if (SPLITTER.bookOf(loanId).phase == FundingPhase.Closed) revert CollateralRegistryBookClosed(loanId);
        // A loss other sales paid in full takes no more of the owner's assets.
        if (_offSplitterLossPaid(loanId)) revert CollateralRegistryLossPaid(loanId);

        address owner = _ownerOf(assetId);
        asset.status = AssetStatus.Seized;
        lien.status = LienStatus.Enforcing;
        _seizedFrom[assetId] = owner;
        _enforcer[assetId] = loanId;
        _seizures[loanId] += 1;
        // A sale proposed during an earlier custody is not this seizure's.
        delete _sales[assetId];
        // Custody: the token moves to this registry without the owner's approval, which is the point of a lien.
        _update(address(this), assetId, address(0));
        emit CollateralSeized(assetId, loanId, msg.sender, owner);
        LOANS.extendHistory(loanId, HistoryFacts.collateralSeized(assetId));
    }

    /// @inheritdoc ICollateralRegistry
    function returnSeized(uint256 assetId) external {
        Asset storage asset = _assets[assetId];
        if (asset.status != AssetStatus.Seized) revert CollateralRegistryWrongAssetStatus(assetId, asset.status);
        LoanId loanId = _enforcer[assetId];
        LoanStatus status = LOANS.loanState(loanId).status;
        // The seizing loan is in loss or made whole: owing nothing, it is made whole.
        if (!_owesNothing(loanId, status)) revert CollateralRegistryLossNotMadeWhole(assetId, loanId, status);

        address owner = _seizedFrom[assetId];
        asset.status = AssetStatus.Registered;
        delete _seizedFrom[assetId];
        delete _sales[assetId];
        _seizures[loanId] -= 1;
        _releaseLien(asset, _liens[assetId][loanId], assetId);
        _update(owner, assetId, address(0));
        emit SeizedAssetReturned(assetId, loanId, owner);
        emit LienReleased(assetId, loanId, msg.sender);
        LOANS.extendHistory(loanId, HistoryFacts.seizedAssetReturned(assetId));
    }

    /// @inheritdoc ICollateralRegistry
    function proposeSale(
        uint256 assetId,
        LoanTerms calldata enforcing,
        uint256 price,
        address buyer,
        bytes32 buyerRef,
        bytes32 saleDocHash
    ) external {
        Asset storage asset = _assets[assetId];
        if (asset.status != AssetStatus.Seized) revert CollateralRegistryWrongAssetStatus(assetId, asset.status);
        CollateralSales.propose(
            _sales,
            address(LOANS),
            CollateralSales.Proposal({
                assetId: assetId,
                enforcer: _enforcer[assetId],
                price: price,
                buyer: buyer,
                buyerRef: buyerRef,
                saleDocHash: saleDocHash,
                appraisalValue: asset.appraisalValue,
                window: _saleRules.window
            }),
            enforcing
        );
    }

    /// @inheritdoc ICollateralRegistry
    function confirmSale(uint256 assetId, bytes32 proposalHash) external {
        CollateralSales.confirm(_sales, address(ALLIANCE), assetId, proposalHash, msg.sender);
    }

    /// @inheritdoc ICollateralRegistry
    function withdrawSale(uint256 assetId) external {
        CollateralSales.withdraw(_sales, address(ALLIANCE), assetId);
    }

    /// @inheritdoc ICollateralRegistry
    function setSaleRules(uint32 window, uint16 haircutBps) external {
        CollateralSales.setRules(_saleRules, address(ALLIANCE), window, haircutBps);
    }

    /// @inheritdoc ICollateralRegistry
    function dispose(uint256 assetId, LoanTerms[] calldata liens) external nonReentrant {
        Asset storage asset = _assets[assetId];
        if (asset.status != AssetStatus.Seized) revert CollateralRegistryWrongAssetStatus(assetId, asset.status);
        if (liens.length != asset.lienCount)
            revert CollateralRegistryLiensIncomplete(assetId, liens.length, asset.lienCount);
        LoanId enforcing = _enforcer[assetId];
        CollateralSales.Context memory ctx = CollateralSales.Context({
            alliance: ALLIANCE,
            loans: LOANS,
            splitter: SPLITTER,
            waterfall: WATERFALL,
            assetId: assetId,
            enforcing: enforcing,
            appraisalValue: asset.appraisalValue,
            haircutBps: _saleRules.haircutBps,
            seller: msg.sender
        });
        CollateralSales.Plan memory p = CollateralSales.plan(_sales, _liens, _collectedOffSplitter, ctx, liens);

        address owner = _seizedFrom[assetId];
        delete _seizedFrom[assetId];
        _seizures[enforcing] -= 1;
        _handOver(asset, assetId, p);
        SaleProposal memory sale = p.sale;
        emit CollateralDisposed(
            assetId,
            enforcing,
            sale.price,
            sale.buyerRef,
            sale.saleDocHash,
            p.surplus,
            sale.buyer,
            p.survivors
        );
        _keptTotal += CollateralSales.payOut(_collectedOffSplitter, _kept, ctx, address(TOKEN), owner, liens, p);
    }

    /// @dev The sold asset goes to its buyer subject to the liens of the performing loans, which keep their ranks; with
    /// no buyer on the ledger (and so no surviving lien) its token is burnt.
    function _handOver(Asset storage asset, uint256 assetId, CollateralSales.Plan memory p) private {
        asset.lienCount = p.survivors;
        asset.lastRank = p.survivorsLastRank;
        // Fits: the surviving first liens are some of the first liens, whose sum fits 96 bits.
        asset.firstPrioritySecured = uint96(p.survivorsFirstSecured);
        // Free of liens, the asset is unlocked, burnt too: registered again later, its token starts unlocked, and the
        // event stream a wallet follows says so.
        if (p.survivors == 0) emit Unlocked(assetId);
        if (p.sale.buyer == address(0)) {
            asset.status = AssetStatus.Disposed;
            _burn(assetId);
        } else {
            asset.status = AssetStatus.Registered;
            _update(p.sale.buyer, assetId, address(0));
        }
    }

    /// @inheritdoc ICollateralRegistry
    function withdraw(address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert CollateralRegistryZeroAddress();
        amount = _kept[msg.sender];
        if (amount == 0) revert CollateralRegistryNothingToWithdraw(msg.sender);
        _kept[msg.sender] = 0;
        _keptTotal -= amount;
        emit Withdrawn(msg.sender, to, amount);
        TOKEN.safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICollateralRegistry
    function assetOf(uint256 assetId) external view returns (Asset memory) {
        return _assets[assetId];
    }

    /// @inheritdoc ICollateralRegistry
    function lienOf(uint256 assetId, LoanId loanId) external view returns (Lien memory) {
        return _liens[assetId][loanId];
    }

    /// @inheritdoc ICollateralRegistry
    function consentDigest(
        uint256 assetId,
        LoanId loanId,
        uint256 securedAmount,
        uint8 priority,
        uint32 consentNonce,
        uint256 deadline
    ) external view returns (bytes32) {
        return _consentDigest(assetId, loanId, securedAmount, priority, consentNonce, deadline);
    }

    /// @inheritdoc ICollateralRegistry
    function saleOf(uint256 assetId) external view returns (SaleProposal memory) {
        return _sales[assetId];
    }

    /// @inheritdoc ICollateralRegistry
    function saleProposalHash(uint256 assetId) external view returns (bytes32) {
        return CollateralSales.proposalHash(CollateralSales.proposed(_sales, assetId), assetId);
    }

    /// @inheritdoc IERC5192
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        Asset storage asset = _assets[tokenId];
        return asset.lienCount != 0 || asset.status == AssetStatus.Seized;
    }

    /// @notice ERC-721 with metadata, and ERC-5192.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IERC5192).interfaceId || super.supportsInterface(interfaceId);
    }

    /// @inheritdoc ICollateralRegistry
    function saleRules() external view returns (uint32 window, uint16 haircutBps) {
        return (_saleRules.window, _saleRules.haircutBps);
    }

    /// @inheritdoc ICollateralRegistry
    function seizuresOf(LoanId loanId) external view returns (uint256) {
        return _seizures[loanId];
    }

    /// @inheritdoc ICollateralRegistry
    function keptFor(address account) external view returns (uint256) {
        return _kept[account];
    }

    // ---------------------------------------------------------------- internals

    /// @dev A pledged or seized asset stays put: only this registry's own moves (mint, seizure, return, burn) pass. A
    /// change of owner voids every consent the previous owner signed.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        Asset storage asset = _assets[tokenId];
        if (auth != address(0)) {
            if (asset.lienCount != 0 || asset.status == AssetStatus.Seized)
                revert CollateralRegistryPledgedAsset(tokenId);
        }
        from = super._update(to, tokenId, auth);
        if (from != address(0) && to != address(0)) asset.consentNonce += 1;
    }

    /// @dev Writes the fields of the asset's first slot a pledge changes (the liens' book and the consent nonce) in one
    /// store instead of four; the appraisal value, class and status keep their bits.
    function _writeLienBook(
        Asset storage asset,
        uint96 firstPrioritySecured,
        uint8 lienCount,
        uint32 consentNonce,
        uint8 lastRank
    ) private {
        // Layout of the first slot, low bits first: appraisalValue 96 | firstPrioritySecured 96 | assetClass 8 |
        // status 8 | lienCount 8 | consentNonce 32 | lastRank 8.
        assembly ("memory-safe") {
            let slot := asset.slot
            let kept := and(sload(slot), or(0xffffffffffffffffffffffff, shl(192, 0xffff)))
            sstore(
                slot,
                or(
                    kept,
                    or(
                        or(
                            shl(96, and(firstPrioritySecured, 0xffffffffffffffffffffffff)),
                            shl(208, and(lienCount, 0xff))
                        ),
                        or(shl(216, and(consentNonce, 0xffffffff)), shl(248, and(lastRank, 0xff)))
                    )
                )
            )
        }
    }

    function _requireAppraiser() private view {
        Member memory member = ALLIANCE.memberOf(msg.sender);
        if (member.status != MemberStatus.Active || member.roles & (ROLE_PLATFORM | ROLE_CUSTODIAN) == 0) {
            revert CollateralRegistryUnauthorized(msg.sender);
        }
    }

    function _requireAppraisal(uint256 value, bytes32 docHash) private pure {
        if (value == 0 || value > type(uint96).max || docHash == bytes32(0)) {
            revert CollateralRegistryInvalidAppraisal(value, docHash);
        }
    }

    function _registered(uint256 assetId) private view returns (Asset storage asset) {
        asset = _assets[assetId];
        if (asset.status == AssetStatus.None) revert CollateralRegistryUnknownAsset(assetId);
        if (asset.status != AssetStatus.Registered) revert CollateralRegistryWrongAssetStatus(assetId, asset.status);
    }

    function _consentDigest(
        uint256 assetId,
        LoanId loanId,
        uint256 securedAmount,
        uint8 priority,
        uint32 nonce,
        uint256 deadline
    ) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(abi.encode(PLEDGE_TYPEHASH, assetId, loanId, securedAmount, priority, nonce, deadline))
            );
    }

    /// @dev Whether the loan of `loanId` (now `status`) owes nothing and never will: repaid, cancelled, recovered, or a
    /// loss serviced off the splitter that sales paid in full, whatever status its servicer left it in.
    function _owesNothing(LoanId loanId, LoanStatus status) private view returns (bool) {
        if (status == LoanStatus.Repaid || status == LoanStatus.Cancelled || status == LoanStatus.Recovered)
            return true;
        return (status == LoanStatus.Defaulted || status == LoanStatus.WrittenOff) && _offSplitterLossPaid(loanId);
    }

    /// @dev Whether sales paid the servicer of a loan funded off the splitter its whole recorded loss (a splitter
    /// loan's loss made whole is marked Recovered by the loss waterfall instead). Only such a loan collects here.
    function _offSplitterLossPaid(LoanId loanId) private view returns (bool) {
        uint256 collected = _collectedOffSplitter[loanId];
        if (collected == 0) return false;
        Loss memory loss = LOANS.lossOf(loanId);
        return collected >= uint256(loss.principal) + loss.interest;
    }

    /// @dev Called with the asset back in its owner's hands (Registered): its last lien ending unlocks it.
    function _releaseLien(Asset storage asset, Lien storage lien, uint256 assetId) private {
        lien.status = LienStatus.Released;
        asset.lienCount -= 1;
        if (lien.priority == 1) asset.firstPrioritySecured -= lien.securedAmount;
        if (asset.lienCount == 0) {
            // An asset free of liens starts its ranks afresh.
            asset.lastRank = 0;
            emit Unlocked(assetId);
        }
    }

    // ---------------------------------------------------------------- mistaken tokens

    function _sweepAlliance() internal view override returns (IAllianceRegistry) {
        return ALLIANCE;
    }

    function _sweepReserve() internal view override returns (address) {
        return SPLITTER.reserve();
    }

    /// @dev Between calls the registry holds only the failed payments it keeps for their recipients.
    function _unowed(IERC20 token) internal view override returns (uint256) {
        uint256 held = token.balanceOf(address(this));
        return token == TOKEN ? held - _keptTotal : held;
    }
}
