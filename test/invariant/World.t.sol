// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {
    IAllianceRegistry,
    ROLE_PLATFORM,
    ROLE_INSURER,
    ROLE_CUSTODIAN
} from "../../contracts/interfaces/IAllianceRegistry.sol";
import {ILoanRegistry, LoanId, LoanTerms, AlliancePolicy} from "../../contracts/interfaces/ILoanRegistry.sol";
import {ILoanConsent} from "../../contracts/interfaces/ILoanConsent.sol";
import {ILoanSuccession} from "../../contracts/interfaces/ILoanSuccession.sol";
import {IRepaymentSplitter, FeeCaps} from "../../contracts/interfaces/IRepaymentSplitter.sol";
import {IRiskReserveFund, ReservePolicy} from "../../contracts/interfaces/IRiskReserveFund.sol";
import {ICreditInsurance} from "../../contracts/interfaces/ICreditInsurance.sol";
import {ILossWaterfall} from "../../contracts/interfaces/ILossWaterfall.sol";
import {ICollateralRegistry, AssetClass} from "../../contracts/interfaces/ICollateralRegistry.sol";

/// @notice The cheatcodes the invariant campaign uses (the runner serves them at this address).
interface Vm {
    function prank(address sender) external;
    function warp(uint256 timestamp) external;
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function addr(uint256 privateKey) external pure returns (address);
    /// @dev The creation code of a compiled contract, its libraries linked: the suite is deployed from the build's own
    /// artifacts, so that this test compiles only interfaces (compiling the suite again would cost minutes).
    function getCode(string calldata artifact) external view returns (bytes memory);
}

/// @notice The stand-in settlement token: an ERC-20 anyone may mint in tests.
interface IMockToken is IERC20 {
    function mint(address to, uint256 amount) external;
}

/// @notice A contract of the suite did not deploy.
error DeploymentFailed(string artifact);

/// @dev Deploys `artifact` (as "File.sol:Contract") with its ABI-encoded constructor arguments.
function deploy(string memory artifact, bytes memory args) returns (address deployed) {
    bytes memory code = abi.encodePacked(VM.getCode(artifact), args);
    assembly ("memory-safe") {
        deployed := create(0, add(code, 32), mload(code))
    }
    if (deployed == address(0)) revert DeploymentFailed(artifact);
}

/// @dev The campaign's members. Platform A services honestly; platform B is the hostile one (its handler also aims at
/// A's loans). File-level, so that reading them costs the campaign no call.
address constant PLATFORM_A = address(0xA11CE);
address constant PLATFORM_B = address(0xB0B0B);
address constant INSURER = address(0x1A5);
address constant CUSTODIAN = address(0xC05D);
address constant OUTSIDER = address(0x0DD);
/// @dev The borrower's key: it owns the collateral and signs its consents.
uint256 constant OWNER_KEY = 0xB0B;

Vm constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

/// @title World: the suite, its members, and what the campaign has made so far
/// @notice One deployment of the whole suite with its actors, shared by every actor's handler, and the campaign's
/// ghost records: the loans and liens made, when each loan was anchored and each appointment made, what the reserve
/// collected that no platform contributed, and the first rule an action was seen to break (a handler records it, an
/// invariant reports it: the runner does not treat a handler's revert as a failure).
contract World {
    uint256 public constant UNIT = 1e18;
    uint32 public constant SALE_WINDOW = 1 days;

    IAllianceRegistry public immutable alliance;
    ILoanRegistry public immutable loans;
    ILoanConsent public immutable consent;
    ILoanSuccession public immutable succession;
    IRepaymentSplitter public immutable splitter;
    ICollateralRegistry public immutable collateral;
    ILossWaterfall public immutable waterfall;
    ICreditInsurance public immutable insurance;
    IRiskReserveFund public immutable reserve;
    IMockToken public immutable token;

    address public immutable governance;
    address public immutable owner;
    address[3] public lenders = [address(0x1E1), address(0x1E2), address(0x1E3)];

    LoanTerms[] internal _loans;
    LoanId[] internal _ids;
    mapping(uint256 index => uint256) public anchoredAt;
    uint256[] public assets;
    struct LienRef {
        uint256 assetId;
        uint256 loan;
        uint8 priority;
    }
    LienRef[] internal _liens;
    mapping(address platform => uint256) public appointedAt;
    uint256 public remaindersCollected;
    string public violation;

    constructor() {
        governance = address(this);
        owner = VM.addr(OWNER_KEY);
        alliance = IAllianceRegistry(deploy("AllianceRegistry.sol:AllianceRegistry", abi.encode(0, address(this))));
        loans = ILoanRegistry(deploy("LoanRegistry.sol:LoanRegistry", abi.encode(alliance)));
        consent = ILoanConsent(address(loans));
        succession = ILoanSuccession(address(loans));
        // MockToken.Behaviour.Standard.
        token = IMockToken(deploy("MockToken.sol:MockToken", abi.encode(0)));
        splitter = IRepaymentSplitter(
            deploy(
                "RepaymentSplitter.sol:RepaymentSplitter",
                abi.encode(alliance, loans, token, address(this), FeeCaps(300, 200, 100))
            )
        );
        insurance = ICreditInsurance(
            deploy("CreditInsurance.sol:CreditInsurance", abi.encode(alliance, loans, splitter))
        );
        reserve = IRiskReserveFund(
            deploy(
                "RiskReserveFund.sol:RiskReserveFund",
                abi.encode(alliance, splitter, ReservePolicy(5_000, uint128(50_000 * UNIT), 30_000, 20 days, 1))
            )
        );
        waterfall = ILossWaterfall(
            deploy("LossWaterfall.sol:LossWaterfall", abi.encode(alliance, loans, splitter, insurance, reserve))
        );
        collateral = ICollateralRegistry(
            deploy("CollateralRegistry.sol:CollateralRegistry", abi.encode(alliance, loans, splitter, waterfall))
        );
        loans.setSystemPowers(address(splitter), 3);
        loans.setSystemPowers(address(waterfall), 2);
        loans.setSystemPowers(address(collateral), 2);
        splitter.setReserve(address(reserve));
        splitter.setWaterfall(address(waterfall));
        splitter.setInsurance(address(insurance));
        splitter.setCollateral(address(collateral));
        insurance.setWaterfall(address(waterfall));
        reserve.setWaterfall(address(waterfall));
        collateral.setSaleRules(SALE_WINDOW, 2_000);
        // A day's public delay, so that the public's late marks and defaults happen within a campaign.
        loans.setAlliancePolicy(
            AlliancePolicy({maxOpenLoans: 0, maxOutstandingPrincipal: 0, publicDefaultDelay: 1 days})
        );

        alliance.admitMember(PLATFORM_A, ROLE_PLATFORM, "A");
        alliance.admitMember(PLATFORM_B, ROLE_PLATFORM, "B");
        alliance.admitMember(INSURER, ROLE_INSURER, "I");
        alliance.admitMember(CUSTODIAN, ROLE_CUSTODIAN, "C");
        VM.warp(1_800_000_000);
        for (uint256 i; i < 3; ++i) {
            VM.prank(PLATFORM_A);
            alliance.allowLender(lenders[i], uint40(block.timestamp + 3650 days));
            _fundAndApprove(lenders[i]);
        }
        address[5] memory payers = [PLATFORM_A, PLATFORM_B, INSURER, owner, OUTSIDER];
        for (uint256 i; i < 5; ++i) _fundAndApprove(payers[i]);
        // Three assets of the owner, registered by platform A.
        for (uint256 i; i < 3; ++i) {
            uint256 assetId = uint256(keccak256(abi.encode("asset", i)));
            VM.prank(PLATFORM_A);
            collateral.registerCollateral(assetId, owner, AssetClass.Vehicle, 100_000 * UNIT, keccak256("appraisal"));
            assets.push(assetId);
        }
    }

    function _fundAndApprove(address account) private {
        token.mint(account, 10_000_000 * UNIT);
        address[5] memory spenders = [
            address(splitter),
            address(collateral),
            address(waterfall),
            address(insurance),
            address(reserve)
        ];
        for (uint256 i; i < 5; ++i) {
            VM.prank(account);
            token.approve(spenders[i], type(uint256).max);
        }
    }

    // ---------------------------------------------------------------- records the handlers keep

    /// @notice Governance's own calls (the World is governance): only governance's handler asks.
    function asGovernance(address target, bytes calldata data) external returns (bool ok, bytes memory result) {
        (ok, result) = target.call(data);
    }

    function addLoan(LoanTerms calldata terms) external returns (uint256 index) {
        _loans.push(terms);
        _ids.push(LoanId.wrap(uint256(keccak256(abi.encode(terms)))));
        index = _loans.length - 1;
        anchoredAt[index] = block.timestamp;
    }

    function addLien(uint256 assetId, uint256 loanIndex, uint8 priority) external {
        _liens.push(LienRef(assetId, loanIndex, priority));
    }

    function appointed(address platform) external {
        appointedAt[platform] = block.timestamp;
    }

    function collected(uint256 remainders) external {
        remaindersCollected += remainders;
    }

    /// @notice How many times each kind of action went through: what a campaign reached.
    mapping(bytes32 kind => uint256) public reached;

    function did(string calldata kind) external {
        reached[keccak256(bytes(kind))] += 1;
    }

    /// @notice Records the first rule a handler saw broken.
    function broke(string calldata rule) external {
        if (bytes(violation).length == 0) violation = rule;
    }

    // ---------------------------------------------------------------- reads

    function loanCount() external view returns (uint256) {
        return _loans.length;
    }

    function loan(uint256 index) external view returns (LoanTerms memory) {
        return _loans[index];
    }

    function loanId(uint256 index) public view returns (LoanId) {
        return _ids[index];
    }

    function lienCount() external view returns (uint256) {
        return _liens.length;
    }

    function lien(uint256 index) external view returns (LienRef memory) {
        return _liens[index];
    }

    /// @notice Every loan id and lien at once: the invariants read them after every call, one call each.
    function loanIds() external view returns (LoanId[] memory) {
        return _ids;
    }

    function liens() external view returns (LienRef[] memory) {
        return _liens;
    }

    function assetCount() external view returns (uint256) {
        return assets.length;
    }

    function lender(uint256 index) external view returns (address) {
        return lenders[index % 3];
    }
}
