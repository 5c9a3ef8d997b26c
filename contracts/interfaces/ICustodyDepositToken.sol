// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @notice Which accounts the custody bank knows. Asked by the repayment splitter before principal is disbursed, so that
/// a loan's principal can only go where the bank can pay it out: the borrower's own bank account.
/// @dev Detected by ERC-165: a settlement token that answers for this interface is a custody token, and every
/// disbursement checks its register.
interface ICustodyAccounts {
    /// @notice `account` is not registered with a custody bank that may still service it.
    error CustodyAccountNotRegistered(address account);

    /// @notice Whether `account` is registered with a custody bank that is an active or suspended member.
    function isRegisteredAccount(address account) external view returns (bool);

    /// @notice Reverts with {CustodyAccountNotRegistered} unless {isRegisteredAccount}.
    function requireRegisteredAccount(address account) external view;
}

/// @notice A ledger account registered with a custody bank.
/// @dev One slot and a half: bank (160) | registeredAt (40); accountRef.
struct BankAccount {
    /// @dev The custody bank that registered it: the only one that may change it, issue to it or pay it out.
    address bank;
    uint40 registeredAt;
    /// @dev The bank's own opaque reference of the bank account (a keyed hash of its IBAN or account number, under the
    /// bank's key): never the number itself, which would be personal data.
    bytes32 accountRef;
}

/// @notice The states of a withdrawal, see the table in {ICustodyDepositToken}.
enum WithdrawalStatus {
    None,
    Requested,
    Redeemed,
    Returned
}

/// @notice A holder's request to take tokens off the ledger to its registered bank account.
/// @dev Slot 0: holder (160) | requestedAt (40) | status (8) | returnableAt (40); then bank, amount, accountRef.
struct Withdrawal {
    address holder;
    uint40 requestedAt;
    WithdrawalStatus status;
    /// @dev When the holder may take it back: fixed at the request, so that a later change of the window does not
    /// reach a withdrawal the bank is already paying.
    uint40 returnableAt;
    address bank;
    uint256 amount;
    /// @dev The bank account the money is paid to, as registered when the request was made.
    bytes32 accountRef;
}

/// @notice What a custody bank holds for the ledger.
struct BankBook {
    /// @dev Every token it issued, against credits to its custody account.
    uint128 issued;
    /// @dev Every token it redeemed, against payments out of its custody account.
    uint128 redeemed;
}

/// @title The custody bank's deposit token: the ledger's settlement money
/// @notice An ERC-20 that only custody-bank members of the alliance issue ({ROLE_CUSTODY_BANK}), each token against a
/// credit on the bank's custody account, and that leaves the ledger only when the bank redeems it against a payment to the
/// holder's registered bank account. Both record the bank's reference of the payment: `keccak256` of its ISO 20022
/// end-to-end id (or UETR), once ever for that bank (each bank's references are its own, so that no bank can spend
/// another's, nor squat on one before it). Each bank declares the custody account it keeps the ledger's money in
/// ({setCustodyAccount}), so that a statement of that account is reconciled against that bank's book. So the supply is, by construction, what the banks hold for the ledger
/// ({outstandingOf}), and a bank statement reconciles entry by entry to the {Issued} and {Redeemed} events.
///
/// The standing rule applies: an active custody bank issues and registers accounts; a suspended one keeps servicing
/// (redeems, returns withdrawals, closes accounts); an expelled one does nothing, and its holders' pending withdrawals
/// come back to them when the redemption window passes.
///
/// A withdrawal's lifecycle (every other action reverts with {CustodyWrongWithdrawalStatus}):
///
///     None      → Requested (requestWithdrawal, by a registered holder: the tokens move into escrow here)
///     Requested → Redeemed  (redeem, by the bank of the holder's account, with the reference of its payment: the
///                            tokens are burnt; the bank redeems before it releases the payment)
///     Requested → Returned  (returnWithdrawal, by that bank with a reason, or by the holder once the redemption window
///                            passed: the tokens go back to the holder)
///     Redeemed, Returned: final
///
/// Escrowed tokens stay in the supply until redeemed: the bank still holds their money.
interface ICustodyDepositToken is ICustodyAccounts {
    // ---------------------------------------------------------------- events

    /// @notice Custody bank `bank` issued `amount` to `to` against the credit of reference `bankRef`.
    event Issued(address indexed bank, address indexed to, uint256 amount, bytes32 indexed bankRef);
    /// @notice `holder` asked for `amount` to be paid to its bank account `accountRef` at `bank`.
    event WithdrawalRequested(
        uint256 indexed id,
        address indexed holder,
        address indexed bank,
        uint256 amount,
        bytes32 accountRef
    );
    /// @notice `bank` redeemed withdrawal `id` of `holder`: `amount` burnt against its payment of reference `bankRef`.
    event Redeemed(
        uint256 indexed id,
        address indexed bank,
        address indexed holder,
        uint256 amount,
        bytes32 bankRef,
        bytes32 accountRef
    );
    /// @notice Withdrawal `id` went back to `holder` (`by` the bank, with `reason`, or by the holder, reason zero).
    event WithdrawalReturned(
        uint256 indexed id,
        address indexed holder,
        address indexed by,
        uint256 amount,
        bytes32 reason
    );
    /// @notice `bank` registered `account` as the ledger account of its bank account `accountRef`.
    event AccountRegistered(address indexed account, address indexed bank, bytes32 accountRef);
    /// @notice `bank` closed the registration of `account`.
    event AccountClosed(address indexed account, address indexed bank);
    /// @notice Governance set the redemption window to `window` seconds.
    event RedemptionWindowSet(uint32 window);
    /// @notice `bank` keeps the ledger's money in the custody account of hash `accountHash` (`keccak256` of its IBAN or
    /// the bank's id of it, as its statements write it).
    event CustodyAccountSet(address indexed bank, bytes32 indexed accountHash);

    // ---------------------------------------------------------------- errors

    /// @notice `caller` is not a custody bank member in a standing that allows this.
    error CustodyNotBank(address caller);
    /// @notice `caller` is not the alliance's governance.
    error CustodyNotGovernance(address caller);
    /// @notice `caller` may not act on `account` or withdrawal: it belongs to `bank`.
    error CustodyNotAccountBank(address caller, address bank);
    error CustodyZeroAddress();
    error CustodyZeroAmount();
    /// @notice Issuing and redeeming need the bank's payment reference.
    error CustodyMissingReference();
    /// @notice `bank` used `bankRef` for an issue or a redemption before: one bank payment backs one movement.
    error CustodyReferenceUsed(address bank, bytes32 bankRef);
    /// @notice Custody account `accountHash` is `bank`'s already.
    error CustodyAccountTaken(bytes32 accountHash, address bank);
    /// @notice Withdrawal `id` is `status`, not Requested.
    error CustodyWrongWithdrawalStatus(uint256 id, WithdrawalStatus status);
    /// @notice Only withdrawal `id`'s holder `holder` may take it back.
    error CustodyNotHolder(uint256 id, address holder);
    /// @notice Withdrawal `id` may be taken back by its holder from `returnableAt` on; it is `nowTime`.
    error CustodyRedemptionWindowOpen(uint256 id, uint256 returnableAt, uint256 nowTime);
    /// @notice `bank` holds `outstanding` for the ledger: it cannot redeem `amount`.
    error CustodyBankShort(address bank, uint256 outstanding, uint256 amount);
    /// @notice `window` is outside 1 hour to 30 days.
    error CustodyRedemptionWindowOutOfRange(uint32 window);

    // ---------------------------------------------------------------- the bank

    /// @notice Issues `amount` to `to`, a ledger account registered with the calling bank, against the credit of
    /// reference `bankRef` on the bank's custody account. An active custody bank only; each reference once.
    function issue(address to, uint256 amount, bytes32 bankRef) external;

    /// @notice Burns withdrawal `id` against the bank's payment of reference `bankRef` to the holder's registered
    /// account. The withdrawal's bank, active or suspended; each reference once.
    function redeem(uint256 id, bytes32 bankRef) external;

    /// @notice Gives withdrawal `id` back to its holder, for `reason` (the bank could not pay). Its bank, active or
    /// suspended.
    function returnWithdrawal(uint256 id, bytes32 reason) external;

    /// @notice Registers `account` as the ledger account of the calling bank's account `accountRef`. An active custody
    /// bank, for an account not registered with another bank that may still service it.
    function registerAccount(address account, bytes32 accountRef) external;

    /// @notice Ends the registration of `account`. Its bank (active or suspended) or governance.
    function closeAccount(address account) external;

    /// @notice Declares the custody account the calling bank keeps the ledger's money in, by the hash of its id. An
    /// active custody bank; an account no other bank declared.
    function setCustodyAccount(bytes32 accountHash) external;

    // ---------------------------------------------------------------- holders

    /// @notice Asks for `amount` of the caller's tokens to be paid to its registered bank account. The tokens move into
    /// escrow until the bank redeems or returns them.
    function requestWithdrawal(uint256 amount) external returns (uint256 id);

    /// @notice Takes back withdrawal `id` that its bank did not redeem within the redemption window. Its holder only.
    function reclaimWithdrawal(uint256 id) external;

    // ---------------------------------------------------------------- governance

    /// @notice Sets how long a bank has to redeem a withdrawal before its holder may take it back. Governance only.
    function setRedemptionWindow(uint32 window) external;

    // ---------------------------------------------------------------- views

    /// @notice The registration of `account` (zero bank if none).
    function accountOf(address account) external view returns (BankAccount memory);

    /// @notice What `bank` issued and redeemed.
    function bookOf(address bank) external view returns (BankBook memory);

    /// @notice What `bank` holds for the ledger: issued less redeemed. The supply is the sum over banks.
    function outstandingOf(address bank) external view returns (uint256);

    /// @notice Whether `bank` used `bankRef` for an issue or a redemption already.
    function isReferenceUsed(address bank, bytes32 bankRef) external view returns (bool);

    /// @notice The hash of the custody account `bank` declared (zero if none).
    function custodyAccountOf(address bank) external view returns (bytes32);

    /// @notice The bank that declared custody account `accountHash` (zero if none).
    function bankOfCustodyAccount(bytes32 accountHash) external view returns (address);

    /// @notice Withdrawal `id`.
    function withdrawalOf(uint256 id) external view returns (Withdrawal memory);

    /// @notice Withdrawals requested so far; ids run from 1.
    function withdrawalCount() external view returns (uint256);

    /// @notice Seconds a bank has to redeem or return a withdrawal before its holder may take it back.
    function redemptionWindow() external view returns (uint32);
}
