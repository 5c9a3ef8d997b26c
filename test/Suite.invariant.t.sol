// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {World, PLATFORM_A, PLATFORM_B, INSURER} from "./invariant/World.t.sol";
import {
    PlatformHandler,
    LenderHandler,
    BorrowerHandler,
    InsurerHandler,
    CustodianHandler,
    GovernanceHandler,
    OutsiderHandler
} from "./invariant/Handlers.t.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ILoanRegistry, LoanId, LoanStatus} from "../contracts/interfaces/ILoanRegistry.sol";
import {IRepaymentSplitter} from "../contracts/interfaces/IRepaymentSplitter.sol";
import {IRiskReserveFund} from "../contracts/interfaces/IRiskReserveFund.sol";
import {ICreditInsurance} from "../contracts/interfaces/ICreditInsurance.sol";
import {ILossWaterfall} from "../contracts/interfaces/ILossWaterfall.sol";
import {ICollateralRegistry} from "../contracts/interfaces/ICollateralRegistry.sol";
import {FundingPhase, LoanBook} from "../contracts/interfaces/IRepaymentSplitter.sol";
import {Asset, AssetStatus, LienStatus} from "../contracts/interfaces/ICollateralRegistry.sol";
import {PlatformPosition} from "../contracts/interfaces/IRiskReserveFund.sol";

/// @title The whole suite under every member at once: the rules that hold against every member, as invariants
/// @notice Two platforms (one tries every servicing action on the other's loans too), three lenders, a borrower who owns
/// the collateral, an insurer, a custodian, governance and the public (with the passing of time) act in any order;
/// after every call the suite must still hold these. The handlers check what only an action shows (a junior's sale,
/// a premium, a takeover, a settlement's compensation, a money movement's fact) and record the first rule broken; the
/// invariants report it with the state-wide rules. `npm test` runs a short campaign; `npm run fuzz -- --solidity` a
/// long one (INVARIANT_RUNS, INVARIANT_DEPTH).
contract SuiteInvariantTest {
    /// @notice A rule of the suite did not hold; `rule` says which.
    error RuleBroken(string rule);

    World internal w;
    address[] internal handlers;
    // The suite and its members, read once: every external read costs the campaign calls per second.
    IERC20 internal token;
    ILoanRegistry internal loans;
    IRepaymentSplitter internal splitter;
    IRiskReserveFund internal reserve;
    ICreditInsurance internal insurance;
    ILossWaterfall internal waterfall;
    ICollateralRegistry internal collateral;
    address internal owner;

    function setUp() public {
        w = new World();
        (token, loans, splitter, reserve) = (w.token(), w.loans(), w.splitter(), w.reserve());
        (insurance, waterfall, collateral, owner) = (w.insurance(), w.waterfall(), w.collateral(), w.owner());
        handlers.push(address(new PlatformHandler(w, PLATFORM_A)));
        handlers.push(address(new PlatformHandler(w, PLATFORM_B)));
        for (uint256 i; i < 3; ++i) handlers.push(address(new LenderHandler(w, w.lender(i))));
        handlers.push(address(new BorrowerHandler(w)));
        handlers.push(address(new InsurerHandler(w)));
        handlers.push(address(new CustodianHandler(w)));
        handlers.push(address(new GovernanceHandler(w)));
        handlers.push(address(new OutsiderHandler(w)));
    }

    /// @notice The handlers reach what the rules are about: a loan's whole life, from anchoring through default, the
    /// loss's settlement, seizure and the sale of its collateral, one handler call at a time. Were a handler to refuse
    /// all it tries (a wrong argument, a missing approval), the campaign would pass without testing anything.
    function test_theHandlersReachALoansWholeLife() public {
        PlatformHandler platform = PlatformHandler(handlers[0]);
        OutsiderHandler outsider = OutsiderHandler(handlers[9]);
        platform.anchor(19 << 88); // a 1 000-token bullet loan over 5 days, its funding open for 20 days
        platform.pledge(0, 0, 0, 0);
        platform.openFunding(0, 1);
        LenderHandler(handlers[2]).fund(0, 1);
        outsider.warp(20 days);
        platform.markOverdue(0);
        outsider.warp(2 days);
        platform.settle(0);
        platform.seize(0, 0);
        platform.proposeSale(0, 90_000, false);
        CustodianHandler(handlers[7]).confirmSale(0);
        outsider.warp(2 days);
        platform.dispose(0);
        string[9] memory steps = [
            "anchor",
            "pledge",
            "openFunding",
            "activated",
            "default",
            "settle",
            "seize",
            "confirm",
            "dispose"
        ];
        for (uint256 i; i < steps.length; ++i) _check(w.reached(keccak256(bytes(steps[i]))) == 1, steps[i]);
        _noActionBrokeARule();
    }

    /// @notice The actors' handlers: the only contracts the campaign calls.
    function targetContracts() public view returns (address[] memory) {
        return handlers;
    }

    /// @notice After every call of every campaign, every rule below holds (one campaign checks them all).
    function invariant_theSuiteKeepsEveryRule() public view {
        _noActionBrokeARule();
        LoanId[] memory ids = w.loanIds();
        LoanStatus[] memory statuses = new LoanStatus[](ids.length);
        for (uint256 i; i < ids.length; ++i) statuses[i] = loans.loanState(ids[i]).status;
        _splitterHoldsWhatItOwes(ids, statuses);
        _everyContractHoldsWhatItOwes();
        _liensLastAsLongAsTheirLoans(ids, statuses);
        _lockedIsWhatATransferMeets();
    }

    /// @notice No action broke a rule only an action shows (rules 1 to 6, sales in rank order, money in the history).
    function _noActionBrokeARule() internal view {
        string memory broken = w.violation();
        _check(bytes(broken).length == 0, broken);
    }

    /// @notice The splitter holds, to the wei, the commitments of loans in funding, what every other loan still owes
    /// its lenders, the fees not withdrawn, the reserve contributions not collected and the rounding remainders. And a
    /// loss recovered in full is closed: a loan the splitter funded, Defaulted or WrittenOff, with nothing left to
    /// recover, would be a loss made whole that never reached Recovered (and whose collateral never came back).
    function _splitterHoldsWhatItOwes(LoanId[] memory ids, LoanStatus[] memory statuses) internal view {
        uint256 owed = splitter.remaindersOwed();
        for (uint256 i; i < ids.length; ++i) {
            LoanBook memory book = splitter.bookOf(ids[i]);
            if (book.phase == FundingPhase.Funding) owed += book.committed;
            else if (book.phase != FundingPhase.None) owed += uint256(book.lendersIn) - book.lendersPaid;
            if (
                (statuses[i] == LoanStatus.Defaulted || statuses[i] == LoanStatus.WrittenOff) &&
                book.phase == FundingPhase.Funded &&
                waterfall.caseOf(ids[i]).loss != 0
            ) _check(waterfall.recoverable(ids[i]) != 0, "a loss recovered in full stayed open");
        }
        owed += splitter.feesOwed(PLATFORM_A) + splitter.feesOwed(PLATFORM_B);
        owed += splitter.feesOwed(INSURER);
        owed += splitter.reserveOwed(PLATFORM_A) + splitter.reserveOwed(PLATFORM_B);
        _check(token.balanceOf(address(splitter)) == owed, "the splitter holds other than what it owes");
    }

    /// @notice The reserve holds its platforms' positions and the remainders it collected; the insurance holds the
    /// insurers' capital; the loss waterfall holds nothing between calls; the collateral registry holds only the
    /// failed payments it keeps.
    function _everyContractHoldsWhatItOwes() internal view {
        // The fund is shared: a platform's loans may draw on what the others paid in, so only the totals balance.
        uint256 paidIn = w.remaindersCollected();
        uint256 paidOut;
        address[2] memory platforms = [PLATFORM_A, PLATFORM_B];
        for (uint256 i; i < 2; ++i) {
            PlatformPosition memory p = reserve.positionOf(platforms[i]);
            paidIn += uint256(p.contributed) + p.deposited + p.reimbursed;
            paidOut += p.compensated;
        }
        _check(paidOut <= paidIn, "the reserve paid out more than was paid in");
        uint256 reserveOwes = paidIn - paidOut;
        _check(token.balanceOf(address(reserve)) == reserveOwes, "the reserve holds other than it owes");
        _check(
            token.balanceOf(address(insurance)) == insurance.capitalOf(INSURER).capital,
            "the insurance holds other than the insurer's capital"
        );
        _check(token.balanceOf(address(waterfall)) == 0, "the loss waterfall holds tokens between calls");
        uint256 kept = collateral.keptFor(owner) + collateral.keptFor(PLATFORM_A) + collateral.keptFor(PLATFORM_B);
        _check(token.balanceOf(address(collateral)) == kept, "the collateral registry holds unowed tokens");
    }

    /// @notice No lien ends while its loan can still disburse or is owed: a released lien's loan owes nothing (or was
    /// written off and the lien waived), a discharged lien's loan was in loss.
    function _liensLastAsLongAsTheirLoans(LoanId[] memory ids, LoanStatus[] memory statuses) internal view {
        World.LienRef[] memory refs = w.liens();
        for (uint256 i; i < refs.length; ++i) {
            LienStatus lien = collateral.lienOf(refs[i].assetId, ids[refs[i].loan]).status;
            LoanStatus loan = statuses[refs[i].loan];
            bool live = loan == LoanStatus.Funding || loan == LoanStatus.Active || loan == LoanStatus.Late;
            if (lien == LienStatus.Released) {
                _check(!live && loan != LoanStatus.Defaulted, "a lien was released while its loan was owed");
            }
            if (lien == LienStatus.Discharged) _check(!live, "a sale discharged the lien of a live loan");
        }
    }

    /// @notice ERC-5192: an asset says it is locked exactly while a transfer by its owner would be refused (it carries a
    /// lien or is in custody), whoever pledged, released, seized, returned or sold it; a disposed one has no token.
    function _lockedIsWhatATransferMeets() internal view {
        uint256 count = w.assetCount();
        for (uint256 i; i < count; ++i) {
            uint256 assetId = w.assets(i);
            Asset memory asset = collateral.assetOf(assetId);
            if (asset.status == AssetStatus.Disposed) continue;
            bool held = asset.lienCount != 0 || asset.status == AssetStatus.Seized;
            _check(collateral.locked(assetId) == held, "an asset's locked() differs from what a transfer meets");
        }
    }

    function _check(bool holds, string memory rule) internal pure {
        if (!holds) revert RuleBroken(rule);
    }
}
