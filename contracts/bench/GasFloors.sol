// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ILoanRegistry, LoanId, LoanTerms, computeLoanId} from "../interfaces/ILoanRegistry.sol";
import {IRepaymentSplitter, Split} from "../interfaces/IRepaymentSplitter.sol";

/// @title The gas benchmark's floors
/// @notice Not part of the suite and never deployed on a network. For each operation `npm run bench` measures, the
/// work that no design of it can avoid: the same calldata, the loan id's hash, the token transfers, one storage write
/// for each fact the ledger must keep, and the same event. The benchmark prints each operation beside its floor, so
/// that what is left to win is a number, not a guess.
/// @dev Unchecked, unguarded and without any rule, on purpose: a floor, not a contract anyone could use.
contract GasFloors {
    IERC20 private immutable _TOKEN;
    bytes32 private immutable _DOMAIN;
    bytes32 private constant _AGREEMENT = keccak256("LoanAgreement(uint256 loanId,uint256 deadline)");

    /// @dev One slot per loan: its state, as anchoring writes it and a repayment updates it.
    mapping(LoanId loanId => uint256) private _loans;
    /// @dev One slot per borrower: the cross-platform exposure anchoring adds to.
    mapping(bytes32 borrowerRef => uint256) private _exposure;
    /// @dev One slot per lender: what it was paid so far, which a payout adds to.
    mapping(address lender => uint256) private _paid;
    /// @dev One slot per lender: what it may claim, which a claim empties.
    mapping(address lender => uint256) private _claimable;

    error GasFloorsSignedByItself();

    constructor(IERC20 token) {
        _TOKEN = token;
        _DOMAIN = keccak256(abi.encode(block.chainid, address(this)));
    }

    /// @notice Anchoring a loan: its id, its slot, its borrower's exposure slot and its event.
    function anchor(LoanTerms calldata terms) external {
        _anchor(terms);
    }

    /// @notice Anchoring a book: {anchor} for each loan, in one transaction.
    function anchorMany(LoanTerms[] calldata book) external {
        for (uint256 i = 0; i < book.length; ++i) _anchor(book[i]);
    }

    /// @notice Anchoring a co-signed loan: {anchor}, and the borrower's EIP-712 signature of it recovered.
    function anchorSigned(LoanTerms calldata terms, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external {
        _signed(terms, deadline, v, r, s);
    }

    /// @notice Anchoring a co-signed book: {anchorSigned} for each loan, in one transaction.
    function anchorSignedMany(
        LoanTerms[] calldata book,
        uint256 deadline,
        uint8[] calldata v,
        bytes32[] calldata r,
        bytes32[] calldata s
    ) external {
        for (uint256 i = 0; i < book.length; ++i) _signed(book[i], deadline, v[i], r[i], s[i]);
    }

    /// @notice A repayment: the payer's tokens in, the loan's slot updated and the split's event.
    function repay(LoanTerms calldata terms, uint256 amount, bytes32 bankRef) external {
        LoanId loanId = computeLoanId(terms);
        _TOKEN.transferFrom(msg.sender, address(this), amount);
        _loans[loanId] += amount;
        Split memory split;
        split.interest = amount / 10;
        split.principal = amount - split.interest;
        split.lateInterest = uint256(bankRef) & 1;
        emit IRepaymentSplitter.RepaymentSplit(loanId, msg.sender, 1, amount, split);
    }

    /// @notice A payout to `lenders`: for each, what it was paid so far updated and its tokens sent; one event.
    function payout(LoanId loanId, address[] calldata lenders) external {
        uint256 paid;
        for (uint256 i = 0; i < lenders.length; ++i) {
            uint256 amount = 1e18 + i;
            _paid[lenders[i]] += amount;
            _TOKEN.transfer(lenders[i], amount);
            paid += amount;
        }
        emit IRepaymentSplitter.PayoutsPushed(loanId, msg.sender, lenders.length, paid, 0, abi.encodePacked(lenders));
    }

    /// @notice A lender's claim on loans: what it may claim emptied and sent; one event.
    function claim(LoanId[] calldata loanIds, address to) external returns (uint256 amount) {
        amount = _claimable[msg.sender];
        _claimable[msg.sender] = 0;
        _TOKEN.transfer(to, amount);
        emit IRepaymentSplitter.Claimed(loanIds[0], msg.sender, to, amount);
    }

    /// @notice Sets what `lender` may claim (the state a repayment leaves behind), outside the measured call.
    function owe(address lender, uint256 amount) external {
        _claimable[lender] = amount;
    }

    function _anchor(LoanTerms calldata terms) private {
        LoanId loanId = computeLoanId(terms);
        _loans[loanId] = 1 | (block.timestamp << 8);
        _exposure[terms.borrowerRef] += terms.principal;
        emit ILoanRegistry.LoanAnchored(
            loanId,
            terms.platform,
            terms.borrowerRef,
            terms,
            uint40(block.timestamp),
            bytes32(LoanId.unwrap(loanId))
        );
    }

    function _signed(LoanTerms calldata terms, uint256 deadline, uint8 v, bytes32 r, bytes32 s) private {
        bytes32 digest = keccak256(
            abi.encodePacked("\x19\x01", _DOMAIN, keccak256(abi.encode(_AGREEMENT, computeLoanId(terms), deadline)))
        );
        // The floor does not judge the signer, it only pays for finding it (no key makes this contract's address).
        if (ecrecover(digest, v, r, s) == address(this)) revert GasFloorsSignedByItself();
        _anchor(terms);
    }
}
