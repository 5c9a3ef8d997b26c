// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {World, VM, PLATFORM_A, PLATFORM_B, INSURER, CUSTODIAN, OUTSIDER, OWNER_KEY} from "./World.t.sol";
import {IAllianceRegistry} from "../../contracts/interfaces/IAllianceRegistry.sol";
import {ILoanRegistry} from "../../contracts/interfaces/ILoanRegistry.sol";
import {IRepaymentSplitter} from "../../contracts/interfaces/IRepaymentSplitter.sol";
import {ICollateralRegistry} from "../../contracts/interfaces/ICollateralRegistry.sol";
import {ILossWaterfall} from "../../contracts/interfaces/ILossWaterfall.sol";
import {ICreditInsurance} from "../../contracts/interfaces/ICreditInsurance.sol";
import {IRiskReserveFund} from "../../contracts/interfaces/IRiskReserveFund.sol";
import {ILoanConsent} from "../../contracts/interfaces/ILoanConsent.sol";
import {ILoanSuccession} from "../../contracts/interfaces/ILoanSuccession.sol";
import {LoanId, LoanTerms, LoanState, LoanStatus, Consent} from "../../contracts/interfaces/ILoanRegistry.sol";
import {FundingConfig, FundingPhase, Split, LoanBook} from "../../contracts/interfaces/IRepaymentSplitter.sol";
import {LienStatus, AssetStatus, Lien, SaleProposal} from "../../contracts/interfaces/ICollateralRegistry.sol";
import {Policy, PolicyStatus} from "../../contracts/interfaces/ICreditInsurance.sol";
import {LossCase} from "../../contracts/interfaces/ILossWaterfall.sol";
import {ReservePolicy} from "../../contracts/interfaces/IRiskReserveFund.sol";

/// @title What every actor's handler shares: the suite, the world's records, and how to pick what to act on
/// @dev Each handler acts as its member by pranking the next call, so every argument is read before the prank (a read
/// of the world is a call too, and would take the prank); a call the suite refuses is simply refused (the campaign
/// goes on), and a rule seen broken is recorded in the world for the invariants to report.
abstract contract Actor {
    World internal immutable w;
    IAllianceRegistry internal immutable alliance;
    ILoanRegistry internal immutable loans;
    ILoanConsent internal immutable consent;
    ILoanSuccession internal immutable succession;
    IRepaymentSplitter internal immutable splitter;
    ICollateralRegistry internal immutable collateral;
    ILossWaterfall internal immutable waterfall;
    ICreditInsurance internal immutable insurance;
    IRiskReserveFund internal immutable reserve;
    address internal immutable owner;
    uint256 internal constant UNIT = 1e18;

    /// @dev Time passes with every action, up to half a day (a function of the call, so that a campaign replays): loans fall
    /// due, grace periods and thresholds pass, and windows close, while the members act.
    modifier passesTime() {
        VM.warp(block.timestamp + (uint256(keccak256(msg.data)) % 12 hours));
        w.did("call");
        w.did(string(abi.encodePacked(msg.sig)));
        _;
    }

    constructor(World world) {
        w = world;
        alliance = world.alliance();
        loans = world.loans();
        consent = world.consent();
        succession = world.succession();
        splitter = world.splitter();
        collateral = world.collateral();
        waterfall = world.waterfall();
        insurance = world.insurance();
        reserve = world.reserve();
        owner = world.owner();
    }

    function _loan(uint256 seed) internal view returns (bool found, uint256 index, LoanTerms memory terms) {
        return _loanIn(seed, type(uint256).max);
    }

    /// @dev A loan whose status is one of `wanted` (a bit per {LoanStatus}), looking from `seed` on: three times in four,
    /// so that an action meets the loans it applies to; otherwise any loan, so that it is tried from every state too.
    function _loanIn(
        uint256 seed,
        uint256 wanted
    ) internal view returns (bool found, uint256 index, LoanTerms memory terms) {
        LoanId[] memory ids = w.loanIds();
        uint256 n = ids.length;
        if (n == 0) return (false, 0, terms);
        index = seed % n;
        // Hashed, so that the small seeds a fuzzer likes direct their choice too.
        if (uint256(keccak256(abi.encode(seed))) % 4 != 0) {
            for (uint256 k; k < n; ++k) {
                uint256 i = (index + k) % n;
                if (wanted & (1 << uint8(_status(ids[i]))) != 0) {
                    index = i;
                    break;
                }
            }
        }
        return (true, index, w.loan(index));
    }

    function _status(LoanId loanId) internal view returns (LoanStatus) {
        return loans.loanState(loanId).status;
    }

    function _asset(uint256 seed) internal view returns (uint256) {
        return w.assets(seed % w.assetCount());
    }

    /// @dev The loan (by its world index) whose lien on `assetId` is Enforcing, if any.
    function _enforcer(uint256 assetId) internal view returns (bool found, uint256 index) {
        for (uint256 i; i < w.lienCount(); ++i) {
            World.LienRef memory ref = w.lien(i);
            if (ref.assetId != assetId) continue;
            if (collateral.lienOf(assetId, w.loanId(ref.loan)).status == LienStatus.Enforcing) return (true, ref.loan);
        }
    }

    /// @dev The terms of every lien the asset carries (Active or Enforcing), in priority order, and their world indexes.
    function _liensOf(uint256 assetId) internal view returns (LoanTerms[] memory terms, uint256[] memory indexes) {
        uint256 n = w.lienCount();
        uint256[] memory found = new uint256[](n);
        uint8[] memory ranks = new uint8[](n);
        uint256 count;
        for (uint256 i; i < n; ++i) {
            World.LienRef memory ref = w.lien(i);
            if (ref.assetId != assetId) continue;
            LienStatus status = collateral.lienOf(assetId, w.loanId(ref.loan)).status;
            if (status != LienStatus.Active && status != LienStatus.Enforcing) continue;
            // Insertion by rank: a handful of liens at most.
            uint256 j = count++;
            while (j > 0 && ranks[j - 1] > ref.priority) {
                found[j] = found[j - 1];
                ranks[j] = ranks[j - 1];
                --j;
            }
            found[j] = ref.loan;
            ranks[j] = ref.priority;
        }
        terms = new LoanTerms[](count);
        indexes = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            indexes[i] = found[i];
            terms[i] = w.loan(found[i]);
        }
    }

    /// @dev An asset pledged to the loan at world index `index`, if it has any (otherwise any asset).
    function _assetPledgedTo(uint256 index, uint256 seed) internal view returns (uint256) {
        World.LienRef[] memory refs = w.liens();
        uint256 n = refs.length;
        for (uint256 k; k < n; ++k) {
            World.LienRef memory ref = refs[(seed + k) % n];
            if (ref.loan == index) return ref.assetId;
        }
        return _asset(seed);
    }

    function _servicer(LoanTerms memory terms) internal view returns (address) {
        return loans.servicerOf(terms);
    }

    /// @dev Marks an Active or Late loan late, then defaulted, as `who` (each as far as the registry allows `who`).
    function _markOverdue(address who, uint256 loanSeed) internal {
        (bool found, , LoanTerms memory terms) = _loanIn(loanSeed, 12);
        if (!found) return;
        VM.prank(who);
        try loans.markLate(terms) {
            w.did("late");
        } catch {}
        VM.prank(who);
        try loans.markDefaulted(terms) {
            w.did("default");
        } catch {}
    }

    /// @dev Settles as `who`, checking that the reserve compensated only a seasoned loan (rule 4).
    function _settleAs(address who, uint256 index, LoanTerms memory terms) internal {
        LoanId loanId = w.loanId(index);
        LoanState memory state = loans.loanState(loanId);
        uint256 compensated = reserve.positionOf(terms.platform).compensated;
        uint16 contributions = splitter.bookOf(loanId).contributions;
        VM.prank(who);
        try waterfall.settle(terms) {
            w.did("settle");
            if (reserve.positionOf(terms.platform).compensated > compensated) {
                ReservePolicy memory policy = reserve.policy();
                uint256 performed = uint256(state.installmentsPaid + 1) * terms.period;
                if (performed < policy.minLoanAge || contributions < policy.minInstallmentsPaid) {
                    w.broke("rule 4: the reserve compensated a loan that was not seasoned");
                }
            }
        } catch {}
    }
}

/// @title A platform: anchors and services its loans, and tries every servicing action on every other loan too
contract PlatformHandler is Actor {
    address internal immutable me;

    constructor(World world, address platform) Actor(world) {
        me = platform;
    }

    function _terms(uint256 seed) internal view returns (LoanTerms memory t) {
        uint8 kind = uint8(seed % 4);
        uint32 grace = uint32((seed >> 8) % 3) * 1 days;
        t = LoanTerms({
            platform: me,
            borrowerRef: keccak256(abi.encode("borrower", (seed >> 16) % 3)),
            documentHash: keccak256(abi.encode("document", seed)),
            platformRef: keccak256(abi.encode("ref", seed, w.loanCount())),
            principal: uint128((1_000 + ((seed >> 24) % 99_000)) * UNIT),
            annualRateBps: uint16((seed >> 40) % 2_000),
            scheduleKind: kind,
            installments: kind == 3 ? 1 : uint16(1 + ((seed >> 56) % 6)),
            period: uint32(5 days + ((seed >> 64) % 26) * 1 days),
            gracePeriod: grace,
            lateFeeBps: uint16((seed >> 72) % 3_000),
            defaultThreshold: grace + uint32(1 days + ((seed >> 80) % 30) * 1 days),
            fundingDeadline: uint40(block.timestamp + 10 days + ((seed >> 88) % 30) * 1 days)
        });
    }

    /// @notice Anchors a loan and, three times in four, opens its funding at once (as a platform does), half the time
    /// secured by a lien on one of the owner's assets, ranked after the liens it carries.
    function anchor(uint256 seed) external passesTime {
        LoanTerms memory terms = _terms(seed);
        VM.prank(me);
        try loans.anchorLoan(terms) {
            uint256 index = w.addLoan(terms);
            w.did("anchor");
            uint256 hashed = uint256(keccak256(abi.encode(seed)));
            if ((hashed >> 2) % 2 == 0) {
                uint256 assetId = _asset(hashed >> 3);
                uint8 rank = uint8(collateral.assetOf(assetId).lienCount + 1);
                _pledge(index, terms, assetId, terms.principal / 2, rank);
            }
            if (hashed % 4 != 0) _openFunding(index, terms, hashed >> 4);
        } catch {}
    }

    /// @notice Imports a "book signed on paper": the side door rule 6 bounds.
    function anchorLegacy(uint256 seed) external passesTime {
        LoanTerms[] memory book = new LoanTerms[](1);
        book[0] = _terms(seed);
        VM.prank(me);
        try consent.anchorLegacyLoans(book) {
            w.did("legacy");
            w.addLoan(book[0]);
            if (block.timestamp > consent.legacyImportUntil(me)) w.broke("rule 6: legacy import past its allowance");
        } catch {}
    }

    function openFunding(uint256 loanSeed, uint256 feeSeed) external passesTime {
        (bool found, uint256 index, LoanTerms memory terms) = _loanIn(loanSeed, 2);
        if (found) _openFunding(index, terms, feeSeed);
    }

    function _openFunding(uint256 index, LoanTerms memory terms, uint256 feeSeed) internal {
        bool insured = feeSeed % 2 == 0;
        FundingConfig memory config = FundingConfig({
            borrowerPayout: owner,
            insurer: insured ? INSURER : address(0),
            platformFeeBps: uint16(feeSeed % 301),
            premiumBps: insured ? uint16((feeSeed >> 16) % 201) : 0,
            reserveBps: uint16((feeSeed >> 32) % 101)
        });
        LoanId loanId = w.loanId(index);
        bool legacyUnderPolicy = loans.consentRequired() && loans.loanState(loanId).consent == Consent.Legacy;
        VM.prank(me);
        try splitter.openFunding(terms, config) {
            w.did("openFunding");
            if (legacyUnderPolicy) w.broke("rule 6: a legacy loan opened funding while consent is required");
        } catch {}
    }

    function pledge(uint256 loanSeed, uint256 assetSeed, uint256 securedSeed, uint8 priority) external passesTime {
        (bool found, uint256 index, LoanTerms memory terms) = _loanIn(loanSeed, 14);
        if (!found) return;
        _pledge(index, terms, _asset(assetSeed), 1 + (securedSeed % terms.principal), 1 + (priority % 3));
    }

    function _pledge(uint256 index, LoanTerms memory terms, uint256 assetId, uint256 secured, uint8 priority) internal {
        uint256 deadline = block.timestamp + 1 days;
        LoanId loanId = w.loanId(index);
        uint32 nonce = collateral.assetOf(assetId).consentNonce;
        bytes32 digest = collateral.consentDigest(assetId, loanId, secured, priority, nonce, deadline);
        (uint8 v, bytes32 r, bytes32 s) = VM.sign(OWNER_KEY, digest);
        bytes32 vs = bytes32(uint256(s) | (uint256(v - 27) << 255));
        VM.prank(me);
        try collateral.pledge(assetId, terms, secured, priority, deadline, r, vs) {
            w.did("pledge");
            w.addLien(assetId, index, priority);
        } catch {}
    }

    function consentToRank(uint256 lienSeed, uint256 loanSeed, uint8 priority) external passesTime {
        uint256 n = w.lienCount();
        if (n == 0) return;
        World.LienRef memory ref = w.lien(lienSeed % n);
        (bool found, uint256 index, ) = _loan(loanSeed);
        if (!found) return;
        LoanTerms memory lienLoan = w.loan(ref.loan);
        LoanId newLoanId = w.loanId(index);
        VM.prank(me);
        try collateral.consentToRank(ref.assetId, lienLoan, newLoanId, 1 + (priority % 3)) {} catch {}
    }

    /// @notice Marks an overdue loan late, and defaulted once its threshold passed.
    function markOverdue(uint256 loanSeed) external passesTime {
        _markOverdue(me, loanSeed);
    }

    function settle(uint256 loanSeed) external passesTime {
        (bool found, uint256 index, LoanTerms memory terms) = _loanIn(loanSeed, 32);
        if (!found) return;
        _settleAs(me, index, terms);
    }

    function writeOff(uint256 loanSeed) external passesTime {
        (bool found, , LoanTerms memory terms) = _loanIn(loanSeed, 32);
        if (!found) return;
        VM.prank(me);
        try waterfall.writeOff(terms) {} catch {}
    }

    function cancelFunding(uint256 loanSeed) external passesTime {
        (bool found, , LoanTerms memory terms) = _loanIn(loanSeed, 2);
        if (!found) return;
        VM.prank(me);
        try splitter.cancelFunding(terms) {} catch {}
    }

    function seize(uint256 loanSeed, uint256 assetSeed) external passesTime {
        (bool found, uint256 index, LoanTerms memory terms) = _loanIn(loanSeed, 160);
        if (!found) return;
        uint256 assetId = _assetPledgedTo(index, assetSeed);
        VM.prank(me);
        try collateral.seize(assetId, terms) {
            w.did("seize");
        } catch {}
    }

    function proposeSale(uint256 assetSeed, uint256 priceSeed, bool toBuyer) external passesTime {
        uint256 assetId = _asset(assetSeed);
        (bool found, uint256 index) = _enforcer(assetId);
        if (!found) return;
        uint256 price = (priceSeed % 150_000) * UNIT;
        address buyer = toBuyer ? OUTSIDER : address(0);
        LoanTerms memory enforcing = w.loan(index);
        VM.prank(me);
        try collateral.proposeSale(assetId, enforcing, price, buyer, keccak256("buyer"), keccak256("sale")) {
            w.did("propose");
        } catch {}
    }

    /// @notice Completes a sale.
    function dispose(uint256 assetSeed) external passesTime {
        _dispose(_asset(assetSeed));
    }

    /// @notice A whole sale at once, as a servicer runs it: proposed, confirmed by the custodian, announced for the
    /// window, completed (the steps one by one above let the other members act in between).
    function sell(uint256 assetSeed, uint256 priceSeed) external passesTime {
        uint256 assetId = _asset(assetSeed);
        (bool found, uint256 index) = _enforcer(assetId);
        if (!found) return;
        LoanTerms memory enforcing = w.loan(index);
        uint256 price = (priceSeed % 150_000) * UNIT;
        VM.prank(me);
        try collateral.proposeSale(assetId, enforcing, price, address(0), keccak256("buyer"), keccak256("sale")) {
            bytes32 hash = collateral.saleProposalHash(assetId);
            VM.prank(CUSTODIAN);
            try collateral.confirmSale(assetId, hash) {} catch {}
            VM.warp(block.timestamp + World(w).SALE_WINDOW());
            _dispose(assetId);
        } catch {}
    }

    /// @dev Completes a sale, and checks that it paid the liens in rank order: no lien took anything while a lien ranked
    /// ahead of it, in loss, was left short of what it could take (a junior's sale never dilutes a senior).
    function _dispose(uint256 assetId) internal {
        (LoanTerms[] memory terms, uint256[] memory indexes) = _liensOf(assetId);
        if (terms.length == 0) return;
        uint256[] memory left = new uint256[](terms.length);
        uint256[] memory before = new uint256[](terms.length);
        bytes32[] memory heads = new bytes32[](terms.length);
        for (uint256 i; i < terms.length; ++i) {
            LoanId loanId = w.loanId(indexes[i]);
            left[i] = waterfall.recoverable(loanId);
            before[i] = _recovered(loanId);
            heads[i] = loans.historyHead(loanId);
        }
        VM.prank(me);
        try collateral.dispose(assetId, terms) {
            w.did("dispose");
            bool shortAhead;
            uint8 shortRank;
            for (uint256 i; i < terms.length; ++i) {
                LoanId loanId = w.loanId(indexes[i]);
                uint256 took = _recovered(loanId) - before[i];
                uint8 rank = collateral.lienOf(assetId, loanId).priority;
                if (took != 0 && shortAhead && rank > shortRank)
                    w.broke("a junior lien took from a sale ahead of a senior");
                uint256 could =
                    left[i] < collateral.lienOf(assetId, loanId).securedAmount
                        ? left[i]
                        : collateral.lienOf(assetId, loanId).securedAmount;
                if (took < could && !shortAhead) {
                    shortAhead = true;
                    shortRank = rank;
                }
                if (loans.historyHead(loanId) == heads[i]) w.broke("a sale is missing from a lien's loan history");
            }
        } catch {}
    }

    function withdrawFees() external passesTime {
        VM.prank(me);
        try splitter.withdrawFees(me) {} catch {}
    }

    function deposit(uint256 amountSeed) external passesTime {
        VM.prank(me);
        try reserve.deposit(1 + (amountSeed % 20_000) * UNIT) {} catch {}
    }

    function _recovered(LoanId loanId) internal view returns (uint256) {
        LossCase memory c = waterfall.caseOf(loanId);
        return uint256(c.recoveredBefore) + c.insurerRecovered + c.reserveRecovered + c.lendersRecovered;
    }
}

/// @title A lender: commits, claims, sells shares, and keeps the payouts moving (one handler per lender)
contract LenderHandler is Actor {
    address internal immutable me;

    constructor(World world, address lender) Actor(world) {
        me = lender;
    }

    function fund(uint256 loanSeed, uint256 amountSeed) external passesTime {
        (bool found, uint256 index, LoanTerms memory terms) = _loanIn(loanSeed, 2);
        if (!found) return;
        LoanId loanId = w.loanId(index);
        // A loan in funding whose book is open, when there is one (an anchored loan may have none yet).
        LoanId[] memory ids = w.loanIds();
        for (uint256 k; k < ids.length && splitter.bookOf(loanId).phase != FundingPhase.Funding; ++k) {
            uint256 i = (index + k) % ids.length;
            if (splitter.bookOf(ids[i]).phase == FundingPhase.Funding) (index, loanId, terms) = (i, ids[i], w.loan(i));
        }
        // Three times in four what is left to fund, so that loans complete their funding.
        uint256 left = terms.principal - splitter.bookOf(loanId).committed;
        uint256 amount = amountSeed % 4 != 0 || left == 0 ? left + 1 : 1 + (amountSeed % left);
        bytes32 head = loans.historyHead(loanId);
        VM.prank(me);
        try splitter.fund(terms, amount) {
            w.did("fund");
            if (_status(loanId) == LoanStatus.Active) w.did("activated");
            if (_status(loanId) == LoanStatus.Active && loans.historyHead(loanId) == head) {
                w.broke("a disbursement is missing from its loan's history");
            }
        } catch {}
    }

    function claim(uint256 loanSeed) external passesTime {
        (bool found, uint256 index, ) = _loan(loanSeed);
        if (!found) return;
        LoanId[] memory ids = new LoanId[](1);
        ids[0] = w.loanId(index);
        VM.prank(me);
        try splitter.claim(ids, me) {} catch {}
    }

    function transferShare(uint256 loanSeed, uint256 toSeed, uint256 shareSeed) external passesTime {
        (bool found, uint256 index, ) = _loanIn(loanSeed, 12);
        if (!found) return;
        LoanId loanId = w.loanId(index);
        uint256 held = splitter.positionOf(loanId, me).shares;
        if (held == 0) return;
        address to = w.lender(toSeed);
        VM.prank(me);
        try splitter.transferShare(loanId, to, 1 + (shareSeed % held)) {} catch {}
    }

    /// @notice A keeper pushes a loan's payouts to every lender it has.
    function payout(uint256 loanSeed) external passesTime {
        (bool found, uint256 index, ) = _loanIn(loanSeed, 508);
        if (!found) return;
        LoanId loanId = w.loanId(index);
        address[] memory lenders = splitter.lendersOf(loanId, 0, 10);
        bytes32 head = loans.historyHead(loanId);
        VM.prank(OUTSIDER);
        try splitter.payout(loanId, lenders) returns (uint256 paid, uint256) {
            if (paid != 0 && loans.historyHead(loanId) == head) w.broke("a payout is missing from its loan's history");
        } catch {}
    }
}

/// @title The borrower, who also owns the collateral: repays, recovers its loss, revokes its consents
contract BorrowerHandler is Actor {
    constructor(World world) Actor(world) {}

    /// @notice Pays what is due (sometimes more, a prepayment), and checks that the insurer earned no more of the
    /// premium than its cover buys (rule 5) and that the payment is in the loan's history.
    function repay(uint256 loanSeed, uint256 extraSeed) external passesTime {
        (bool found, uint256 index, LoanTerms memory terms) = _loanIn(loanSeed, 12);
        if (!found) return;
        LoanId loanId = w.loanId(index);
        try splitter.amountDue(terms) returns (Split memory, uint256 total) {
            uint256 amount = total + (extraSeed % 3 == 0 ? (extraSeed % terms.principal) : 0);
            LoanBook memory book = splitter.bookOf(loanId);
            uint256 dueDate = loans.nextPayment(terms).dueDate;
            uint256 insurerFees = splitter.feesOwed(INSURER);
            bytes32 head = loans.historyHead(loanId);
            VM.prank(owner);
            try splitter.repayLoan(terms, amount, bytes32(0)) returns (Split memory split) {
                w.did("repay");
                uint256 earned = splitter.feesOwed(INSURER) - insurerFees;
                if (earned * 10_000 > split.premium * book.coverageBps) {
                    w.broke("rule 5: the insurer earned more than premium x coverage");
                }
                // The cover reaches an installment by its due date, whenever it is paid.
                if (earned != 0 && dueDate > book.coverEnd) {
                    w.broke("rule 5: the insurer earned the premium of an installment its cover does not reach");
                }
                if (loans.historyHead(loanId) == head) w.broke("a repayment is missing from its loan's history");
            } catch {}
        } catch {}
    }

    /// @notice Pays towards a defaulted loan's loss through the loss waterfall (all of it, half the time).
    function recover(uint256 loanSeed, uint256 amountSeed) external passesTime {
        (bool found, uint256 index, LoanTerms memory terms) = _loanIn(loanSeed, 160);
        if (!found) return;
        LoanId loanId = w.loanId(index);
        uint256 left = waterfall.recoverable(loanId);
        if (left == 0) return;
        uint256 amount = amountSeed % 2 == 0 ? left : 1 + (amountSeed % left);
        bytes32 head = loans.historyHead(loanId);
        VM.prank(owner);
        try waterfall.recover(terms, amount) {
            w.did("recover");
            if (loans.historyHead(loanId) == head && waterfall.caseOf(loanId).settled) {
                w.broke("a recovery is missing from its loan's history");
            }
            if (_status(loanId) == LoanStatus.Recovered) _collateralComesBack(index);
        } catch {}
    }

    /// @dev A loss made whole frees the collateral its loan seized: anyone can return it to its owner at once.
    function _collateralComesBack(uint256 index) internal {
        w.did("recovered");
        for (uint256 i; i < w.assetCount(); ++i) {
            uint256 assetId = w.assets(i);
            (bool seized, uint256 enforcer) = _enforcer(assetId);
            if (!seized || enforcer != index) continue;
            VM.prank(OUTSIDER);
            try collateral.returnSeized(assetId) {} catch {
                w.broke("a loss recovered in full did not free its collateral");
            }
        }
    }

    function revokeConsents(uint256 assetSeed) external passesTime {
        uint256 assetId = _asset(assetSeed);
        VM.prank(owner);
        try collateral.revokeConsents(assetId) {} catch {}
    }
}

/// @title The insurer: capital, policies
contract InsurerHandler is Actor {
    constructor(World world) Actor(world) {}

    function depositCapital(uint256 amountSeed) external passesTime {
        VM.prank(INSURER);
        try insurance.depositCapital(1 + (amountSeed % 100_000) * UNIT) {} catch {}
    }

    function withdrawCapital(uint256 amountSeed) external passesTime {
        address insurer = INSURER;
        VM.prank(insurer);
        try insurance.withdrawCapital(1 + (amountSeed % 100_000) * UNIT, insurer) {} catch {}
    }

    function writePolicy(uint256 loanSeed, uint16 coverage, uint256 termSeed) external passesTime {
        (bool found, , LoanTerms memory terms) = _loanIn(loanSeed, 6);
        if (!found) return;
        VM.prank(INSURER);
        try
            insurance.writePolicy(
                terms,
                1 + (coverage % 10_000),
                uint40(block.timestamp + 1 days + (termSeed % 200 days))
            )
        {} catch {}
    }

    function releasePolicy(uint256 loanSeed) external passesTime {
        (bool found, , LoanTerms memory terms) = _loanIn(loanSeed, 340);
        if (!found) return;
        VM.prank(INSURER);
        try insurance.releasePolicy(terms) {} catch {}
    }

    function withdrawFees() external passesTime {
        address insurer = INSURER;
        VM.prank(insurer);
        try splitter.withdrawFees(insurer) {} catch {}
    }
}

/// @title The custodian member: confirms proposed sales
contract CustodianHandler is Actor {
    constructor(World world) Actor(world) {}

    function confirmSale(uint256 assetSeed) external passesTime {
        uint256 assetId = _asset(assetSeed);
        try collateral.saleProposalHash(assetId) returns (bytes32 hash) {
            VM.prank(CUSTODIAN);
            try collateral.confirmSale(assetId, hash) {
                w.did("confirm");
            } catch {}
        } catch {}
    }
}

/// @title Governance: standing, succession, the consent policy, closing books
contract GovernanceHandler is Actor {
    constructor(World world) Actor(world) {}

    function _platform(uint256 seed) internal pure returns (address) {
        return seed % 2 == 0 ? PLATFORM_A : PLATFORM_B;
    }

    function _do(address target, bytes memory data) internal returns (bool ok) {
        (ok, ) = w.asGovernance(target, data);
    }

    function suspend(uint256 seed) external passesTime {
        _do(address(alliance), abi.encodeCall(alliance.suspendMember, (_platform(seed))));
    }

    function reinstate(uint256 seed) external passesTime {
        _do(address(alliance), abi.encodeCall(alliance.reinstateMember, (_platform(seed))));
    }

    function appointSuccessor(uint256 seed) external passesTime {
        address platform = _platform(seed);
        address successor = _platform(seed + 1);
        if (_do(address(succession), abi.encodeCall(succession.appointSuccessor, (platform, successor)))) {
            w.appointed(platform);
        }
    }

    function withdrawSuccessor(uint256 seed) external passesTime {
        _do(address(succession), abi.encodeCall(succession.withdrawSuccessor, (_platform(seed))));
    }

    function transferServicing(uint256 loanSeed, uint256 seed) external passesTime {
        (bool found, , LoanTerms memory terms) = _loan(loanSeed);
        if (!found) return;
        LoanTerms[] memory list = new LoanTerms[](1);
        list[0] = terms;
        _do(address(succession), abi.encodeCall(succession.transferServicing, (list, _platform(seed))));
    }

    function setConsentRequired(bool required) external passesTime {
        _do(address(loans), abi.encodeCall(loans.setConsentRequired, (required)));
    }

    function allowLegacyImport(uint256 seed, uint256 daysSeed) external passesTime {
        uint40 until = uint40(block.timestamp + (daysSeed % 10) * 1 days);
        _do(address(consent), abi.encodeCall(consent.allowLegacyImport, (_platform(seed), until)));
    }

    function closeWrittenOff(uint256 loanSeed) external passesTime {
        (bool found, uint256 index, ) = _loanIn(loanSeed, 128);
        if (!found) return;
        _do(address(splitter), abi.encodeCall(splitter.closeWrittenOff, (w.loanId(index))));
    }
}

/// @title Anyone: the public actions no member can block, and the passing of time
contract OutsiderHandler is Actor {
    constructor(World world) Actor(world) {}

    function warp(uint256 seed) external passesTime {
        VM.warp(block.timestamp + 1 hours + (seed % 40 days));
    }

    /// @notice Marks an overdue loan late or defaulted once the alliance's public delay let anyone do it.
    function markOverdue(uint256 loanSeed) external passesTime {
        _markOverdue(OUTSIDER, loanSeed);
    }

    function cancel(uint256 loanSeed) external passesTime {
        (bool found, , LoanTerms memory terms) = _loanIn(loanSeed, 2);
        if (!found) return;
        VM.prank(OUTSIDER);
        try splitter.cancelFunding(terms) {} catch {
            VM.prank(OUTSIDER);
            try loans.cancelLoan(terms) {} catch {}
        }
    }

    /// @notice Carries a standing appointment out, and checks that it never reaches a loan anchored after it (rule 1).
    function takeOver(uint256 loanSeed) external passesTime {
        (bool found, uint256 index, LoanTerms memory terms) = _loan(loanSeed);
        if (!found) return;
        LoanTerms[] memory list = new LoanTerms[](1);
        list[0] = terms;
        VM.prank(OUTSIDER);
        try succession.takeOverLoans(list) {
            w.did("takeOver");
            if (w.anchoredAt(index) > w.appointedAt(terms.platform)) {
                w.broke("rule 1: an appointment reached a loan anchored after it");
            }
        } catch {}
    }

    function release(uint256 lienSeed) external passesTime {
        uint256 n = w.lienCount();
        if (n == 0) return;
        World.LienRef memory ref = w.lien(lienSeed % n);
        LoanId loanId = w.loanId(ref.loan);
        VM.prank(OUTSIDER);
        try collateral.release(ref.assetId, loanId) {} catch {}
    }

    function returnSeized(uint256 assetSeed) external passesTime {
        uint256 assetId = _asset(assetSeed);
        VM.prank(OUTSIDER);
        try collateral.returnSeized(assetId) {} catch {}
    }

    function settleAfterDelay(uint256 loanSeed) external passesTime {
        (bool found, uint256 index, LoanTerms memory terms) = _loanIn(loanSeed, 32);
        if (!found) return;
        _settleAs(OUTSIDER, index, terms);
    }

    function collect() external passesTime {
        address[] memory platforms = new address[](2);
        platforms[0] = PLATFORM_A;
        platforms[1] = PLATFORM_B;
        uint256 remainders = splitter.remaindersOwed();
        VM.prank(OUTSIDER);
        try reserve.collect(platforms) {
            w.collected(remainders);
        } catch {}
    }
}
