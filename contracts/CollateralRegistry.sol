// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {
    IAllianceRegistry,
    Member,
    MemberStatus,
    ROLE_PLATFORM,
    ROLE_CUSTODIAN
} from "./interfaces/IAllianceRegistry.sol";
import {ILoanRegistry, LoanId, LoanStatus, LoanState, LoanTerms, computeLoanId} from "./interfaces/ILoanRegistry.sol";
import {IRepaymentSplitter, FundingPhase} from "./interfaces/IRepaymentSplitter.sol";
import {ILossWaterfall} from "./interfaces/ILossWaterfall.sol";
import {ExactTransfer} from "./libraries/ExactTransfer.sol";
import {
    ICollateralRegistry,
    AssetClass,
    AssetStatus,
    LienStatus,
    CollateralFact,
    Asset,
    Lien
} from "./interfaces/ICollateralRegistry.sol";

/// @title CollateralRegistry
/// @notice See {ICollateralRegistry}.
/// @dev A registered asset is two fresh slots besides its ERC-721 mint; a lien is one slot, found by (asset, loan), so
/// that a disposal takes the liens' terms as calldata and proves them complete against the asset's lien count.
contract CollateralRegistry is ICollateralRegistry, ERC721, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using ExactTransfer for IERC20;

    /// @dev Bounds the disposal loop.
    uint8 public constant MAX_LIENS = 8;
    uint8 public constant MAX_PRIORITY = 8;

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
    /// @dev The rank each existing lien agreed a new loan's lien may take beside or ahead of it.
    mapping(uint256 assetId => mapping(LoanId newLoan => mapping(LoanId lienLoan => uint8))) private _rankConsents;

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
        Asset storage asset = _registered(assetId);
        // An appraisal decides how much first-rank credit an asset carries and what a sale may fetch: the registrar of
        // record, a custodian or governance answer for it, not any platform with a stake in the asset's loans.
        bool registrar = msg.sender == asset.registrar && ALLIANCE.memberOf(msg.sender).status != MemberStatus.Expelled;
        if (!registrar && !ALLIANCE.isActiveMember(msg.sender, ROLE_CUSTODIAN) && !ALLIANCE.isGovernance(msg.sender)) {
            revert CollateralRegistryUnauthorized(msg.sender);
        }
        _requireAppraisal(appraisalValue, appraisalDocHash);
        LoanId[] memory loanIds = _activeLiens(asset, assetId, liens);
        // The check above bounds the value to 96 bits.
        asset.appraisalValue = uint96(appraisalValue);
        emit CollateralRevalued(assetId, msg.sender, uint96(appraisalValue), appraisalDocHash);
        bytes32 fact = keccak256(abi.encode(CollateralFact.Revalued, assetId, appraisalValue, appraisalDocHash));
        for (uint256 i; i < loanIds.length; ++i) {
            LOANS.extendHistory(loanIds[i], fact);
        }
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
        LoanId[] memory loanIds = _activeLiens(asset, assetId, liens);
        for (uint256 i; i < loanIds.length; ++i) {
            LoanId lienLoan = loanIds[i];
            Lien storage lien = _liens[assetId][lienLoan];
            // Every lien the new one would rank with or ahead of must have agreed to exactly this rank.
            if (lien.priority >= priority && _rankConsents[assetId][loanId][lienLoan] != priority) {
                revert CollateralRegistryRankConsentMissing(assetId, lienLoan, loanId, priority);
            }
        }
        _pledge(asset, assetId, terms, securedAmount, priority, deadline, r, vs, false);
    }

    /// @inheritdoc ICollateralRegistry
    function consentToRank(uint256 assetId, LoanTerms calldata lienLoan, LoanId newLoanId, uint8 priority) external {
        LoanId lienLoanId = computeLoanId(lienLoan);
        LienStatus status = _liens[assetId][lienLoanId].status;
        if (status != LienStatus.Active) revert CollateralRegistryWrongLienStatus(assetId, lienLoanId, status);
        if (!LOANS.mayService(lienLoan, msg.sender)) revert CollateralRegistryUnauthorized(msg.sender);
        _rankConsents[assetId][newLoanId][lienLoanId] = priority;
        emit RankConsented(assetId, lienLoanId, newLoanId, priority);
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
        if (asset.lienCount == MAX_LIENS) revert CollateralRegistryTooManyLiens(assetId, MAX_LIENS);
        if (priority == 1) {
            uint256 firstLiens = asset.firstPrioritySecured + securedAmount;
            if (firstLiens > asset.appraisalValue) {
                revert CollateralRegistryFirstLiensExceedAppraisal(assetId, firstLiens, asset.appraisalValue);
            }
            // Fits: firstLiens is at most the appraisal value, a uint96.
            asset.firstPrioritySecured = uint96(firstLiens);
        }
        asset.lienCount += 1;
        if (priority > asset.lastRank) asset.lastRank = priority;
        // The consent is used up, whoever gave it.
        asset.consentNonce = nonce + 1;
        // The lien check above bounded securedAmount to 96 bits; timestamps fit 40 bits until the year 36 812.
        _liens[assetId][loanId] = Lien({
            securedAmount: uint96(securedAmount),
            priority: priority,
            status: LienStatus.Active,
            since: uint40(block.timestamp)
        });
        emit CollateralPledged(assetId, loanId, owner, uint96(securedAmount), priority);
        // The registry checks that the loan is open and the caller its lienholder while recording the pledge in its
        // history (one call instead of three); either failing undoes the whole pledge.
        LOANS.recordLien(
            loanId,
            terms.platform,
            msg.sender,
            keccak256(abi.encode(CollateralFact.Pledged, assetId, securedAmount, priority))
        );
    }

    /// @inheritdoc ICollateralRegistry
    function release(uint256 assetId, LoanId loanId) external {
        Asset storage asset = _assets[assetId];
        if (asset.status != AssetStatus.Registered) revert CollateralRegistryWrongAssetStatus(assetId, asset.status);
        Lien storage lien = _liens[assetId][loanId];
        if (lien.status != LienStatus.Active) revert CollateralRegistryWrongLienStatus(assetId, loanId, lien.status);
        LoanStatus status = LOANS.loanState(loanId).status;
        if (status != LoanStatus.Repaid && status != LoanStatus.Cancelled && status != LoanStatus.Recovered) {
            revert CollateralRegistryLoanNotClosed(loanId, status);
        }
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
        _releaseLien(asset, lien);
        emit LienReleased(assetId, loanId, msg.sender);
        LOANS.extendHistory(loanId, keccak256(abi.encode(CollateralFact.Released, assetId)));
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

        address owner = _ownerOf(assetId);
        asset.status = AssetStatus.Seized;
        lien.status = LienStatus.Enforcing;
        _seizedFrom[assetId] = owner;
        _enforcer[assetId] = loanId;
        // Custody: the token moves to this registry without the owner's approval, which is the point of a lien.
        _update(address(this), assetId, address(0));
        emit CollateralSeized(assetId, loanId, msg.sender, owner);
        LOANS.extendHistory(loanId, keccak256(abi.encode(CollateralFact.Seized, assetId)));
    }

    /// @inheritdoc ICollateralRegistry
    function returnSeized(uint256 assetId) external {
        Asset storage asset = _assets[assetId];
        if (asset.status != AssetStatus.Seized) revert CollateralRegistryWrongAssetStatus(assetId, asset.status);
        LoanId loanId = _enforcer[assetId];
        LoanStatus status = LOANS.loanState(loanId).status;
        if (status != LoanStatus.Recovered) revert CollateralRegistryLossNotMadeWhole(assetId, loanId, status);

        address owner = _seizedFrom[assetId];
        asset.status = AssetStatus.Registered;
        delete _seizedFrom[assetId];
        _releaseLien(asset, _liens[assetId][loanId]);
        _update(owner, assetId, address(0));
        emit SeizedAssetReturned(assetId, loanId, owner);
        emit LienReleased(assetId, loanId, msg.sender);
        LOANS.extendHistory(loanId, keccak256(abi.encode(CollateralFact.Returned, assetId)));
    }

    /// @inheritdoc ICollateralRegistry
    function dispose(
        uint256 assetId,
        LoanTerms[] calldata liens,
        uint256 proceeds,
        bytes32 buyerRef,
        bytes32 saleDocHash
    ) external nonReentrant {
        Asset storage asset = _assets[assetId];
        if (asset.status != AssetStatus.Seized) revert CollateralRegistryWrongAssetStatus(assetId, asset.status);
        if (liens.length != asset.lienCount)
            revert CollateralRegistryLiensIncomplete(assetId, liens.length, asset.lienCount);
        (LoanId[] memory loanIds, uint256[] memory secured, uint8[] memory priorities, uint256 funded) = _dischargeAll(
            assetId,
            liens
        );
        uint256[] memory allocated = _allocate(proceeds, secured, priorities);
        uint256 surplus = proceeds;
        for (uint256 i; i < allocated.length; ++i) {
            surplus -= allocated[i];
        }

        address owner = _seizedFrom[assetId];
        LoanId enforcing = _enforcer[assetId];
        asset.status = AssetStatus.Disposed;
        asset.lienCount = 0;
        asset.lastRank = 0;
        asset.firstPrioritySecured = 0;
        delete _seizedFrom[assetId];
        _burn(assetId);
        emit CollateralDisposed(assetId, enforcing, proceeds, buyerRef, saleDocHash, surplus);

        _pull(msg.sender, proceeds);
        for (uint256 i; i < liens.length; ++i) {
            if (allocated[i] != 0) {
                surplus += _payLien(assetId, loanIds[i], liens[i], allocated[i], funded & (1 << i) != 0);
            }
            LOANS.extendHistory(
                loanIds[i],
                keccak256(abi.encode(CollateralFact.Disposed, assetId, proceeds, allocated[i], buyerRef, saleDocHash))
            );
        }
        if (surplus != 0) _pay(owner, surplus);
    }

    /// @inheritdoc ICollateralRegistry
    function withdraw(address to) external nonReentrant returns (uint256 amount) {
        if (to == address(0)) revert CollateralRegistryZeroAddress();
        amount = _kept[msg.sender];
        if (amount == 0) revert CollateralRegistryNothingToWithdraw(msg.sender);
        _kept[msg.sender] = 0;
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

    /// @dev Proves `liens` to be every active lien of the asset, each named once, and returns their loan ids.
    function _activeLiens(
        Asset storage asset,
        uint256 assetId,
        LoanTerms[] calldata liens
    ) private view returns (LoanId[] memory loanIds) {
        if (liens.length != asset.lienCount) {
            revert CollateralRegistryLiensIncomplete(assetId, liens.length, asset.lienCount);
        }
        loanIds = new LoanId[](liens.length);
        for (uint256 i; i < liens.length; ++i) {
            LoanId loanId = computeLoanId(liens[i]);
            LienStatus status = _liens[assetId][loanId].status;
            if (status != LienStatus.Active) revert CollateralRegistryWrongLienStatus(assetId, loanId, status);
            for (uint256 j; j < i; ++j) {
                if (LoanId.unwrap(loanIds[j]) == LoanId.unwrap(loanId)) {
                    revert CollateralRegistryLiensIncomplete(assetId, i, asset.lienCount);
                }
            }
            loanIds[i] = loanId;
        }
    }

    function _releaseLien(Asset storage asset, Lien storage lien) private {
        lien.status = LienStatus.Released;
        asset.lienCount -= 1;
        // An asset free of liens starts its ranks afresh.
        if (asset.lienCount == 0) asset.lastRank = 0;
        if (lien.priority == 1) asset.firstPrioritySecured -= lien.securedAmount;
    }

    /// @dev Proves `liens` to be every lien of the asset in priority order, and discharges them. A lien whose loan was
    /// repaid or cancelled meanwhile is released instead and takes nothing. `funded` has bit i set when the splitter
    /// funded lien i's loan.
    function _dischargeAll(
        uint256 assetId,
        LoanTerms[] calldata liens
    ) private returns (LoanId[] memory loanIds, uint256[] memory secured, uint8[] memory priorities, uint256 funded) {
        loanIds = new LoanId[](liens.length);
        secured = new uint256[](liens.length);
        priorities = new uint8[](liens.length);
        LoanId enforcing = _enforcer[assetId];
        for (uint256 i; i < liens.length; ++i) {
            LoanId loanId = computeLoanId(liens[i]);
            Lien storage lien = _liens[assetId][loanId];
            if (lien.status != LienStatus.Active && lien.status != LienStatus.Enforcing) {
                revert CollateralRegistryWrongLienStatus(assetId, loanId, lien.status);
            }
            if (i != 0 && lien.priority < priorities[i - 1]) {
                revert CollateralRegistryLiensIncomplete(assetId, i, liens.length);
            }
            if (LoanId.unwrap(loanId) == LoanId.unwrap(enforcing) && !LOANS.mayService(liens[i], msg.sender)) {
                revert CollateralRegistryNotSeizingPlatform(assetId, msg.sender, LOANS.servicerOf(liens[i]));
            }
            loanIds[i] = loanId;
            priorities[i] = lien.priority;
            LoanStatus status = LOANS.loanState(loanId).status;
            // A loan that owes nothing more (repaid, cancelled, or made whole after its default) takes nothing.
            if (status == LoanStatus.Repaid || status == LoanStatus.Cancelled || status == LoanStatus.Recovered) {
                lien.status = LienStatus.Released;
            } else {
                // A lien takes at most its secured amount, and no more than its loan's loss has left to recover.
                secured[i] = lien.securedAmount;
                if (SPLITTER.bookOf(loanId).phase == FundingPhase.Funded) {
                    // Bit i: the splitter funded lien i's loan, so its share goes through the loss waterfall.
                    funded |= 1 << i;
                    uint256 recoverable = WATERFALL.recoverable(loanId);
                    if (recoverable < secured[i]) secured[i] = recoverable;
                }
                lien.status = LienStatus.Discharged;
            }
        }
    }

    /// @dev The disposal waterfall: priority by priority, each lien up to its secured amount; a priority that cannot be
    /// paid in full shares what is left pro rata to secured amounts, its last lien taking the rounding remainder.
    function _allocate(
        uint256 proceeds,
        uint256[] memory secured,
        uint8[] memory priorities
    ) private pure returns (uint256[] memory allocated) {
        allocated = new uint256[](secured.length);
        uint256 remaining = proceeds;
        uint256 start;
        while (start < secured.length) {
            uint256 end = start;
            uint256 groupSecured;
            while (end < secured.length && priorities[end] == priorities[start]) {
                groupSecured += secured[end];
                ++end;
            }
            if (remaining >= groupSecured) {
                for (uint256 i = start; i < end; ++i) {
                    allocated[i] = secured[i];
                }
                remaining -= groupSecured;
            } else {
                uint256 share = remaining;
                for (uint256 i = start; i < end; ++i) {
                    allocated[i] = (share * secured[i]) / groupSecured;
                    remaining -= allocated[i];
                }
                // What flooring left goes to the group's last lien that secures anything.
                for (uint256 i = end; i > start; --i) {
                    if (secured[i - 1] != 0) {
                        allocated[i - 1] += remaining;
                        remaining = 0;
                        break;
                    }
                }
            }
            start = end;
        }
    }

    function _pull(address from, uint256 amount) private {
        if (amount != 0) TOKEN.pullExact(from, amount);
    }

    /// @dev A lien's share goes through the loss waterfall (to the lenders, or pari passu once the loss is settled)
    /// when the splitter funded the loan, else to its platform.
    /// @return untaken What the waterfall did not take (nothing, since allocations are capped by what it can take; it
    /// goes to the owner should that ever differ).
    function _payLien(
        uint256 assetId,
        LoanId loanId,
        LoanTerms calldata terms,
        uint256 amount,
        bool funded
    ) private returns (uint256 untaken) {
        if (funded) {
            emit DisposalAllocated(assetId, loanId, address(WATERFALL), amount);
            TOKEN.forceApprove(address(WATERFALL), amount);
            untaken = amount - WATERFALL.recover(terms, amount);
            if (untaken != 0) TOKEN.forceApprove(address(WATERFALL), 0);
        } else {
            // A loan serviced off the splitter is paid to its servicer, the successor once one took it over.
            address servicer = LOANS.servicerOf(terms);
            emit DisposalAllocated(assetId, loanId, servicer, amount);
            _pay(servicer, amount);
        }
    }

    /// @dev Pays `account`, or keeps the amount for it to withdraw if the transfer fails.
    function _pay(address account, uint256 amount) private {
        if (!TOKEN.trySafeTransfer(account, amount)) {
            _kept[account] += amount;
            emit PaymentKept(account, amount);
        }
    }
}
