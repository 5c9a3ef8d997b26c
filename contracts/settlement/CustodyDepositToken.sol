// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IAllianceRegistry, ROLE_CUSTODY_BANK} from "../interfaces/IAllianceRegistry.sol";
import {
    ICustodyAccounts,
    ICustodyDepositToken,
    BankAccount,
    BankBook,
    Withdrawal,
    WithdrawalStatus
} from "../interfaces/ICustodyDepositToken.sol";

/// @title CustodyDepositToken
/// @notice See {ICustodyDepositToken}.
/// @dev Tokens are minted only in {issue} and burnt only in {redeem}, each against a bank book, so the supply equals the
/// sum of what the banks hold for the ledger at every block. The token calls no other contract than the alliance
/// registry and itself, so nothing re-enters it; the guard is there for the rule, at little cost.
contract CustodyDepositToken is ICustodyDepositToken, ERC20, IERC165, ReentrancyGuardTransient {
    uint32 private constant MIN_WINDOW = 1 hours;
    uint32 private constant MAX_WINDOW = 30 days;

    IAllianceRegistry public immutable ALLIANCE;

    mapping(address account => BankAccount) private _accounts;
    mapping(address bank => BankBook) private _books;
    mapping(address bank => mapping(bytes32 bankRef => bool)) private _usedRefs;
    mapping(address bank => bytes32 accountHash) private _custodyAccounts;
    mapping(bytes32 accountHash => address bank) private _custodyBanks;
    mapping(uint256 id => Withdrawal) private _withdrawals;
    uint256 private _withdrawalCount;
    uint32 private _redemptionWindow;

    constructor(
        IAllianceRegistry alliance,
        string memory name_,
        string memory symbol_,
        uint32 redemptionWindow_
    ) ERC20(name_, symbol_) {
        if (address(alliance) == address(0)) revert CustodyZeroAddress();
        ALLIANCE = alliance;
        _setRedemptionWindow(redemptionWindow_);
    }

    // ---------------------------------------------------------------- the bank

    /// @inheritdoc ICustodyDepositToken
    function issue(address to, uint256 amount, bytes32 bankRef) external nonReentrant {
        if (!ALLIANCE.isActiveMember(msg.sender, ROLE_CUSTODY_BANK)) revert CustodyNotBank(msg.sender);
        // Money enters the ledger only for an account the bank knows, so it can always leave it again.
        address bank = _accounts[to].bank;
        if (bank == address(0)) revert CustodyAccountNotRegistered(to);
        if (bank != msg.sender) revert CustodyNotAccountBank(msg.sender, bank);
        if (amount == 0) revert CustodyZeroAmount();
        _useReference(msg.sender, bankRef);
        BankBook storage book = _books[msg.sender];
        // A supply beyond 2^128 wei is no bank's balance.
        book.issued = SafeCast.toUint128(uint256(book.issued) + amount);
        emit Issued(msg.sender, to, amount, bankRef);
        _mint(to, amount);
    }

    /// @inheritdoc ICustodyDepositToken
    function redeem(uint256 id, bytes32 bankRef) external nonReentrant {
        Withdrawal storage withdrawal = _requested(id);
        address bank = withdrawal.bank;
        _requireServicingBank(bank);
        uint256 amount = withdrawal.amount;
        BankBook storage book = _books[bank];
        uint256 outstanding = uint256(book.issued) - book.redeemed;
        // A bank pays out only what it holds for the ledger: another bank's deposits are not its money.
        if (amount > outstanding) revert CustodyBankShort(bank, outstanding, amount);
        _useReference(bank, bankRef);
        withdrawal.status = WithdrawalStatus.Redeemed;
        // Fits: at most what the bank issued, itself 128 bits.
        book.redeemed += uint128(amount);
        emit Redeemed(id, bank, withdrawal.holder, amount, bankRef, withdrawal.accountRef);
        _burn(address(this), amount);
    }

    /// @inheritdoc ICustodyDepositToken
    function returnWithdrawal(uint256 id, bytes32 reason) external nonReentrant {
        Withdrawal storage withdrawal = _requested(id);
        _requireServicingBank(withdrawal.bank);
        _return(id, withdrawal, reason);
    }

    /// @inheritdoc ICustodyDepositToken
    function registerAccount(address account, bytes32 accountRef) external {
        if (!ALLIANCE.isActiveMember(msg.sender, ROLE_CUSTODY_BANK)) revert CustodyNotBank(msg.sender);
        if (account == address(0) || account == address(this)) revert CustodyZeroAddress();
        if (accountRef == bytes32(0)) revert CustodyMissingReference();
        address bank = _accounts[account].bank;
        // An account moves to another bank only once its own bank can no longer service it.
        if (bank != address(0) && bank != msg.sender && ALLIANCE.isServicingMember(bank, ROLE_CUSTODY_BANK)) {
            revert CustodyNotAccountBank(msg.sender, bank);
        }
        // Timestamps fit 40 bits until the year 36 812.
        _accounts[account] = BankAccount({
            bank: msg.sender,
            registeredAt: uint40(block.timestamp),
            accountRef: accountRef
        });
        emit AccountRegistered(account, msg.sender, accountRef);
    }

    /// @inheritdoc ICustodyDepositToken
    function closeAccount(address account) external {
        address bank = _accounts[account].bank;
        if (bank == address(0)) revert CustodyAccountNotRegistered(account);
        if (!ALLIANCE.isGovernance(msg.sender)) {
            if (msg.sender != bank) revert CustodyNotAccountBank(msg.sender, bank);
            _requireServicingBank(bank);
        }
        delete _accounts[account];
        emit AccountClosed(account, bank);
    }

    /// @inheritdoc ICustodyDepositToken
    function setCustodyAccount(bytes32 accountHash) external {
        if (!ALLIANCE.isActiveMember(msg.sender, ROLE_CUSTODY_BANK)) revert CustodyNotBank(msg.sender);
        if (accountHash == bytes32(0)) revert CustodyMissingReference();
        address holder = _custodyBanks[accountHash];
        if (holder != address(0) && holder != msg.sender) revert CustodyAccountTaken(accountHash, holder);
        delete _custodyBanks[_custodyAccounts[msg.sender]];
        _custodyAccounts[msg.sender] = accountHash;
        _custodyBanks[accountHash] = msg.sender;
        emit CustodyAccountSet(msg.sender, accountHash);
    }

    // ---------------------------------------------------------------- holders

    /// @inheritdoc ICustodyDepositToken
    function requestWithdrawal(uint256 amount) external nonReentrant returns (uint256 id) {
        BankAccount storage account = _accounts[msg.sender];
        address bank = account.bank;
        if (bank == address(0) || !ALLIANCE.isServicingMember(bank, ROLE_CUSTODY_BANK)) {
            revert CustodyAccountNotRegistered(msg.sender);
        }
        if (amount == 0) revert CustodyZeroAmount();
        id = ++_withdrawalCount;
        // Timestamps fit 40 bits until the year 36 812.
        _withdrawals[id] = Withdrawal({
            holder: msg.sender,
            requestedAt: uint40(block.timestamp),
            status: WithdrawalStatus.Requested,
            returnableAt: uint40(block.timestamp + _redemptionWindow),
            bank: bank,
            amount: amount,
            accountRef: account.accountRef
        });
        emit WithdrawalRequested(id, msg.sender, bank, amount, account.accountRef);
        // Into escrow, past the guard of {_update} that keeps every other transfer out of it.
        ERC20._update(msg.sender, address(this), amount);
    }

    /// @inheritdoc ICustodyDepositToken
    function reclaimWithdrawal(uint256 id) external nonReentrant {
        Withdrawal storage withdrawal = _requested(id);
        if (msg.sender != withdrawal.holder) revert CustodyNotHolder(id, withdrawal.holder);
        uint256 returnableAt = withdrawal.returnableAt;
        if (block.timestamp < returnableAt) revert CustodyRedemptionWindowOpen(id, returnableAt, block.timestamp);
        _return(id, withdrawal, bytes32(0));
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc ICustodyDepositToken
    function setRedemptionWindow(uint32 window) external {
        if (!ALLIANCE.isGovernance(msg.sender)) revert CustodyNotGovernance(msg.sender);
        _setRedemptionWindow(window);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICustodyAccounts
    function isRegisteredAccount(address account) public view returns (bool) {
        address bank = _accounts[account].bank;
        return bank != address(0) && ALLIANCE.isServicingMember(bank, ROLE_CUSTODY_BANK);
    }

    /// @inheritdoc ICustodyAccounts
    function requireRegisteredAccount(address account) external view {
        if (!isRegisteredAccount(account)) revert CustodyAccountNotRegistered(account);
    }

    /// @inheritdoc ICustodyDepositToken
    function accountOf(address account) external view returns (BankAccount memory) {
        return _accounts[account];
    }

    /// @inheritdoc ICustodyDepositToken
    function bookOf(address bank) external view returns (BankBook memory) {
        return _books[bank];
    }

    /// @inheritdoc ICustodyDepositToken
    function outstandingOf(address bank) external view returns (uint256) {
        BankBook storage book = _books[bank];
        return uint256(book.issued) - book.redeemed;
    }

    /// @inheritdoc ICustodyDepositToken
    function isReferenceUsed(address bank, bytes32 bankRef) external view returns (bool) {
        return _usedRefs[bank][bankRef];
    }

    /// @inheritdoc ICustodyDepositToken
    function custodyAccountOf(address bank) external view returns (bytes32) {
        return _custodyAccounts[bank];
    }

    /// @inheritdoc ICustodyDepositToken
    function bankOfCustodyAccount(bytes32 accountHash) external view returns (address) {
        return _custodyBanks[accountHash];
    }

    /// @inheritdoc ICustodyDepositToken
    function withdrawalOf(uint256 id) external view returns (Withdrawal memory) {
        return _withdrawals[id];
    }

    /// @inheritdoc ICustodyDepositToken
    function withdrawalCount() external view returns (uint256) {
        return _withdrawalCount;
    }

    /// @inheritdoc ICustodyDepositToken
    function redemptionWindow() external view returns (uint32) {
        return _redemptionWindow;
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return
            interfaceId == type(ICustodyAccounts).interfaceId ||
            interfaceId == type(ICustodyDepositToken).interfaceId ||
            interfaceId == type(IERC165).interfaceId;
    }

    // ---------------------------------------------------------------- internals

    /// @dev Escrowed tokens are this contract's balance, and only {requestWithdrawal} puts them there: a token sent to
    /// it any other way would belong to no withdrawal and could never leave.
    function _update(address from, address to, uint256 value) internal override {
        if (to == address(this)) revert ERC20InvalidReceiver(to);
        super._update(from, to, value);
    }

    function _useReference(address bank, bytes32 bankRef) private {
        if (bankRef == bytes32(0)) revert CustodyMissingReference();
        if (_usedRefs[bank][bankRef]) revert CustodyReferenceUsed(bank, bankRef);
        _usedRefs[bank][bankRef] = true;
    }

    function _requested(uint256 id) private view returns (Withdrawal storage withdrawal) {
        withdrawal = _withdrawals[id];
        if (withdrawal.status != WithdrawalStatus.Requested) revert CustodyWrongWithdrawalStatus(id, withdrawal.status);
    }

    /// @dev An expelled bank services nothing; its holders reclaim their withdrawals once the window passes.
    function _requireServicingBank(address bank) private view {
        if (msg.sender != bank) revert CustodyNotAccountBank(msg.sender, bank);
        if (!ALLIANCE.isServicingMember(bank, ROLE_CUSTODY_BANK)) revert CustodyNotBank(msg.sender);
    }

    function _return(uint256 id, Withdrawal storage withdrawal, bytes32 reason) private {
        withdrawal.status = WithdrawalStatus.Returned;
        address holder = withdrawal.holder;
        uint256 amount = withdrawal.amount;
        emit WithdrawalReturned(id, holder, msg.sender, amount, reason);
        _transfer(address(this), holder, amount);
    }

    function _setRedemptionWindow(uint32 window) private {
        if (window < MIN_WINDOW || window > MAX_WINDOW) revert CustodyRedemptionWindowOutOfRange(window);
        _redemptionWindow = window;
        emit RedemptionWindowSet(window);
    }
}
